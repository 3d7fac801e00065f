"""The home page: the person's unread notices, the cases waiting for them, the cases they
raised and, for managers, leads and the business manager, their agency's cases.

Each section is one query plus a constant number of prefetches, whatever its length.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.views.decorators.http import require_safe

from escalations.selectors import (
    agency_oversight_scope,
    differences_of_my_agencies,
    differences_raised_by,
    differences_waiting_for,
    differences_with_due_at,
    list_facts,
    notifications_unread_for,
)
from escalations.views.lists import ROW_COLUMNS, case_rows

SECTION_SIZE = 20
NOTIFICATIONS_SHOWN = 20


def _first(queryset: Any, size: int) -> tuple[list[Any], bool]:
    """The first ``size`` rows and whether there are more (reads one extra row, no count)."""
    cases = list(queryset.only(*ROW_COLUMNS)[: size + 1])
    return cases[:size], len(cases) > size


@login_required
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """The person's home page."""
    user: Any = request.user
    waiting, more_waiting = _first(
        differences_with_due_at(differences_waiting_for(user)).order_by(
            F("due_at").asc(nulls_last=True), "raised_at", "pk"
        ),
        SECTION_SIZE,
    )
    mine, more_mine = _first(differences_raised_by(user), SECTION_SIZE)
    agencies, partnerships = agency_oversight_scope(user)
    oversees = bool(agencies or partnerships)
    agency_cases: list[Any] = []
    more_agency_cases = False
    if oversees:
        agency_cases, more_agency_cases = _first(differences_of_my_agencies(user), SECTION_SIZE)
    # The three lists' facts in one set of queries.
    facts = list_facts([*waiting, *mine, *agency_cases])
    context = {
        "notifications": notifications_unread_for(user, NOTIFICATIONS_SHOWN),
        "waiting": case_rows(waiting, facts=facts),
        "more_waiting": more_waiting,
        "mine": case_rows(mine, facts=facts),
        "more_mine": more_mine,
        "oversees": oversees,
        "agency_cases": case_rows(agency_cases, facts=facts),
        "more_agency_cases": more_agency_cases,
        "section_size": SECTION_SIZE,
    }
    return render(request, "escalations/home.html", context)


urlpatterns: list[URLPattern] = [path("", home, name="home")]
