"""Reporting periods: the half-years, the financial year, any date range, and the period the
report compares with.

A period is a range of whole local (Europe/London) dates, first and last day included. As
instants it runs from 00:00 on its first day to 00:00 on the day after its last day
(``[starts_at, ends_at)``), so an event at 23:59 on 30 September belongs to April–September
and one at 00:00 on 1 October to the next half-year.

Half-years run 1 April–30 September and 1 October–31 March; the financial year 1 April–31
March.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")

PRESET_LAST_HALF = "last-half"
PRESET_PREVIOUS_HALF = "previous-half"
PRESET_FINANCIAL_YEAR = "financial-year"
PRESET_CUSTOM = "custom"

PRESETS: tuple[tuple[str, str], ...] = (
    (PRESET_LAST_HALF, "The last complete half-year"),
    (PRESET_PREVIOUS_HALF, "The half-year before that"),
    (PRESET_FINANCIAL_YEAR, "The last complete financial year (1 April to 31 March)"),
    (PRESET_CUSTOM, "Another period"),
)


def local_midnight(day: date) -> datetime:
    """00:00 of ``day`` in Europe/London, as an aware datetime."""
    return datetime(day.year, day.month, day.day, tzinfo=LONDON)


@dataclass(frozen=True)
class Period:
    first_day: date
    last_day: date

    def __post_init__(self) -> None:
        if self.last_day < self.first_day:
            raise ValueError("A period's last day cannot be before its first day.")

    @property
    def starts_at(self) -> datetime:
        return local_midnight(self.first_day)

    @property
    def ends_at(self) -> datetime:
        """The first instant after the period (exclusive end)."""
        return local_midnight(self.last_day + timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    @property
    def label(self) -> str:
        return f"{_long(self.first_day)} to {_long(self.last_day)}"

    @property
    def slug(self) -> str:
        return f"{self.first_day:%Y-%m-%d}-to-{self.last_day:%Y-%m-%d}"

    def months(self) -> list[date]:
        """The first day of every calendar month the period touches."""
        found = []
        month = self.first_day.replace(day=1)
        while month <= self.last_day:
            found.append(month)
            month = _add_months(month, 1)
        return found

    def previous(self) -> Period:
        """The period of the same length just before this one.

        A period of whole calendar months (e.g. a half-year) is compared with the same number
        of whole months before it (April–September with October–March); any other range with
        the same number of days before it.
        """
        next_day = self.last_day + timedelta(days=1)
        if self.first_day.day == 1 and next_day.day == 1:
            months = (next_day.year - self.first_day.year) * 12 + (
                next_day.month - self.first_day.month
            )
            first = _add_months(self.first_day, -months)
            return Period(first, self.first_day - timedelta(days=1))
        return Period(
            self.first_day - timedelta(days=self.days), self.first_day - timedelta(days=1)
        )


def _long(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def _add_months(day: date, months: int) -> date:
    """The first of the month ``months`` after (or before) ``day``'s month."""
    index = day.year * 12 + (day.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


def last_complete_half_year(today: date) -> Period:
    """The latest half-year (1 Apr–30 Sep or 1 Oct–31 Mar) that ended before ``today``."""
    if today.month >= 10:
        return Period(date(today.year, 4, 1), date(today.year, 9, 30))
    if today.month >= 4:
        return Period(date(today.year - 1, 10, 1), date(today.year, 3, 31))
    return Period(date(today.year - 1, 4, 1), date(today.year - 1, 9, 30))


def last_complete_financial_year(today: date) -> Period:
    """The latest financial year (1 Apr–31 Mar) that ended before ``today``."""
    year = today.year if today.month >= 4 else today.year - 1
    return Period(date(year - 1, 4, 1), date(year, 3, 31))


def preset_period(preset: str, today: date) -> Period:
    """The period a preset stands for on ``today``."""
    if preset == PRESET_LAST_HALF:
        return last_complete_half_year(today)
    if preset == PRESET_PREVIOUS_HALF:
        return last_complete_half_year(today).previous()
    if preset == PRESET_FINANCIAL_YEAR:
        return last_complete_financial_year(today)
    raise ValueError(f"Unknown period preset {preset!r}.")
