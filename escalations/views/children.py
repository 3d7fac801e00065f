"""A child's chronology across the cases the person may see, and marking a notice read."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from escalations.deadlines import notification_mark_read
from escalations.models import Notification, Party
from escalations.presenters import age_on, child_label
from escalations.selectors import child_get_for, differences_about_child
from escalations.views.lists import stage_label
from records.models import Entry


@login_required
@require_safe
def child_chronology(request: HttpRequest, child_pk: int) -> HttpResponse:
    """Every case the person may see about this child (the same name and date of birth),
    oldest first, each with its chronology. 404 if they may see no case about the child."""
    user: Any = request.user
    child = child_get_for(user, child_pk)
    cases = list(
        differences_about_child(user, child)
        .select_related("category")
        .prefetch_related(
            "children",
            Prefetch("parties", queryset=Party.objects.select_related("agency")),
            Prefetch(
                "entries",
                queryset=Entry.objects.select_related("corrects").order_by(
                    "occurred_at", "created_at", "pk"
                ),
            ),
        )
        .order_by("raised_at", "pk")
    )
    today = timezone.localdate()
    sections = [
        {
            "case": case,
            "stage_label": stage_label(case.stage),
            "children": [
                {"pk": other.pk, "label": child_label(other, today)}
                for other in case.children.all()
            ],
            "other_agencies": [p.agency.name for p in case.parties.all() if not p.is_raising],
            "entries": list(case.entries.all()),
        }
        for case in cases
    ]
    context = {
        "child": child,
        "age": age_on(child.date_of_birth, today),
        "sections": sections,
    }
    return render(request, "escalations/child_chronology.html", context)


@login_required
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one of the person's own notices read (anyone else's is a 404)."""
    user: Any = request.user
    if not Notification.objects.filter(pk=pk, recipient=user).exists():
        raise Http404("No such notification.")
    notification_mark_read(actor=user, notification_id=pk)
    messages.success(request, "Notification marked as read.")
    return redirect("home")


urlpatterns: list[URLPattern] = [
    path("children/<int:child_pk>/", child_chronology, name="child_chronology"),
    path("notifications/<int:pk>/read/", notification_read, name="notification_read"),
]
