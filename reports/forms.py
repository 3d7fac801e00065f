"""The report's period form (GET, works without JavaScript) and the learning themes form."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms

from agencies.models import Partnership
from reports.periods import PRESET_CUSTOM, PRESET_LAST_HALF, PRESETS, Period, preset_period
from ui.forms import GovukDateField

EARLIEST_YEAR = 2000
LONGEST_PERIOD_DAYS = 5 * 366

START_REQUIRED = "Enter the date the period starts"
END_REQUIRED = "Enter the date the period ends"
END_BEFORE_START = "The date the period ends must be the same as or after the date it starts"
TOO_LONG = "The period must be 5 years or shorter"
CHOOSE_PARTNERSHIP = "Choose a partnership"


class PeriodForm(forms.Form):
    partnership = forms.TypedChoiceField(
        label="Partnership", coerce=int, required=False, choices=()
    )
    period = forms.ChoiceField(
        label="Period",
        choices=PRESETS,
        widget=forms.RadioSelect,
        required=False,
    )
    start = GovukDateField(label="Start date", required=False, earliest_year=EARLIEST_YEAR)
    end = GovukDateField(label="End date", required=False, earliest_year=EARLIEST_YEAR)
    exact = forms.BooleanField(
        label="Internal copy with exact numbers (downloads not for circulation)",
        required=False,
    )

    def __init__(
        self,
        data: Any = None,
        *,
        partnerships: list[Partnership],
        today: date,
        allow_exact: bool = False,
    ) -> None:
        super().__init__(data)
        self.today = today
        self.partnerships = partnerships
        partnership_field = self.fields["partnership"]
        assert isinstance(partnership_field, forms.TypedChoiceField)
        partnership_field.choices = [(p.pk, p.name) for p in partnerships]
        if len(partnerships) < 2:
            partnership_field.widget = forms.HiddenInput()
        if not allow_exact:
            del self.fields["exact"]
        self.fields["start"].help_text = "For example, 1 4 2026"
        self.fields["end"].help_text = "For example, 30 9 2026"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("period") in (None, ""):
            cleaned["period"] = PRESET_LAST_HALF
        if cleaned["period"] != PRESET_CUSTOM:
            return cleaned
        start, end = cleaned.get("start"), cleaned.get("end")
        if "start" not in self.errors and start is None:
            self.add_error("start", START_REQUIRED)
        if "end" not in self.errors and end is None:
            self.add_error("end", END_REQUIRED)
        if start is not None and end is not None:
            if end < start:
                self.add_error("end", END_BEFORE_START)
            elif end - start > timedelta(days=LONGEST_PERIOD_DAYS):
                self.add_error("end", TOO_LONG)
        return cleaned

    def show_dates_as_required(self) -> None:
        """After validation: label the dates without "(optional)" (they are needed for
        another period, which is the only time they are read)."""
        self.fields["start"].required = True
        self.fields["end"].required = True

    def chosen_partnership(self) -> Partnership:
        chosen = self.cleaned_data.get("partnership") if self.is_bound else None
        for partnership in self.partnerships:
            if partnership.pk == chosen:
                return partnership
        return self.partnerships[0]

    def chosen_period(self) -> Period:
        """The period asked for (the default when the form is unbound)."""
        preset = self.cleaned_data.get("period") if self.is_bound else PRESET_LAST_HALF
        if preset == PRESET_CUSTOM:
            return Period(self.cleaned_data["start"], self.cleaned_data["end"])
        return preset_period(preset or PRESET_LAST_HALF, self.today)

    def wants_exact(self) -> bool:
        if not self.is_bound or "exact" not in self.fields:
            return False
        return bool(self.cleaned_data.get("exact"))


class LearningThemesForm(forms.Form):
    themes = forms.TypedMultipleChoiceField(
        label="Learning themes",
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Select all that apply. The partnership's administrators keep this list.",
    )

    def __init__(self, data: Any = None, *, choices: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        themes = self.fields["themes"]
        assert isinstance(themes, forms.TypedMultipleChoiceField)
        themes.choices = choices
