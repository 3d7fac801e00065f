"""The monitoring report page, its downloads, and the learning themes of a case.

The report is for the partnership's business managers and administrators only: everyone else
gets 404, as for a case they may not see. The page runs a constant number of queries whatever
the number of cases (``reports.selectors``).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from accounts.reauthentication import require_recent_reauthentication
from agencies.models import Partnership, PartnershipRole
from agencies.selectors import roles_held
from escalations.errors import DifferenceRefused
from escalations.selectors import difference_get_for
from records.access_log import PARTNERSHIP_ATTRIBUTE
from records.services import audit_record
from reports import exports
from reports.access import exact_by_setting, may_download_exact, report_partnerships
from reports.forms import LearningThemesForm, PeriodForm
from reports.models import CaseLearningTheme, LearningTheme
from reports.periods import PRESET_CUSTOM, PRESETS, preset_period
from reports.report import PAGE_LIST_LIMIT, PDF_LIST_LIMIT, monitoring_report
from reports.sections import build_sections
from reports.services import TAGGABLE_STATUSES, difference_tag_learning_themes

FORMATS = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "pdf": ("application/pdf", "pdf"),
}
MAX_REDIRECT = 2000
FORM_KEYS = ("partnership", "period", "start_day", "start_month", "start_year", "end_day",
             "end_month", "end_year", "exact")  # fmt: skip


def _partnership_and_form(request: HttpRequest) -> tuple[Partnership, PeriodForm]:
    """The partnership asked for (404 unless the person may see its reports) and the bound
    period form (unbound, i.e. the defaults, when nothing was asked)."""
    partnerships = report_partnerships(request.user)
    if not partnerships:
        raise Http404("No such page.")
    asked = request.GET.get("partnership", "")
    partnership = partnerships[0]
    if asked:
        matches = [p for p in partnerships if str(p.pk) == asked]
        if not matches:
            raise Http404("No such page.")
        partnership = matches[0]
    # The access audit records which partnership's report this was (records.access_log).
    setattr(request, PARTNERSHIP_ATTRIBUTE, partnership.pk)
    bound = any(key in request.GET for key in FORM_KEYS)
    form = PeriodForm(
        request.GET if bound else None,
        partnerships=partnerships,
        today=timezone.localdate(),
        allow_exact=may_download_exact(request.user, partnership.pk),
    )
    return partnership, form


def _query(request: HttpRequest, partnership: Partnership) -> str:
    query = QueryDict(mutable=True)
    for key in FORM_KEYS:
        if key in request.GET:
            query.setlist(key, request.GET.getlist(key))
    query["partnership"] = str(partnership.pk)
    return query.urlencode()


@login_required
@require_safe
def report(request: HttpRequest) -> HttpResponse:
    """The report for the chosen period (default: the last complete half-year)."""
    partnership, form = _partnership_and_form(request)
    today = timezone.localdate()
    presets = [
        (value, label, preset_period(value, today).label if value != PRESET_CUSTOM else "")
        for value, label in PRESETS
    ]
    context: dict[str, Any] = {
        "form": form,
        "presets": presets,
        "chosen_preset": (
            form.cleaned_data.get("period")
            if form.is_bound and form.is_valid()
            else request.GET.get("period") or "last-half"
        ),
        "partnership": partnership,
        "several_partnerships": len(form.partnerships) > 1,
    }
    valid = not form.is_bound or form.is_valid()
    form.show_dates_as_required()
    if valid:
        period = form.chosen_period()
        result = monitoring_report(partnership, period, list_limit=PAGE_LIST_LIMIT)
        query = _query(request, partnership)
        context.update(
            report=result,
            sections=build_sections(result, exact=True),
            downloads=[
                (label, f"{reverse('report_download', args=[fmt])}?{query}", fmt)
                for fmt, label in (("pdf", "PDF"), ("xlsx", "Excel (XLSX)"), ("csv", "CSV"))
            ],
            downloads_exact=form.wants_exact() or exact_by_setting(),
        )
    return render(request, "reports/report.html", context)


@login_required
@require_safe
def report_download(request: HttpRequest, fmt: str) -> HttpResponse:
    """The report as PDF, XLSX or CSV, with small counts withheld unless an internal copy."""
    if fmt not in FORMATS:
        raise Http404("No such download.")
    partnership, form = _partnership_and_form(request)
    if form.is_bound and not form.is_valid():
        # Back to the page, which shows the errors; a tampered, over-long query starts again.
        target = f"{reverse('report')}?{_query(request, partnership)}"
        if len(target) > MAX_REDIRECT:
            target = f"{reverse('report')}?partnership={partnership.pk}"
        return redirect(target)
    # Only once the person may see this partnership's reports: re-authenticate if not lately.
    require_recent_reauthentication(request)
    exact = exact_by_setting() or form.wants_exact()
    limit = PDF_LIST_LIMIT if fmt == "pdf" else None
    result = monitoring_report(partnership, form.chosen_period(), list_limit=limit)
    sections = build_sections(result, exact=exact)
    user: Any = request.user
    if fmt == "csv":
        body = exports.report_csv(result, sections, exact=exact)
    elif fmt == "xlsx":
        body = exports.report_xlsx(result, sections, exact=exact)
    else:
        body = exports.report_pdf(
            result,
            sections,
            exact=exact,
            generated_by=(user.get_full_name() or user.get_username()).strip(),
        )
    audit_record(
        actor=user,
        action="monitoring report downloaded",
        detail=f"{partnership.name}, {result.period.label}, {fmt.upper()}"
        + (", exact numbers" if exact else ""),
    )
    content_type, extension = FORMATS[fmt]
    response = HttpResponse(body, content_type=content_type)
    name = exports.filename(result, extension, exact=exact)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def case_learning_themes(request: HttpRequest, pk: int) -> HttpResponse:
    """The business manager records the learning themes of a case at its learning review."""
    difference = difference_get_for(request.user, pk)
    if not roles_held(request.user).in_partnership(
        difference.partnership_id, PartnershipRole.BUSINESS_MANAGER
    ):
        raise Http404("No such page.")
    current = list(
        CaseLearningTheme.objects.filter(difference=difference).values_list("theme_id", flat=True)
    )
    choices = [
        (theme.pk, theme.name)
        for theme in LearningTheme.objects.filter(partnership_id=difference.partnership_id)
        if theme.active or theme.pk in current
    ]
    form = LearningThemesForm(
        request.POST if request.method == "POST" else None,
        choices=choices,
        initial={"themes": current},
    )
    refusal = None
    if difference.status not in TAGGABLE_STATUSES:
        refusal = "Learning themes are recorded at the learning review: this case has not "
        refusal += "reached it yet."
    elif request.method == "POST" and form.is_valid():
        try:
            themes = difference_tag_learning_themes(
                actor=request.user,
                difference_id=difference.pk,
                theme_ids=form.cleaned_data["themes"],
            )
        except DifferenceRefused as refused:
            form.add_error(refused.field if refused.field in form.fields else None, refused.message)
        else:
            names = ", ".join(theme.name for theme in themes) or "none"
            messages.success(request, f"Learning themes recorded: {names}.")
            return redirect("case_detail", difference.pk)
    return render(
        request,
        "reports/case_learning_themes.html",
        {"difference": difference, "form": form, "refusal": refusal, "has_choices": bool(choices)},
    )
