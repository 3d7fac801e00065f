"""Form pieces for the GOV.UK design system: the three-box date input."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError


class GovukDateWidget(forms.MultiWidget):
    """Day, month and year boxes (GOV.UK date input)."""

    template_name = "ui/widgets/date.html"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        widgets: dict[str, forms.Widget | type[forms.Widget]] = {
            "day": forms.TextInput(attrs={"inputmode": "numeric", "maxlength": 2}),
            "month": forms.TextInput(attrs={"inputmode": "numeric", "maxlength": 2}),
            "year": forms.TextInput(attrs={"inputmode": "numeric", "maxlength": 4}),
        }
        super().__init__(widgets, attrs)

    def decompress(self, value: Any) -> list[Any]:
        if isinstance(value, date):
            return [value.day, value.month, value.year]
        return [None, None, None]


class GovukDateField(forms.MultiValueField):
    """A date from three boxes, with the GOV.UK error messages."""

    widget = GovukDateWidget

    def __init__(
        self,
        *,
        past_only: bool = False,
        future_only: bool = False,
        earliest_year: int = 1900,
        **kwargs: Any,
    ) -> None:
        self.past_only = past_only
        self.future_only = future_only
        self.earliest_year = earliest_year
        # Each box is short: a longer value is not a date (and is refused before parsing).
        too_long = {"max_length": f"{kwargs.get('label') or 'The date'} must be a real date"}
        fields = (
            forms.CharField(required=False, max_length=2, error_messages=too_long),
            forms.CharField(required=False, max_length=2, error_messages=too_long),
            forms.CharField(required=False, max_length=4, error_messages=too_long),
        )
        super().__init__(fields=fields, require_all_fields=False, **kwargs)

    def compress(self, data_list: list[Any]) -> date | None:
        if not data_list or not any(part for part in data_list):
            return None
        label = str(self.label or "The date")
        day, month, year = (str(part or "").strip() for part in data_list)
        missing = [
            name for name, part in (("day", day), ("month", month), ("year", year)) if not part
        ]
        if missing:
            raise ValidationError(f"{label} must include a {' and a '.join(missing)}")
        if not (day.isdigit() and month.isdigit() and year.isdigit()) or len(year) != 4:
            raise ValidationError(f"{label} must be a real date")
        try:
            value = date(int(year), int(month), int(day))
        except ValueError:
            raise ValidationError(f"{label} must be a real date") from None
        if value.year < self.earliest_year:
            raise ValidationError(f"{label} must be {self.earliest_year} or later")
        if self.past_only and value > date.today():
            raise ValidationError(f"{label} must be today or in the past")
        if self.future_only and value < date.today():
            raise ValidationError(f"{label} must be today or in the future")
        return value
