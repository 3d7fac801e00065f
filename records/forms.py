"""Forms of the administration pages: the access log's filters, legal hold, anonymisation
confirmation and the subject access search. Forms validate shape only."""

from __future__ import annotations

import re
from typing import Any

from django import forms

from records.retention import HOLD_REASON_LIMIT
from ui.forms import GovukDateField

REFERENCE_PATTERN = re.compile(r"PD-\d{4}-\d{1,9}", re.IGNORECASE)
CASE_REFERENCE_INVALID = "Enter a case reference like PD-2026-12"
PERSON_TOO_LONG = "The username must be 150 characters or fewer"
CASE_TOO_LONG = "The case reference must be 20 characters or fewer"
REFERENCE_REQUIRED = "Enter the case reference"
HOLD_CHOICE_REQUIRED = "Select whether the case is on legal hold"
HOLD_REASON_REQUIRED = "Enter why the case is on legal hold"
HOLD_REASON_TOO_LONG = f"The reason must be {HOLD_REASON_LIMIT} characters or fewer"
CONFIRM_REQUIRED = "Confirm that this case should be anonymised"
NAME_REQUIRED = "Enter the child's name"
NAME_TOO_LONG = "The child's name must be 200 characters or fewer"


def _reference(value: str) -> str:
    text = " ".join(value.split()).upper()
    if text and not REFERENCE_PATTERN.fullmatch(text):
        raise forms.ValidationError(CASE_REFERENCE_INVALID)
    return text


class AccessLogFilterForm(forms.Form):
    partnership = forms.TypedChoiceField(
        label="Partnership", coerce=int, required=False, choices=()
    )
    person = forms.CharField(
        label="Person (username)",
        max_length=150,
        required=False,
        error_messages={"max_length": PERSON_TOO_LONG},
    )
    case = forms.CharField(
        label="Case reference",
        help_text="For example, PD-2026-12",
        max_length=20,
        required=False,
        error_messages={"max_length": CASE_TOO_LONG},
    )
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, data: Any = None, *, partnerships: list[Any]) -> None:
        super().__init__(data)
        field: Any = self.fields["partnership"]
        field.choices = [(p.pk, p.name) for p in partnerships]
        if len(partnerships) < 2:
            del self.fields["partnership"]

    def clean_person(self) -> str:
        return str(self.cleaned_data.get("person") or "").strip()

    def clean_case(self) -> str:
        return _reference(str(self.cleaned_data.get("case") or ""))


class CaseReferenceForm(forms.Form):
    reference = forms.CharField(
        label="Case reference",
        help_text="For example, PD-2026-12",
        max_length=20,
        error_messages={"required": REFERENCE_REQUIRED, "max_length": CASE_TOO_LONG},
    )

    def clean_reference(self) -> str:
        return _reference(str(self.cleaned_data.get("reference") or ""))


class LegalHoldForm(forms.Form):
    on_hold = forms.TypedChoiceField(
        label="Is this case on legal hold?",
        choices=[("yes", "Yes, keep it (it will not be anonymised)"), ("no", "No")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": HOLD_CHOICE_REQUIRED, "invalid_choice": HOLD_CHOICE_REQUIRED},
    )
    reason = forms.CharField(
        label="Why",
        help_text="For example, the litigation, inquiry or review that needs the case kept.",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=HOLD_REASON_LIMIT,
        error_messages={"required": HOLD_REASON_REQUIRED, "max_length": HOLD_REASON_TOO_LONG},
    )


class AnonymiseConfirmForm(forms.Form):
    confirm = forms.BooleanField(
        label="I confirm this case is past its retention period, is not needed for any legal "
        "or review purpose, and should be anonymised now",
        error_messages={"required": CONFIRM_REQUIRED},
    )


class SubjectAccessSearchForm(forms.Form):
    name = forms.CharField(
        label="Child's name",
        help_text="All or part of the name",
        max_length=200,
        error_messages={"required": NAME_REQUIRED, "max_length": NAME_TOO_LONG},
    )
    date_of_birth = GovukDateField(
        label="Date of birth", required=False, past_only=True, earliest_year=1990
    )

    def clean_name(self) -> str:
        name = " ".join(str(self.cleaned_data.get("name") or "").split())
        if not name:
            raise forms.ValidationError(NAME_REQUIRED)
        return name
