"""Case actions: one page per action under cases/<pk>/….

Every view fetches the case through ``difference_get_for`` (404 for anyone who may not see
it), shows its form on GET (or, when the action is not this person's to take now, says why
instead of the form), and on POST calls one service: success → message and back to the case;
refusal → the form again, with the message in the error summary and everything typed kept.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.formats import date_format

from escalations import deadlines, offers, services
from escalations.errors import DifferenceRefused
from escalations.forms.actions import (
    AcceptPartialOutcomeForm,
    BeginStage1Form,
    CloseForm,
    ConfirmForm,
    CorrectionForm,
    EntryForm,
    EscalateForm,
    OutcomeForm,
    PauseClockForm,
    ShortenClockForm,
    StateGuardForm,
    WithdrawForm,
    parse_state_key,
    state_key,
)
from escalations.models import ProfessionalDifference
from escalations.selectors import difference_get_for
from escalations.states import NEXT_STAGE, STAGE_RANK, Status
from records.models import Entry
from records.services import entry_correct, entry_record

# A service call for a valid form: returns the success message.
Perform = Callable[[dict[str, Any]], str]


def _posted(request: HttpRequest) -> Any:
    return request.POST if request.method == "POST" else None


def _add_refusal(form: forms.Form, refused: DifferenceRefused) -> None:
    form.add_error(refused.field if refused.field in form.fields else None, refused.message)


def _form_page(
    request: HttpRequest,
    difference: ProfessionalDifference,
    form: forms.Form,
    *,
    key: str | None,
    title: str,
    perform: Perform,
    template: str = "escalations/case_action_form.html",
    submit: str = "Continue",
    **context: Any,
) -> HttpResponse:
    """GET: the form (or why this is not yours to do now); POST: one service call."""
    refusal = None
    if request.method == "POST":
        if form.is_valid():
            if (
                key is not None
                and isinstance(form, StateGuardForm)
                and form.moved_on(difference.status, difference.stage)
            ):
                form.add_error(None, offers.moved_on_message(difference, key))
            if not form.errors:
                try:
                    message = perform(form.cleaned_data)
                except DifferenceRefused as refused:
                    _add_refusal(form, refused)
                else:
                    messages.success(request, message)
                    return redirect("case_detail", pk=difference.pk)
    elif key is not None:
        refusal = offers.refusal(difference, request.user, key)
    return render(
        request,
        template,
        {
            "difference": difference,
            "form": form,
            "title": title,
            "submit": submit,
            "refusal": refusal,
            **context,
        },
    )


def _state(difference: ProfessionalDifference) -> str:
    return state_key(difference.status, difference.stage)


def _seen_state(request: HttpRequest) -> tuple[str, str] | None:
    """The case's (status, stage) when the form now posted was shown, if it says."""
    if request.method != "POST":
        return None
    return parse_state_key(str(request.POST.get("seen_state", "")))


def _seen_stage(request: HttpRequest, difference: ProfessionalDifference) -> str:
    """The stage the case was at when the form was shown (so a re-shown form keeps the
    fields it had), else the stage it is at now."""
    seen = _seen_state(request)
    return seen[1] if seen is not None else difference.stage


def _local(moment: Any) -> str:
    local = timezone.localtime(moment)
    return f"{date_format(local, 'l j F Y')} at {local:%H:%M}"


# -- the chronology -------------------------------------------------------------------------


