"""Stage clocks: when a stage entered now falls due, on the partnership's working calendar."""

from __future__ import annotations

from datetime import datetime

from agencies.models import Partnership, StageTimeframe, TimeUnit
from escalations.working_time import WorkingCalendar, add_working_days, add_working_hours


def partnership_calendar(partnership: Partnership) -> WorkingCalendar:
    """The partnership's working calendar: its nation's bank holidays and its closure days."""
    closure_days = frozenset(partnership.closure_days.values_list("date", flat=True))
    return WorkingCalendar.for_nation(partnership.nation, closure_days)


def stage_due_at(
    *, partnership: Partnership, stage: str, track: str, entered_at: datetime
) -> datetime:
    """The moment a stage entered at ``entered_at`` falls due (spec §4)."""
    timeframe = StageTimeframe.objects.get(partnership=partnership, stage=stage, track=track)
    calendar = partnership_calendar(partnership)
    if timeframe.unit == TimeUnit.HOURS:
        return add_working_hours(entered_at, timeframe.value, calendar)
    return add_working_days(entered_at, timeframe.value, calendar)
