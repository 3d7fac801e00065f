"""Which actions this person may take on this case now: the single place the pages ask.

Transitions ask django-fsm (``has_transition_perm`` runs the edge's source, conditions and
``permission=`` rule from ``escalations.rules``); the stage clock asks
``deadlines.may_manage_clock``. The services check again under a row lock: an offer is what
the page shows, never what decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django_fsm import has_transition_perm

from escalations import errors
from escalations.deadlines import CLOCK_NOT_RUNNING, CLOCK_NOT_YOURS, may_manage_clock
from escalations.models import ProfessionalDifference, StageEntry
from escalations.states import NEXT_STAGE, STAGE_RANK, Status

PRIMARY = "primary"
SECONDARY = "secondary"
WARNING = "warning"

RECORD_ENTRY = "record_entry"
START_CLARIFICATION = "start_clarification"
BEGIN_STAGE_1 = "begin_stage_1"
WITHDRAW = "withdraw"
ESCALATE = "escalate"
RECORD_OUTCOME = "record_outcome"
ACCEPT_PARTIAL_OUTCOME = "accept_partial_outcome"
CLOSE = "close"
PAUSE_CLOCK = "pause_clock"
RESUME_CLOCK = "resume_clock"
SHORTEN_CLOCK = "shorten_clock"

# The transition method behind escalating from each stage.
ESCALATION_METHODS: dict[str, str] = {
    Status.STAGE_1: "escalate_to_stage_2",
    Status.STAGE_2: "escalate_to_stage_3",
    Status.STAGE_3: "escalate_to_stage_4",
    Status.STAGE_4: "refer_to_final_body",
}

# The transition method behind each outcome a person may record.
OUTCOME_METHODS: dict[str, str] = {
    Status.RESOLVED: "resolve",
    Status.PARTIALLY_RESOLVED: "resolve_partially",
    Status.NOT_RESOLVED: "record_not_resolved",
}

# The words for "it cannot be …" when the case is not in a state for the action.
_ACTION_WORDS: dict[str, str] = {
    START_CLARIFICATION: "moved to clarification",
    BEGIN_STAGE_1: "moved to Stage 1",
    WITHDRAW: "withdrawn",
    ESCALATE: "escalated",
    RECORD_OUTCOME: "given an outcome",
    ACCEPT_PARTIAL_OUTCOME: "moved to learning review",
    CLOSE: "closed",
}

CLOCK_NOT_PAUSED = "The clock is not paused."
CLOCK_ALREADY_PAUSED = "The clock is already paused."
CLOCK_OVERDUE = "The stage is already overdue, so its due date cannot be brought forward."


@dataclass(frozen=True)
class Offer:
    """One action the person may take now: a button to its own form page."""

    key: str
    label: str
    url_name: str
    style: str
    url: str

    @property
    def button_class(self) -> str:
        if self.style == PRIMARY:
            return "govuk-button"
        return f"govuk-button govuk-button--{self.style}"


def escalation_target(difference: ProfessionalDifference) -> str | None:
    """The stage an escalation would take the case to now, if any."""
    return NEXT_STAGE.get(difference.stage)


def escalation_label(difference: ProfessionalDifference) -> str:
    """'Escalate to Stage 3', or 'Refer to the Practice Review Group'."""
    target = escalation_target(difference)
    if target == Status.FINAL_REFERRAL:
        return f"Refer to the {difference.partnership.final_referral_body_name}"
    if target is None:
        return "Escalate"
    return f"Escalate to Stage {STAGE_RANK[target] - 1}"


def outcome_choices(difference: ProfessionalDifference, user: Any) -> list[tuple[str, str]]:
    """The outcomes this person may record now (not resolved only after final referral)."""
    choices = []
    for outcome, method in OUTCOME_METHODS.items():
        if has_transition_perm(getattr(difference, method), user):
            choices.append((outcome, Status(outcome).label))
    return choices


def running_stage_entry(difference: ProfessionalDifference) -> StageEntry | None:
    """The case's running stage clock, if any."""
    return StageEntry.objects.filter(difference=difference, left_at__isnull=True).first()


def _may(difference: ProfessionalDifference, user: Any, method: str) -> bool:
    return has_transition_perm(getattr(difference, method), user)


def _not_from_this_state(difference: ProfessionalDifference, key: str) -> str:
    return errors.NOT_FROM_THIS_STATE.format(
        status=Status(difference.status).label.lower(), action=_ACTION_WORDS[key]
    )


CLOCK_MOVED_ON = (
    "This case is now at {status}, so this change to its clock was not made. "
    "Refresh the page to see its latest state."
)


