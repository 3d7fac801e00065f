"""Pages for partnership administrators: the access log, retention (legal holds and
anonymisation) and subject access exports. Everyone else gets 404, as for a case they may
not see; an administrator sees only their own partnerships' records."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from accounts.reauthentication import require_recent_reauthentication
from agencies.models import Partnership
from agencies.selectors import partnerships_administered_by
from escalations.errors import DifferenceRefused
from escalations.models import Child, ProfessionalDifference
from records import pdf, retention, subject_access
from records.access_log import PARTNERSHIP_ATTRIBUTE
from records.admin import access_events_of_partnerships
from records.forms import (
    AccessLogFilterForm,
    AnonymiseConfirmForm,
    CaseReferenceForm,
    LegalHoldForm,
    SubjectAccessSearchForm,
)
from records.models import AccessEvent
from records.services import audit_record
from records.views import _too_slow, pdf_response

logger = logging.getLogger(__name__)

PAGE_SIZE = 50
NO_SUCH_CASE = "No case in your partnership has that reference"


def _administered(request: HttpRequest) -> list[Partnership]:
    """The partnerships the person administers; 404 when none."""
    ids = partnerships_administered_by(request.user)
    if not ids:
        raise Http404("No such page.")
    return list(Partnership.objects.filter(pk__in=ids).order_by("name"))


def _name(user: Any) -> str:
    return (user.get_full_name() or user.get_username()).strip()


# -- the access log --------------------------------------------------------------------------


def access_events_of_partnership(partnership_id: int) -> Any:
    """Every access entry about the partnership: its cases, its children's pages, and pages
    that named it (reports, administration)."""
    return AccessEvent.objects.filter(access_events_of_partnerships([partnership_id]))


@login_required
@require_safe
def access_log(request: HttpRequest) -> HttpResponse:
    """Who looked at what, newest first, filtered by person and case (50 a page)."""
    partnerships = _administered(request)
    form = AccessLogFilterForm(request.GET or None, partnerships=partnerships)
    partnership = partnerships[0]
    rows: list[AccessEvent] = []
    older_query = ""
    valid = (form.is_bound and form.is_valid()) or not form.is_bound
    if valid:
        data = form.cleaned_data if form.is_bound else {}
        chosen = data.get("partnership")
        if chosen:
            partnership = next((p for p in partnerships if p.pk == chosen), partnership)
        events = access_events_of_partnership(partnership.pk)
        if data.get("person"):
            events = events.filter(username__iexact=data["person"])
        if data.get("case"):
            case = ProfessionalDifference.objects.filter(
                reference=data["case"], partnership=partnership
            ).first()
            if case is None:
                form.add_error("case", NO_SUCH_CASE)
                events = AccessEvent.objects.none()
            else:
                events = events.filter(case_id=case.pk)
        if data.get("before"):
            events = events.filter(pk__lt=data["before"])
        rows = list(events.order_by("-pk")[: PAGE_SIZE + 1])
        if len(rows) > PAGE_SIZE:
            rows = rows[:PAGE_SIZE]
            query = QueryDict(mutable=True)
            for key in ("partnership", "person", "case"):
                if request.GET.get(key):
                    query[key] = request.GET[key]
            query["before"] = str(rows[-1].pk)
            older_query = query.urlencode()
    setattr(request, PARTNERSHIP_ATTRIBUTE, partnership.pk)
    references = dict(
        ProfessionalDifference.objects.filter(
            pk__in={row.case_id for row in rows if row.case_id is not None},
            partnership=partnership,
        ).values_list("pk", "reference")
    )
    context = {
        "form": form,
        "partnership": partnership,
        "rows": [(row, references.get(row.case_id)) for row in rows],
        "older_query": older_query,
        "first_page": not (form.is_bound and form.is_valid() and form.cleaned_data.get("before")),
    }
    return render(request, "records/access_log.html", context)


# -- retention -------------------------------------------------------------------------------


@login_required
@require_safe
def retention_due(request: HttpRequest) -> HttpResponse:
    """Cases due for anonymisation and cases on legal hold; find a case to put on hold."""
    partnerships = _administered(request)
    if len(partnerships) == 1:
        setattr(request, PARTNERSHIP_ATTRIBUTE, partnerships[0].pk)
    form = CaseReferenceForm(request.GET if "reference" in request.GET else None)
    if form.is_bound and form.is_valid():
        case = retention.difference_administered_by_reference(
            request.user, form.cleaned_data["reference"]
        )
        if case is not None:
            return redirect("retention_legal_hold", case.pk)
        form.add_error("reference", NO_SUCH_CASE)
    context = {
        "form": form,
        "partnerships": partnerships,
        "due": retention.differences_due_for_anonymisation(request.user),
        "held": list(retention.differences_on_legal_hold(request.user)),
    }
    return render(request, "records/retention_due.html", context)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def retention_legal_hold(request: HttpRequest, pk: int) -> HttpResponse:
    """Put a case on legal hold or take it off, saying why."""
    difference = retention.difference_administered_get(request.user, pk)
    setattr(request, PARTNERSHIP_ATTRIBUTE, difference.partnership_id)
    initial = {"on_hold": "yes" if difference.legal_hold else "no"}
    form = LegalHoldForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            retention.difference_legal_hold_set(
                actor=request.user,
                difference_id=difference.pk,
                on_hold=form.cleaned_data["on_hold"],
                reason=form.cleaned_data["reason"],
            )
        except DifferenceRefused as refused:
            form.add_error(refused.field if refused.field in form.fields else None, refused.message)
        else:
            held = form.cleaned_data["on_hold"]
            messages.success(
                request,
                f"{difference.reference} is on legal hold"
                if held
                else f"{difference.reference} is no longer on legal hold",
            )
            return redirect("retention_due")
    return render(
        request, "records/retention_legal_hold.html", {"difference": difference, "form": form}
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def retention_anonymise(request: HttpRequest, pk: int) -> HttpResponse:
    """The explicit confirmation that anonymises a case the retention scan listed."""
    difference = retention.difference_administered_get(request.user, pk)
    setattr(request, PARTNERSHIP_ATTRIBUTE, difference.partnership_id)
    form = AnonymiseConfirmForm(request.POST if request.method == "POST" else None)
    refusal = None
    if difference.anonymised_at is not None:
        refusal = retention.ALREADY_ANONYMISED
    elif request.method == "POST" and form.is_valid():
        try:
            retention.difference_anonymise(actor=request.user, difference_id=difference.pk)
        except DifferenceRefused as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, f"{difference.reference} has been anonymised")
            return redirect("retention_due")
    context = {
        "difference": difference,
        "form": form,
        "refusal": refusal,
        "children_count": difference.children.count(),
        "entries_count": difference.entries.count(),
    }
    return render(request, "records/retention_anonymise.html", context)


# -- subject access --------------------------------------------------------------------------


@login_required
@require_safe
def subject_access_search(request: HttpRequest) -> HttpResponse:
    """Find a child by name (and date of birth) in the partnerships the person administers."""
    partnerships = _administered(request)
    if len(partnerships) == 1:
        setattr(request, PARTNERSHIP_ATTRIBUTE, partnerships[0].pk)
    searched = any(
        key in request.GET
        for key in ("name", "date_of_birth_day", "date_of_birth_month", "date_of_birth_year")
    )
    form = SubjectAccessSearchForm(request.GET if searched else None)
    results: list[Child] | None = None
    if form.is_bound and form.is_valid():
        results = subject_access.children_matching(
            request.user,
            name=form.cleaned_data["name"],
            date_of_birth=form.cleaned_data["date_of_birth"],
        )
    context = {
        "form": form,
        "results": results[: subject_access.SEARCH_LIMIT] if results is not None else None,
        "more": results is not None and len(results) > subject_access.SEARCH_LIMIT,
    }
    return render(request, "records/subject_access_search.html", context)


@login_required
@require_safe
def subject_access_child(request: HttpRequest, child_pk: int) -> HttpResponse:
    """The child's records and cases found, with the JSON and PDF downloads."""
    child = subject_access.child_administered_get(request.user, child_pk)
    setattr(request, PARTNERSHIP_ATTRIBUTE, child.difference.partnership_id)
    records = subject_access.records_of_same_child(child)
    cases = (
        ProfessionalDifference.objects.filter(pk__in={c.difference_id for c in records})
        .select_related("category")
        .order_by("raised_at", "pk")
    )
    return render(
        request,
        "records/subject_access_child.html",
        {"child": child, "cases": list(cases), "records": records},
    )