@login_required
def case_record_entry(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a discussion, meeting, call, correspondence or reflective practice meeting."""
    difference = difference_get_for(request.user, pk)
    form = EntryForm(_posted(request))

    def perform(data: dict[str, Any]) -> str:
        entry = entry_record(
            actor=request.user,
            difference=difference,
            kind=data["kind"],
            occurred_at=data.get("occurred_at"),
            method=data["method"],
            participants=data["participants"],
            facts=data["facts"],
            opinion=data["opinion"],
            outcome=data["outcome"],
        )
        return f"{entry.get_kind_display()} recorded"

    return _form_page(
        request,
        difference,
        form,
        key=offers.RECORD_ENTRY,
        title="Record a discussion, meeting, call or correspondence",
        perform=perform,
        lead="Keep the facts apart from your professional opinion.",
    )


@login_required
def case_correct_entry(request: HttpRequest, pk: int, entry_pk: int) -> HttpResponse:
    """Record a correction: a new entry that refers to the one it corrects."""
    difference = difference_get_for(request.user, pk)
    entry = get_object_or_404(Entry.objects.filter(difference=difference), pk=entry_pk)
    form = CorrectionForm(
        _posted(request),
        initial={"facts": entry.facts, "opinion": entry.opinion, "outcome": entry.outcome},
    )

    def perform(data: dict[str, Any]) -> str:
        entry_correct(
            actor=request.user,
            difference=difference,
            corrects=entry,
            facts=data["facts"],
            opinion=data["opinion"],
            outcome=data["outcome"],
            reason=data["reason"],
        )
        return "Correction recorded"

    return _form_page(
        request,
        difference,
        form,
        key=None,
        title="Record a correction",
        perform=perform,
        template="escalations/case_action_correct.html",
        entry=entry,
    )


# -- moving the case ------------------------------------------------------------------------


@login_required
def case_start_clarification(request: HttpRequest, pk: int) -> HttpResponse:
    """identified → clarification (a confirmation page)."""
    difference = difference_get_for(request.user, pk)
    form = ConfirmForm(_posted(request), state=_state(difference))

    def perform(data: dict[str, Any]) -> str:
        case = services.difference_start_clarification(
            actor=request.user, expected_state=_seen_state(request), difference_id=difference.pk
        )
        return f"{case.reference} moved to clarification"

    return _form_page(
        request,
        difference,
        form,
        key=offers.START_CLARIFICATION,
        title="Start clarification",
        perform=perform,
        submit="Start clarification",
        lead=(
            "Before escalating, check the facts: talk to the other professional, consult "
            "your line manager or your agency's safeguarding lead, and check what action is "
            "already in hand. The clarification clock starts now."
        ),
    )


@login_required
def case_begin_stage_1(request: HttpRequest, pk: int) -> HttpResponse:
    """clarification → stage_1, recording the clarification done."""
    difference = difference_get_for(request.user, pk)
    form = BeginStage1Form(_posted(request), state=_state(difference))

    def perform(data: dict[str, Any]) -> str:
        assert isinstance(form, BeginStage1Form)
        case = services.difference_begin_stage_1(
            actor=request.user,
            expected_state=_seen_state(request),
            difference_id=difference.pk,
            clarification=form.clarification(),
        )
        return f"Clarification recorded: {case.reference} is at Stage 1"

    return _form_page(
        request,
        difference,
        form,
        key=offers.BEGIN_STAGE_1,
        title="Record clarification and move to Stage 1",
        perform=perform,
        submit="Move to Stage 1",
    )


@login_required
def case_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    """clarification → withdrawn: no practice issue remains."""
    difference = difference_get_for(request.user, pk)
    form = WithdrawForm(_posted(request), state=_state(difference))

    def perform(data: dict[str, Any]) -> str:
        case = services.difference_withdraw(
            actor=request.user,
            expected_state=_seen_state(request),
            difference_id=difference.pk,
            reason=data["reason"],
        )
        return f"{case.reference} withdrawn and moved to learning review"

    return _form_page(
        request,
        difference,
        form,
        key=offers.WITHDRAW,
        title="Withdraw the difference",
        perform=perform,
        submit="Withdraw",
    )


def _escalation_words(difference: ProfessionalDifference, stage: str) -> tuple[str, str]:
    """The page title and the reason's question for escalating from ``stage``."""
    target = NEXT_STAGE.get(stage)
    if target == Status.FINAL_REFERRAL:
        body = difference.partnership.final_referral_body_name
        return f"Refer to the {body}", "Referral summary"
    if target is None:
        return "Escalate", "Why was it not resolved?"
    return (
        f"Escalate to Stage {STAGE_RANK[target] - 1}",
        f"Why did Stage {STAGE_RANK[stage] - 1} not resolve it?",
    )


@login_required
def case_escalate(request: HttpRequest, pk: int) -> HttpResponse:
    """Take the case to the next stage (from a stage, or from a partial outcome there)."""
    difference = difference_get_for(request.user, pk)
    stage = _seen_stage(request, difference)
    title, question = _escalation_words(difference, stage)
    form = EscalateForm(
        _posted(request),
        state=_state(difference),
        reason_label=question,
        needs_oversight=stage == Status.STAGE_2,
    )

    def perform(data: dict[str, Any]) -> str:
        case = services.difference_escalate(
            actor=request.user,
            expected_state=_seen_state(request),
            difference_id=difference.pk,
            reason=data["reason"],
            oversight_note=data.get("oversight_note", ""),
            escalated_to=data["escalated_to"],
        )
        if case.status == Status.FINAL_REFERRAL:
            body = case.partnership.final_referral_body_name
            return f"{case.reference} referred to the {body}"
        return f"{case.reference} escalated to Stage {STAGE_RANK[case.status] - 1}"

    return _form_page(
        request,
        difference,
        form,
        key=offers.ESCALATE,
        title=title,
        perform=perform,
        submit=title,
    )


@login_required
def case_record_outcome(request: HttpRequest, pk: int) -> HttpResponse:
    """Record resolved / partially resolved (/ not resolved after final referral)."""
    difference = difference_get_for(request.user, pk)
    choices = offers.outcome_choices(difference, request.user)
    posted = request.POST.get("outcome", "") if request.method == "POST" else ""
    moved_on = _seen_state(request) not in (None, (difference.status, difference.stage))
    if moved_on and posted in offers.OUTCOME_METHODS and posted not in dict(choices):
        # The case moved on since the form was shown: keep the choice made on it.
        choices.append((posted, Status(posted).label))
    form = OutcomeForm(_posted(request), state=_state(difference), outcomes=choices)

    def perform(data: dict[str, Any]) -> str:
        assert isinstance(form, OutcomeForm)
        case = services.difference_record_outcome(
            actor=request.user,
            expected_state=_seen_state(request),
            difference_id=difference.pk,
            outcome=data["outcome"],
            summary=data["summary"],
            actions=form.actions(),
        )
        outcome = Status(data["outcome"]).label.lower()
        if case.status == Status.PARTIALLY_RESOLVED:
            return (
                f"Outcome recorded as {outcome}: {case.reference} can be escalated, "
                "or the partial outcome accepted"
            )
        return f"Outcome recorded as {outcome}: {case.reference} moved to learning review"

    return _form_page(
        request,
        difference,
        form,
        key=offers.RECORD_OUTCOME,
        title="Record an outcome",
        perform=perform,
        template="escalations/case_action_outcome.html",
        submit="Record the outcome",
    )


@login_required
def case_accept_partial_outcome(request: HttpRequest, pk: int) -> HttpResponse:
    """partially_resolved → learning_review: the raising agency escalates no further."""
    difference = difference_get_for(request.user, pk)
    form = AcceptPartialOutcomeForm(_posted(request), state=_state(difference))

    def perform(data: dict[str, Any]) -> str:
        case = services.difference_accept_partial_outcome(
            actor=request.user,
            expected_state=_seen_state(request),
            difference_id=difference.pk,
            reason=data["reason"],
        )
        return f"Partial outcome accepted: {case.reference} moved to learning review"

    return _form_page(
        request,
        difference,
        form,
        key=offers.ACCEPT_PARTIAL_OUTCOME,
        title="Accept the partial outcome",
        perform=perform,
        submit="Accept the partial outcome",
        lead="Your agency will not escalate this difference further. It moves to the "
        "partnership's learning review.",
    )


@login_required
def case_close(request: HttpRequest, pk: int) -> HttpResponse:
    """learning_review → closed, by the business manager."""
    difference = difference_get_for(request.user, pk)
    form = CloseForm(_posted(request), state=_state(difference))

    def perform(data: dict[str, Any]) -> str:
        case = services.difference_close(
            actor=request.user,
            expected_state=_seen_state(request),
            difference_id=difference.pk,
            learning=data["learning"],
            protocol_amendment_recommended=data["protocol_amendment_recommended"] == "yes",
            protocol_amendment_note=data["protocol_amendment_note"],
        )
        return f"{case.reference} closed"

    return _form_page(
        request,
        difference,
        form,
        key=offers.CLOSE,
        title="Close after learning review",
        perform=perform,
        submit="Close the case",
        lead="Review the learning and the actions agreed. A closed case is never reopened: "
        "a new difference can be raised and linked to it.",
    )


# -- the stage clock ------------------------------------------------------------------------


@login_required
def case_pause_clock(request: HttpRequest, pk: int) -> HttpResponse:
    """Pause the stage clock with a reason."""
    difference = difference_get_for(request.user, pk)
    form = PauseClockForm(_posted(request), state=_state(difference))

    def perform(data: dict[str, Any]) -> str:
        deadlines.stage_clock_pause(
            actor=request.user,
            expected_state=_seen_state(request),
            difference_id=difference.pk,
            reason=data["reason"],
        )
        return "Clock paused"

    return _form_page(
        request,
        difference,
        form,
        key=offers.PAUSE_CLOCK,
        title="Pause the clock",
        perform=perform,
        submit="Pause the clock",
        lead="Paused time does not count towards the stage's timeframe.",
    )


@login_required
def case_resume_clock(request: HttpRequest, pk: int) -> HttpResponse:
    """Resume a paused stage clock (a confirmation page)."""
    difference = difference_get_for(request.user, pk)
    form = ConfirmForm(_posted(request), state=_state(difference))

    def perform(data: dict[str, Any]) -> str:
        entry = deadlines.stage_clock_resume(
            actor=request.user, expected_state=_seen_state(request), difference_id=difference.pk
        )
        return f"Clock resumed: now due {_local(entry.due_at)}"

    return _form_page(
        request,
        difference,
        form,
        key=offers.RESUME_CLOCK,
        title="Resume the clock",
        perform=perform,
        submit="Resume the clock",
        lead="The due date moves later by the working time the clock was paused.",
    )


@login_required
def case_shorten_clock(request: HttpRequest, pk: int) -> HttpResponse:
    """Bring the stage's due date forward because the child's needs demand it."""
    difference = difference_get_for(request.user, pk)
    form = ShortenClockForm(_posted(request), state=_state(difference))

    def perform(data: dict[str, Any]) -> str:
        if "due_moment" not in data:
            raise DifferenceRefused("Enter the new due date and time", field="due_at")
        entry = deadlines.stage_clock_shorten(
            actor=request.user,
            expected_state=_seen_state(request),
            difference_id=difference.pk,
            due_at=data["due_moment"],
            reason=data["reason"],
        )
        return f"Due date brought forward to {_local(entry.due_at)}"

    return _form_page(
        request,
        difference,
        form,
        key=offers.SHORTEN_CLOCK,
        title="Bring the due date forward",
        perform=perform,
        submit="Bring the due date forward",
        lead="Timeframes are indicative and driven by the child's needs: you can set an "
        "earlier due date than the timeframe gives.",
    )


def _action(route: str, view: Callable[..., HttpResponse], key: str) -> URLPattern:
    return path(f"cases/<int:pk>/{route}/", view, name=offers.url_name(key))


urlpatterns: list[URLPattern] = [
    _action("record", case_record_entry, offers.RECORD_ENTRY),
    _action("start-clarification", case_start_clarification, offers.START_CLARIFICATION),
    _action("stage-1", case_begin_stage_1, offers.BEGIN_STAGE_1),
    _action("withdraw", case_withdraw, offers.WITHDRAW),
    _action("escalate", case_escalate, offers.ESCALATE),
    _action("outcome", case_record_outcome, offers.RECORD_OUTCOME),
    _action("accept-partial-outcome", case_accept_partial_outcome, offers.ACCEPT_PARTIAL_OUTCOME),
    _action("close", case_close, offers.CLOSE),
    _action("clock/pause", case_pause_clock, offers.PAUSE_CLOCK),
    _action("clock/resume", case_resume_clock, offers.RESUME_CLOCK),
    _action("clock/bring-forward", case_shorten_clock, offers.SHORTEN_CLOCK),
    path(
        "cases/<int:pk>/entries/<int:entry_pk>/correct/",
        case_correct_entry,
        name="case_correct_entry",
    ),
]