def moved_on_message(difference: ProfessionalDifference, key: str) -> str:
    """What a person is told when the case moved on after their form was shown (someone else
    acted first)."""
    if key in _ACTION_WORDS:
        return _not_from_this_state(difference, key)
    return CLOCK_MOVED_ON.format(status=Status(difference.status).label.lower())


def _transition_refusal(difference: ProfessionalDifference, user: Any, key: str) -> str | None:
    """Why this person may not take the transition behind ``key`` now (None: they may)."""
    methods: list[str]
    if key == ESCALATE:
        method = ESCALATION_METHODS.get(difference.stage)
        in_state = difference.status in (*NEXT_STAGE, Status.PARTIALLY_RESOLVED)
        if method is None or not in_state:
            return _not_from_this_state(difference, key)
        methods = [method]
    elif key == RECORD_OUTCOME:
        methods = list(OUTCOME_METHODS.values())
    else:
        methods = [key]
    bound = [getattr(difference, method) for method in methods]
    if not any(
        b._django_fsm.has_transition(difference.status)
        and b._django_fsm.conditions_met(difference, difference.status)
        for b in bound
    ):
        return _not_from_this_state(difference, key)
    if not any(has_transition_perm(b, user) for b in bound):
        return errors.NOT_PERMITTED
    return None


def _clock_refusal(
    difference: ProfessionalDifference, user: Any, key: str, running: StageEntry | None
) -> str | None:
    if running is None:
        return CLOCK_NOT_RUNNING
    if not may_manage_clock(difference, user):
        return CLOCK_NOT_YOURS
    if key == PAUSE_CLOCK and running.paused_at is not None:
        return CLOCK_ALREADY_PAUSED
    if key == RESUME_CLOCK and running.paused_at is None:
        return CLOCK_NOT_PAUSED
    if key == SHORTEN_CLOCK and running.is_overdue:
        return CLOCK_OVERDUE
    return None


_NO_ENTRY = object()


def refusal(
    difference: ProfessionalDifference,
    user: Any,
    key: str,
    *,
    running: StageEntry | object | None = _NO_ENTRY,
) -> str | None:
    """Why this person may not take action ``key`` on the case now, or None if they may.

    The person is assumed to see the case (views fetch it through ``difference_get_for``).
    Pass ``running`` (the running stage entry, or None) when already fetched.
    """
    if key == RECORD_ENTRY:
        return errors.CASE_CLOSED if difference.status == Status.CLOSED else None
    if key in (PAUSE_CLOCK, RESUME_CLOCK, SHORTEN_CLOCK):
        entry = running_stage_entry(difference) if running is _NO_ENTRY else running
        return _clock_refusal(
            difference, user, key, entry if isinstance(entry, StageEntry) else None
        )
    if key in _ACTION_WORDS:
        return _transition_refusal(difference, user, key)
    raise ValueError(f"unknown action {key!r}")


def _labels(difference: ProfessionalDifference) -> dict[str, tuple[str, str]]:
    """Each action's label and button style, in the order the page lists them."""
    return {
        START_CLARIFICATION: ("Start clarification", PRIMARY),
        BEGIN_STAGE_1: ("Record clarification and move to Stage 1", PRIMARY),
        ESCALATE: (escalation_label(difference), PRIMARY),
        RECORD_OUTCOME: ("Record an outcome", PRIMARY),
        ACCEPT_PARTIAL_OUTCOME: ("Accept the partial outcome", SECONDARY),
        CLOSE: ("Close after learning review", PRIMARY),
        RECORD_ENTRY: ("Record a discussion, meeting, call or correspondence", SECONDARY),
        PAUSE_CLOCK: ("Pause the clock", SECONDARY),
        RESUME_CLOCK: ("Resume the clock", SECONDARY),
        SHORTEN_CLOCK: ("Bring the due date forward", SECONDARY),
        WITHDRAW: ("Withdraw", WARNING),
    }


def url_name(key: str) -> str:
    """The URL name of an action's page."""
    return f"case_{key}"


def offers_for(
    difference: ProfessionalDifference,
    user: Any,
    *,
    running: StageEntry | object | None = _NO_ENTRY,
) -> list[Offer]:
    """Only the actions this person may take on the case now."""
    if running is _NO_ENTRY:
        running = running_stage_entry(difference)
    offers = []
    for key, (label, style) in _labels(difference).items():
        if refusal(difference, user, key, running=running) is None:
            name = url_name(key)
            offers.append(
                Offer(
                    key=key,
                    label=label,
                    url_name=name,
                    style=style,
                    url=reverse(name, kwargs={"pk": difference.pk}),
                )
            )
    return offers
