"""Forms of the case actions: shape only (required, lengths, choices, dates).

The services decide what is allowed; a refusal comes back as a ``DifferenceRefused`` that the
view adds to the form.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Any

from django import forms
from django.forms import BoundField
from django.utils import timezone

from escalations.services import ActionDetails
from escalations.states import Status
from records.models import RECORDED_KINDS, EntryKind
from ui.forms import GovukDateField

SHORT = 200
LONG = 20_000
MAX_ACTIONS = 5
EARLIEST_YEAR = 2000

_TIME = re.compile(r"^\s*(\d{1,2})[:.](\d{2})\s*$")


def short_text(
    label: str,
    *,
    name: str = "",
    required: bool = True,
    required_message: str = "",
    help_text: str = "",
    classes: str = "",
) -> forms.CharField:
    """A one-line text field of at most 200 characters."""
    return forms.CharField(
        label=label,
        required=required,
        max_length=SHORT,
        help_text=help_text,
        widget=forms.TextInput(attrs={"class": classes} if classes else None),
        error_messages={
            "required": required_message or f"Enter {label[0].lower()}{label[1:]}",
            "max_length": f"{name or label} must be {SHORT} characters or fewer",
        },
    )


def long_text(
    label: str,
    *,
    name: str = "",
    required: bool = True,
    required_message: str = "",
    help_text: str = "",
    rows: int = 5,
) -> forms.CharField:
    """A text area of at most 20,000 characters."""
    return forms.CharField(
        label=label,
        required=required,
        max_length=LONG,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows}),
        error_messages={
            "required": required_message or f"Enter {label[0].lower()}{label[1:]}",
            "max_length": f"{name or label} must be {LONG:,} characters or fewer",
        },
    )


def parse_time(value: str) -> time | None:
    """'14:30' or '9.05' → a time; '' → None; anything else → ValueError."""
    if not value.strip():
        return None
    match = _TIME.match(value)
    if match is None:
        raise ValueError(value)
    return time(int(match.group(1)), int(match.group(2)))


def local_moment(day: date, at: time | None) -> datetime:
    """The aware moment of a local (Europe/London) date and time (midnight if no time)."""
    return timezone.make_aware(datetime.combine(day, at or time(0, 0)))


def state_key(status: str, stage: str) -> str:
    """The case's state as a form remembers it: 'partially_resolved/stage_2'."""
    return f"{status}/{stage}"


def parse_state_key(value: str) -> tuple[str, str] | None:
    """'stage_2/stage_2' → ('stage_2', 'stage_2'); None if it is not a state."""
    status, _, stage = value.partition("/")
    if status in Status.values and stage in Status.values:
        return status, stage
    return None


class StateGuardForm(forms.Form):
    """A form that remembers the case's state when the page was shown, so a case that moved
    on meanwhile (someone else acted first) is refused with its new state."""

    seen_state = forms.CharField(widget=forms.HiddenInput, required=False, max_length=50)

    def __init__(self, *args: Any, state: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["seen_state"].initial = state

    def moved_on(self, status: str, stage: str) -> bool:
        """Whether the case is no longer in the state the page was shown in."""
        seen = self.cleaned_data.get("seen_state", "")
        return parse_state_key(seen) is not None and seen != state_key(status, stage)


class EntryForm(forms.Form):
    """Record a discussion, meeting, call, correspondence or reflective practice meeting."""

    kind = forms.ChoiceField(
        label="What are you recording?",
        choices=[(kind, EntryKind(kind).label) for kind in RECORDED_KINDS],
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose what you are recording",
            "invalid_choice": "Choose what you are recording",
        },
    )
    occurred_on = GovukDateField(
        label="Date",
        past_only=True,
        earliest_year=EARLIEST_YEAR,
        help_text="For example, 27 3 2026",
        error_messages={"required": "Enter the date"},
    )
    occurred_time = short_text(
        "Time",
        required=False,
        help_text="Use the 24-hour clock, for example, 14:30",
        classes="govuk-input--width-5",
    )
    method = short_text(
        "Method",
        required=False,
        help_text="For example, face to face, video call, telephone, email or letter",
    )
    participants = long_text(
        "Participants",
        required=False,
        help_text="Names, roles and agencies of the people involved",
        rows=3,
    )
    facts = long_text(
        "Facts",
        required=False,
        help_text="What happened and what was said: things that can be checked",
    )
    opinion = long_text(
        "Professional opinion",
        required=False,
        help_text="Your professional judgement, kept apart from the facts",
    )
    outcome = long_text("Outcome agreed", required=False, rows=3)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        raw_time = cleaned.get("occurred_time", "")
        try:
            at = parse_time(raw_time or "")
        except ValueError:
            self.add_error(
                "occurred_time", "Enter a real time, using the 24-hour clock, for example, 14:30"
            )
            return cleaned
        day = cleaned.get("occurred_on")
        if isinstance(day, date):
            moment = local_moment(day, at)
            if moment > timezone.now():
                self.add_error("occurred_time", "The time must be now or in the past")
            cleaned["occurred_at"] = moment
        return cleaned