def _export(request: HttpRequest, child_pk: int, fmt: str) -> tuple[Child, dict[str, Any]]:
    child = subject_access.child_administered_get(request.user, child_pk)
    # An export of a child's data, like the case record PDF: the password (or a code) again
    # unless given in the last 10 minutes; after the access check, so others still get 404,
    # and before the audit entry, which records only exports that happened.
    require_recent_reauthentication(request)
    setattr(request, PARTNERSHIP_ATTRIBUTE, child.difference.partnership_id)
    data = subject_access.subject_access_export(
        child, generated_by=_name(request.user), generated_at=timezone.now()
    )
    references = ", ".join(str(case["reference"]) for case in data["cases"])
    audit_record(
        actor=request.user,
        action="subject_access_export",
        difference=child.difference,
        # No name here: the audit trail must not copy the child's identity about.
        detail=f"Subject access export ({fmt}) of child record {child.pk}; cases: {references}.",
    )
    return child, data


@login_required
@require_safe
def subject_access_json(request: HttpRequest, child_pk: int) -> HttpResponse:
    """Everything held about the child, as JSON."""
    child, data = _export(request, child_pk, "JSON")
    response = HttpResponse(
        json.dumps(data, indent=2, ensure_ascii=False), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="subject-access-{child.pk}.json"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_safe
def subject_access_pdf(request: HttpRequest, child_pk: int) -> HttpResponse:
    """Everything held about the child, as a PDF (the locked-down renderer)."""
    child, data = _export(request, child_pk, "PDF")
    try:
        rendered = pdf.render_template_to_pdf(
            "records/subject_access_pdf.html",
            {"export": data},
            generated_by=_name(request.user),
            generated_at=timezone.now(),
        )
    except pdf.RenderTimeout:
        logger.warning("Subject access PDF of child record %s ran out of time", child.pk)
        return _too_slow(request)
    return pdf_response(rendered.pdf, f"subject-access-{child.pk}.pdf")


urlpatterns: list[URLPattern] = [
    path("administration/access-log/", access_log, name="access_log"),
    path("administration/retention/", retention_due, name="retention_due"),
    path(
        "administration/retention/cases/<int:pk>/legal-hold/",
        retention_legal_hold,
        name="retention_legal_hold",
    ),
    path(
        "administration/retention/cases/<int:pk>/anonymise/",
        retention_anonymise,
        name="retention_anonymise",
    ),
    path("administration/subject-access/", subject_access_search, name="subject_access_search"),
    path(
        "administration/subject-access/children/<int:child_pk>/",
        subject_access_child,
        name="subject_access_child",
    ),
    path(
        "administration/subject-access/children/<int:child_pk>/export.json",
        subject_access_json,
        name="subject_access_json",
    ),
    path(
        "administration/subject-access/children/<int:child_pk>/export.pdf",
        subject_access_pdf,
        name="subject_access_pdf",
    ),
]
