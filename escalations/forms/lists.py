"""The case list's filters: a GET form that works without JavaScript.

Shape only. Choices the person could not have been offered (a tampered status, an agency of
another partnership) are errors on the field, shown in the error summary; the list then
ignores that filter and applies the rest.
"""

from __future__ import annotations

from typing import Any

from django import forms

from agencies.models import Agency, Category
from escalations.states import STAGE_RANK, Status
from ui.forms import GovukDateField

SORT_NEWEST = "newest"
SORT_OLDEST = "oldest"
SORT_DUE = "due"
SORT_CHOICES = [
    (SORT_NEWEST, "Raised date (newest first)"),
    (SORT_OLDEST, "Raised date (oldest first)"),
    (SORT_DUE, "Due date (soonest first)"),
]

ANY = [("", "Any")]
LATEST_YEAR = 2999
STAGE_CHOICES = [(value, Status(value).label) for value in STAGE_RANK]


class CaseFilterForm(forms.Form):
    """Filters, search and sort for the case list (every field optional)."""

    q = forms.CharField(
        label="Case reference or child's name",
        required=False,
        max_length=200,
        strip=True,
    )
    status = forms.ChoiceField(label="Status", required=False, choices=ANY + Status.choices)
    stage = forms.ChoiceField(label="Stage", required=False, choices=ANY + STAGE_CHOICES)
    agency = forms.ModelChoiceField(
        label="Agency party to the case",
        required=False,
        queryset=Agency.objects.none(),
        empty_label="Any",
        error_messages={"invalid_choice": "Choose an agency from the list"},
    )
    category = forms.ModelChoiceField(
        label="Category",
        required=False,
        queryset=Category.objects.none(),
        empty_label="Any",
        error_messages={"invalid_choice": "Choose a category from the list"},
    )
    breached = forms.BooleanField(
        label="Only cases that breached a stage timeframe", required=False
    )
    urgent = forms.BooleanField(label="Only urgent-track cases", required=False)
    mine = forms.BooleanField(label="Only cases I raised", required=False)
    raised_from = GovukDateField(label="Raised from", required=False, earliest_year=2000)
    raised_to = GovukDateField(label="Raised to", required=False, earliest_year=2000)
    sort = forms.ChoiceField(label="Sort by", required=False, choices=SORT_CHOICES)

    def __init__(self, *args: Any, partnership_ids: list[int] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        ids = partnership_ids or []
        agency_field: Any = self.fields["agency"]
        agency_field.queryset = Agency.objects.filter(partnership_id__in=ids).order_by("name")
        category_field: Any = self.fields["category"]
        category_field.queryset = Category.objects.filter(partnership_id__in=ids).order_by(
            "position", "name"
        )
        for name in ("status", "stage", "sort"):
            self.fields[name].error_messages["invalid_choice"] = (
                f"Choose a {self.fields[name].label.lower()} from the list"  # type: ignore[union-attr]
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in ("raised_from", "raised_to"):
            value = cleaned.get(name)
            if value is not None and value.year > LATEST_YEAR:
                self.add_error(name, f"{self.fields[name].label} must be before {LATEST_YEAR + 1}")
        start, end = cleaned.get("raised_from"), cleaned.get("raised_to")
        if start and end and start > end:
            self.add_error("raised_to", "Raised to must be the same as or after raised from")
        return cleaned

    def filters(self) -> dict[str, Any]:
        """The valid filters (an invalid one is left out, so the rest still apply)."""
        data = getattr(self, "cleaned_data", {})
        return {key: value for key, value in data.items() if value not in (None, "", False)}

    def is_filtered(self) -> bool:
        return any(key not in ("sort",) for key in self.filters())