class ConfirmForm(StateGuardForm):
    """A confirmation page with nothing to type."""


class BeginStage1Form(StateGuardForm):
    consulted = long_text(
        "Who did you consult?",
        name="Who you consulted",
        required_message="Enter who you consulted",
        help_text="For example, your line manager or your agency's safeguarding lead",
        rows=3,
    )
    learned = long_text(
        "What did you learn from the clarification?",
        name="What you learned",
        required_message="Enter what you learned from the clarification",
    )

    def clarification(self) -> str:
        return (
            f"Consulted: {self.cleaned_data['consulted']}\n\n"
            f"What was learned: {self.cleaned_data['learned']}"
        )


class WithdrawForm(StateGuardForm):
    reason = long_text(
        "Why does no practice issue remain?",
        name="The reason",
        required_message="Enter why no practice issue remains",
        help_text="For example, the action is already in hand",
    )


class EscalateForm(StateGuardForm):
    reason = long_text("Why was it not resolved?", name="The reason", required_message="Enter why")
    oversight_note = long_text(
        "Management oversight note",
        required_message="Enter your management oversight note",
    )
    escalated_to = short_text(
        "Escalated to whom",
        required=False,
        help_text="The name and role of the person you are escalating it to, if known",
    )

    def __init__(
        self,
        *args: Any,
        reason_label: str = "",
        needs_oversight: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if reason_label:
            self.fields["reason"].label = reason_label
        if not needs_oversight:
            del self.fields["oversight_note"]


class OutcomeForm(StateGuardForm):
    outcome = forms.ChoiceField(
        label="What is the outcome?",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose the outcome",
            "invalid_choice": "Choose the outcome",
        },
    )
    summary = long_text(
        "Summary of the outcome",
        required_message="Enter a summary of the outcome",
    )

    def __init__(self, *args: Any, outcomes: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        outcome = self.fields["outcome"]
        assert isinstance(outcome, forms.ChoiceField)
        outcome.choices = outcomes
        for number in range(1, MAX_ACTIONS + 1):
            self.fields[f"action_{number}_description"] = long_text(
                f"Action {number}: what will be done",
                name=f"Action {number}",
                required=False,
                rows=2,
            )
            self.fields[f"action_{number}_owner"] = short_text(
                f"Action {number}: who owns it",
                name=f"The owner of action {number}",
                required=False,
                help_text="Name, role and agency",
            )
            self.fields[f"action_{number}_due"] = GovukDateField(
                label=f"Action {number}: due date",
                required=False,
                earliest_year=EARLIEST_YEAR,
                help_text="For example, 27 3 2027",
            )

    @property
    def action_rows(self) -> list[tuple[int, BoundField, BoundField, BoundField]]:
        return [
            (
                number,
                self[f"action_{number}_description"],
                self[f"action_{number}_owner"],
                self[f"action_{number}_due"],
            )
            for number in range(1, MAX_ACTIONS + 1)
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for number in range(1, MAX_ACTIONS + 1):
            description = cleaned.get(f"action_{number}_description", "")
            owner = cleaned.get(f"action_{number}_owner", "")
            due = cleaned.get(f"action_{number}_due")
            started = bool(description or owner or due) or any(
                f"action_{number}_{part}" in self.errors for part in ("description", "owner")
            )
            if not started:
                continue
            if not description and f"action_{number}_description" not in self.errors:
                self.add_error(f"action_{number}_description", f"Enter what action {number} is")
            if not owner and f"action_{number}_owner" not in self.errors:
                self.add_error(f"action_{number}_owner", f"Enter who owns action {number}")
        return cleaned

    def actions(self) -> list[ActionDetails]:
        found = []
        for number in range(1, MAX_ACTIONS + 1):
            description = self.cleaned_data.get(f"action_{number}_description", "")
            owner = self.cleaned_data.get(f"action_{number}_owner", "")
            if description and owner:
                found.append(
                    ActionDetails(
                        description=description,
                        owner=owner,
                        due_date=self.cleaned_data.get(f"action_{number}_due"),
                    )
                )
        return found


class AcceptPartialOutcomeForm(StateGuardForm):
    reason = long_text(
        "Why is your agency accepting the partial outcome?",
        name="The reason",
        required_message="Enter why your agency is accepting the partial outcome",
    )


class PauseClockForm(StateGuardForm):
    reason = long_text(
        "Why are you pausing the clock?",
        name="The reason",
        required_message="Enter why you are pausing the clock",
        help_text="For example, awaiting a core group meeting",
        rows=3,
    )


class ShortenClockForm(StateGuardForm):
    due_at = GovukDateField(
        label="New due date",
        future_only=True,
        earliest_year=EARLIEST_YEAR,
        help_text="For example, 27 3 2027",
        error_messages={"required": "Enter the new due date"},
    )
    due_time = short_text(
        "New due time",
        required_message="Enter the new due time",
        help_text="Use the 24-hour clock, for example, 14:30",
        classes="govuk-input--width-5",
    )
    reason = long_text(
        "Why does the child's need call for an earlier date?",
        name="The reason",
        required_message="Enter why the due date is brought forward",
        rows=3,
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        raw_time = cleaned.get("due_time")
        if not raw_time:
            return cleaned
        try:
            at = parse_time(raw_time)
        except ValueError:
            at = None
        if at is None:
            self.add_error(
                "due_time", "Enter a real time, using the 24-hour clock, for example, 14:30"
            )
            return cleaned
        day = cleaned.get("due_at")
        if isinstance(day, date):
            cleaned["due_moment"] = local_moment(day, at)
        return cleaned


class CloseForm(StateGuardForm):
    learning = long_text(
        "What is the learning from this difference?",
        name="The learning",
        required_message="Enter the learning from this difference",
    )
    protocol_amendment_recommended = forms.ChoiceField(
        label="Does the protocol need amending?",
        choices=[("yes", "Yes"), ("no", "No")],
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose whether the protocol needs amending",
            "invalid_choice": "Choose whether the protocol needs amending",
        },
    )
    protocol_amendment_note = long_text(
        "Which amendment is recommended?",
        name="The amendment",
        required=False,
        help_text="Only if the protocol needs amending",
        rows=3,
    )


class CorrectionForm(forms.Form):
    reason = long_text(
        "What was wrong?",
        name="What was wrong",
        required_message="Enter what was wrong with the entry",
        rows=3,
    )
    facts = long_text("Corrected facts", required=False)
    opinion = long_text("Corrected professional opinion", required=False)
    outcome = long_text("Corrected outcome agreed", required=False, rows=3)
