"""The Appendix 2 record as a PDF: of a case (for whoever may see it) and blank."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.reauthentication import require_recent_reauthentication
from agencies.models import Partnership
from agencies.selectors import roles_held
from escalations.selectors import difference_get_for
from records import pdf, record_pdf
from records.services import audit_record

logger = logging.getLogger(__name__)

AUDIT_ACTION = "record_pdf_downloaded"


def _name(user: Any) -> str:
    return (user.get_full_name() or user.get_username()).strip()


def pdf_response(content: bytes, filename: str) -> HttpResponse:
    """A PDF download that no cache keeps."""
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _too_slow(request: HttpRequest) -> HttpResponse:
    """The render ran out of time: the service's error page, 503 (try again)."""
    context: dict[str, Any] = {
        "service_name": "Resolving professional differences",
        "partnership_name": "Safeguarding Children Partnership",
        "CSP_NONCE": getattr(request, "csp_nonce", ""),
    }
    response = HttpResponse(loader.get_template("500.html").render(context), status=503)
    response["Cache-Control"] = "no-store"
    response["Retry-After"] = "60"
    return response


@login_required
@require_GET
def case_record_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The case's Appendix 2 record; 404 for anyone who may not see the case, then (only
    for those who may) a fresh re-authentication before the download. The PDF is the case's
    stored render of its current content (rendered now when there is none) with who and when
    stamped on (ADR 0010)."""
    difference = difference_get_for(request.user, pk)
    require_recent_reauthentication(request)
    try:
        rendered = record_pdf.case_record_pdf(
            difference, generated_by=_name(request.user), generated_at=timezone.now()
        )
    except pdf.RenderTimeout:
        logger.warning("Appendix 2 PDF of case %s ran out of time", difference.pk)
        return _too_slow(request)
    record = rendered.record
    audit_record(
        actor=request.user,
        action=AUDIT_ACTION,
        difference=difference,
        detail=f"Appendix 2 record of {difference.reference} downloaded as a PDF "
        f"({len(record.entries)} chronology entries).",
    )
    return pdf_response(rendered.pdf, f"{difference.reference or difference.pk}-record.pdf")


def _partnership_of(user: Any) -> Partnership | None:
    """The partnership whose name heads a blank form for this person (their first)."""
    held = roles_held(user)
    ids = sorted(set(held.by_partnership) | set(held.agency_partnership.values()))
    return Partnership.objects.filter(pk__in=ids).order_by("name").first() if ids else None


@login_required
@require_GET
def blank_record_pdf(request: HttpRequest) -> HttpResponse:
    """The Appendix 2 form with nothing filled in, for partners who still need paper."""
    try:
        rendered = record_pdf.blank_record_pdf(
            _partnership_of(request.user),
            generated_by=_name(request.user),
            generated_at=timezone.now(),
        )
    except pdf.RenderTimeout:
        logger.warning("The blank Appendix 2 PDF ran out of time")
        return _too_slow(request)
    return pdf_response(rendered.pdf, "appendix-2-record-blank.pdf")
