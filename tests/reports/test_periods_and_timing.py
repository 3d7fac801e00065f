"""Reporting periods and the report's working-time table."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from escalations.working_time import WorkingCalendar, working_days_between
from reports.periods import (
    LONDON,
    PRESET_FINANCIAL_YEAR,
    PRESET_LAST_HALF,
    PRESET_PREVIOUS_HALF,
    Period,
    last_complete_half_year,
    preset_period,
)
from reports.timing import WorkingClock


def test_the_last_complete_half_year() -> None:
    assert last_complete_half_year(date(2026, 11, 21)) == Period(
        date(2026, 4, 1), date(2026, 9, 30)
    )
    assert last_complete_half_year(date(2026, 10, 1)) == Period(date(2026, 4, 1), date(2026, 9, 30))
    assert last_complete_half_year(date(2026, 9, 30)) == Period(
        date(2025, 10, 1), date(2026, 3, 31)
    )
    assert last_complete_half_year(date(2026, 4, 1)) == Period(date(2025, 10, 1), date(2026, 3, 31))
    assert last_complete_half_year(date(2026, 3, 31)) == Period(date(2025, 4, 1), date(2025, 9, 30))
    assert last_complete_half_year(date(2026, 1, 1)) == Period(date(2025, 4, 1), date(2025, 9, 30))


def test_presets() -> None:
    today = date(2026, 11, 21)
    assert preset_period(PRESET_LAST_HALF, today) == Period(date(2026, 4, 1), date(2026, 9, 30))
    assert preset_period(PRESET_PREVIOUS_HALF, today) == Period(
        date(2025, 10, 1), date(2026, 3, 31)
    )
    assert preset_period(PRESET_FINANCIAL_YEAR, today) == Period(
        date(2025, 4, 1), date(2026, 3, 31)
    )
    assert preset_period(PRESET_FINANCIAL_YEAR, date(2026, 3, 31)) == Period(
        date(2024, 4, 1), date(2025, 3, 31)
    )


def test_the_previous_period_has_the_same_length() -> None:
    assert Period(date(2026, 4, 1), date(2026, 9, 30)).previous() == Period(
        date(2025, 10, 1), date(2026, 3, 31)
    )
    assert Period(date(2025, 4, 1), date(2026, 3, 31)).previous() == Period(
        date(2024, 4, 1), date(2025, 3, 31)
    )
    assert Period(date(2026, 1, 10), date(2026, 1, 19)).previous() == Period(
        date(2025, 12, 31), date(2026, 1, 9)
    )


def test_a_period_runs_from_local_midnight_to_local_midnight() -> None:
    period = Period(date(2026, 4, 1), date(2026, 9, 30))
    assert period.starts_at == datetime(2026, 4, 1, tzinfo=LONDON)
    assert period.ends_at == datetime(2026, 10, 1, tzinfo=LONDON)
    assert period.ends_at.astimezone(UTC) == datetime(2026, 9, 30, 23, tzinfo=UTC)


CALENDAR = WorkingCalendar.for_nation("england_wales", [date(2026, 12, 24), date(2027, 4, 1)])
CLOCK = WorkingClock(CALENDAR, date(2025, 1, 1), date(2027, 12, 31))
START = datetime(2025, 1, 1, tzinfo=UTC)
moments = st.integers(min_value=0, max_value=3 * 365 * 24 * 60).map(
    lambda minutes: START + timedelta(minutes=minutes)
)


@settings(max_examples=400, deadline=None)
@given(moments, moments)
def test_the_table_agrees_with_working_days_between(a: datetime, b: datetime) -> None:
    """Across bank holidays, closure days and both clock changes."""
    assert CLOCK.days_between(a, b) == pytest.approx(working_days_between(a, b, CALENDAR), abs=1e-9)


def test_outside_the_table_it_falls_back_to_the_calendar() -> None:
    clock = WorkingClock(CALENDAR, date(2026, 1, 1), date(2026, 1, 31))
    a, b = datetime(2025, 6, 2, 9, tzinfo=LONDON), datetime(2026, 3, 2, 9, tzinfo=LONDON)
    assert clock.days_between(a, b) == pytest.approx(working_days_between(a, b, CALENDAR))
