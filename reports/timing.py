"""Working time for many intervals at once, on the partnership's calendar.

``escalations.working_time.working_time_between`` answers one interval at a time. A report
measures tens of thousands, so this builds, once per report, a table of local midnights over
the dates involved with the working time accumulated before each, and answers each interval
with two binary searches. The definition is the same (a working day contributes its whole real
length between its local midnights, other days nothing); the tests check the two agree.
"""

from __future__ import annotations

import bisect
from datetime import UTC, date, datetime, timedelta

from escalations.working_time import WorkingCalendar, working_days_between
from reports.periods import local_midnight

SECONDS_PER_WORKING_DAY = 86_400.0


class WorkingClock:
    """Working time between instants within ``[first_day, last_day]`` (local dates)."""

    def __init__(self, calendar: WorkingCalendar, first_day: date, last_day: date) -> None:
        self.calendar = calendar
        self.first_day = first_day
        self.last_day = last_day
        midnights: list[float] = []
        cumulative: list[float] = []
        working: list[bool] = []
        total = 0.0
        day = first_day
        start = local_midnight(day).timestamp()
        while day <= last_day + timedelta(days=1):
            following = local_midnight(day + timedelta(days=1)).timestamp()
            is_working = calendar.is_working_day(day)
            midnights.append(start)
            cumulative.append(total)
            working.append(is_working)
            if is_working:
                total += following - start
            start = following
            day += timedelta(days=1)
        self._midnights = midnights
        self._cumulative = cumulative
        self._working = working
        self._low = midnights[0]
        self._high = midnights[-1]

    def arrays(self) -> tuple[list[float], list[float], list[float]]:
        """The table as three arrays for SQL (``reports_working_days``): each local midnight
        (epoch seconds), and for the day it starts the working position at epoch 0 and the
        slope, so that position(t) = base[i] + slope[i] * t for the day i holding t."""
        bases = [
            cumulative - (midnight if working else 0.0)
            for midnight, cumulative, working in zip(
                self._midnights, self._cumulative, self._working, strict=True
            )
        ]
        slopes = [1.0 if working else 0.0 for working in self._working]
        return list(self._midnights), bases, slopes

    def position(self, moment: datetime) -> float:
        """Working seconds from the table's first midnight to ``moment``."""
        seconds = moment.timestamp()
        if not self._low <= seconds < self._high:
            origin = datetime.fromtimestamp(self._low, tz=UTC)
            return working_days_between(origin, moment, self.calendar) * SECONDS_PER_WORKING_DAY
        index = bisect.bisect_right(self._midnights, seconds) - 1
        value = self._cumulative[index]
        if self._working[index]:
            value += seconds - self._midnights[index]
        return value

    def days_between(self, start: datetime, end: datetime) -> float:
        """Working days (of 24 working hours) from ``start`` to ``end``."""
        return (self.position(end) - self.position(start)) / SECONDS_PER_WORKING_DAY
