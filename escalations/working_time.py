"""Working-day and working-hour arithmetic for the escalation protocol.

Pure Python: this module must not import Django.

Calendar
--------
A *working day* is a local (Europe/London) calendar date that is Monday to Friday, is not
a bank holiday of the partnership's nation, and is not one of the partnership's own
``closure_days``.  Bank holidays come from the ``holidays`` package, country "GB":

* ``"england_wales"`` -> subdivision ``"ENG"``.  England and Wales share one set of bank
  holidays (the package's ``"WLS"`` list is identical), so ``"ENG"`` stands for both.
* ``"scotland"`` -> ``"SCT"``.
* ``"northern_ireland"`` -> ``"NIR"``.

The package includes the official substitute ("observed") days, e.g. Monday 28 Dec 2026
for Boxing Day falling on a Saturday, which is what we want.  It also lists the
weekend dates themselves; they are harmless because weekends are never working days.

Working time
------------
"Working time" counts every instant whose local Europe/London date is a working day and
nothing else.  Each working day therefore contributes its full real length, measured
between its two local midnights as aware datetimes (24 h; it would be 23 h or 25 h on a
clock-change day, but UK clocks change on Sundays, so every working day is 24 h in
practice).  All arithmetic is done on real instants (in UTC internally), never on wall
clock values, so it is correct across the clock changes on the last Sundays of March and
October.  A working-day timeframe is n whole working days; an hour timeframe is counted in
the same working time (hours on working days only).  "n working days" of working time
means ``n * 24 h``; ``working_days_between`` is ``working_time_between / 24 h``.

Adding
------
``add_working_hours(start, h)`` returns the *latest* instant ``r`` such that
``working_time_between(start, r) == timedelta(hours=h)``.  Working time only grows on
working days, so that instant always lies on a working day; in particular:

* a start on a non-working day is treated as 00:00 of the next working day (the clock
  only starts running then), and
* when the amount runs out exactly at the end of a working day the result is 00:00 of
  the next working day, not the midnight that begins a weekend or holiday.

``add_working_days(start, n)`` follows the same rule and, because every working day is
24 h long, keeps the wall clock:

* start on a working day D at local time t: the result is time t on the n-th working day
  after D (n == 0 returns ``start`` itself);
* start on a non-working day: the start is moved to 00:00 of the next working day W, and
  the result is 00:00 of the n-th working day after W (for n == 0: 00:00 of W).  Exactly
  n working days of working time lie between start and result, and the result is the
  start of a working day, not the 00:00 that begins a weekend or holiday.

If the wall time does not exist or is ambiguous on the target day, it is resolved with
``fold=0`` and normalised through UTC (a time in the spring gap moves forward by the
gap).  Target days are working days, so this cannot happen with UK rules.

``subtract_working_time(due, delta)`` returns the latest instant ``r <= due`` with
``working_time_between(r, due) == delta`` (for ``delta == 0`` that is ``due`` itself), so
``subtract_working_time(add_working_hours(s, h), h)`` gives back ``s`` whenever ``s`` is on
a working day, and otherwise 00:00 of the next working day.

Negative amounts (n < 0, hours < 0, delta < 0) raise ``ValueError``.
``working_time_between(a, b)`` counts ``[a, b)`` and returns the negated value
``-working_time_between(b, a)`` when ``b < a``.  Results are aware datetimes in
Europe/London.  Naive datetimes and unknown nations raise ``ValueError``.

Complexity
----------
Bank holidays are looked up once per (nation, year) and cached; the sorted weekday
non-working dates and the clock-change days are cached per (calendar, year).
``is_working_day`` is O(1).  ``working_time_between`` counts whole weeks arithmetically and
subtracts the holidays and closure days in range with ``bisect``: O(years spanned * log h),
independent of the number of days.  ``add_working_days`` jumps whole weeks and corrects
with the same counter, then steps at most five working days one at a time.
``add_working_hours`` and ``subtract_working_time`` do the same for the whole days in the
amount, so none of the functions loops minute by minute or over every day of a long span
(a long run of consecutive closure days is still stepped over day by day).
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

__all__ = [
    "LONDON",
    "NATIONS",
    "WorkingCalendar",
    "add_working_days",
    "add_working_hours",
    "is_working_day",
    "load_bank_holidays",
    "next_working_day",
    "previous_working_day",
    "subtract_working_time",
    "whole_working_days_between",
    "working_days_between",
    "working_time_between",
]

LONDON = ZoneInfo("Europe/London")

# England and Wales have the same bank holidays, so "ENG" serves for both.
_SUBDIVISIONS: dict[str, str] = {
    "england_wales": "ENG",
    "scotland": "SCT",
    "northern_ireland": "NIR",
}
NATIONS: tuple[str, ...] = tuple(_SUBDIVISIONS)

_ONE_DAY = timedelta(days=1)
_ZERO = timedelta(0)


@functools.cache
def _bank_holidays(nation: str, year: int) -> frozenset[date]:
    """Return the nation's bank holidays (substitute days included) for one year."""
    found = holidays.country_holidays("GB", subdiv=_SUBDIVISIONS[nation], years=year)
    return frozenset(found.keys())


def load_bank_holidays(around: int | None = None) -> None:
    """Build every nation's bank holidays for the year ``around`` (default: this year in
    London) and the years either side, now rather than on first use. The ``holidays`` package
    loads its tables lazily (about 0.15 s, most of it importing the country's module): a server
    calls this before it forks its workers (``config.wsgi.warm_up``, the Celery worker's
    ``worker_init``), so no request and no deadline scan pays for it."""
    year = around if around is not None else datetime.now(LONDON).year
    for nation in NATIONS:
        for each in (year - 1, year, year + 1):
            _bank_holidays(nation, each)


@dataclass(frozen=True)
class WorkingCalendar:
    """A nation's bank holidays plus a partnership's own closure days."""

    nation: str
    closure_days: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        """Validate the nation and coerce closure days to a frozenset of plain dates."""
        if self.nation not in _SUBDIVISIONS:
            raise ValueError(
                f"Unknown nation {self.nation!r}; expected one of {', '.join(NATIONS)}."
            )
        days = frozenset(self.closure_days)
        for day in days:
            if isinstance(day, datetime) or not isinstance(day, date):
                raise ValueError(f"Closure days must be dates, not {day!r}.")
        object.__setattr__(self, "closure_days", days)

    @classmethod
    def for_nation(cls, nation: str, closure_days: Iterable[date] = ()) -> WorkingCalendar:
        """Build a calendar for a nation with optional local closure days."""
        return cls(nation=nation, closure_days=frozenset(closure_days))

    def is_working_day(self, d: date) -> bool:
        """Return True if the local date d is a working day in this calendar."""
        return (
            d.weekday() < 5
            and d not in self.closure_days
            and d not in _bank_holidays(self.nation, d.year)
        )


# --- cached per-year tables -------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _blocked_weekdays(calendar: WorkingCalendar, year: int) -> tuple[date, ...]:
    """Return the sorted Monday-Friday dates of a year that are not working days."""
    candidates = _bank_holidays(calendar.nation, year) | {
        d for d in calendar.closure_days if d.year == year
    }
    return tuple(sorted(d for d in candidates if d.weekday() < 5))


@functools.lru_cache(maxsize=256)
def _odd_length_days(year: int) -> tuple[tuple[date, timedelta], ...]:
    """Return the dates of a year whose real local length is not 24 h, with the excess."""
    found: list[tuple[date, timedelta]] = []
    d = date(year, 1, 1)
    current = _midnight(d)
    while d.year == year:
        following = _midnight(d + _ONE_DAY)
        if following - current != _ONE_DAY:
            found.append((d, following - current - _ONE_DAY))
        d += _ONE_DAY
        current = following
    return tuple(found)


# --- small helpers ----------------------------------------------------------------------


def _midnight(d: date) -> datetime:
    """Return the instant (in UTC) of local 00:00 at the start of date d."""
    return datetime(d.year, d.month, d.day, tzinfo=LONDON).astimezone(UTC)


def _to_utc(moment: datetime, name: str) -> datetime:
    """Check that a datetime is aware and return it converted to UTC."""
    if not isinstance(moment, datetime):
        raise ValueError(f"{name} must be a datetime, not {type(moment).__name__}.")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {moment!r}.")
    return moment.astimezone(UTC)


def _local_date(instant: datetime) -> date:
    """Return the Europe/London calendar date of an instant."""
    return instant.astimezone(LONDON).date()


def _check_calendar(calendar: WorkingCalendar) -> None:
    """Raise ValueError unless calendar is a WorkingCalendar."""
    if not isinstance(calendar, WorkingCalendar):
        raise ValueError(f"calendar must be a WorkingCalendar, not {type(calendar).__name__}.")


def _check_date(d: date) -> None:
    """Raise ValueError unless d is a plain date (a datetime's date would be ambiguous)."""
    if isinstance(d, datetime) or not isinstance(d, date):
        raise ValueError(f"Expected a date, got {d!r}.")


def _localise(d: date, wall: time) -> datetime:
    """Return wall-clock time on date d in London, resolving gaps/overlaps with fold=0."""
    naive = datetime.combine(d, wall.replace(tzinfo=None, fold=0))
    return naive.replace(tzinfo=LONDON).astimezone(UTC).astimezone(LONDON)


def _count_weekdays(start: date, end: date) -> int:
    """Count Monday-Friday dates in [start, end)."""
    weeks, rest = divmod((end - start).days, 7)
    first = start.weekday()
    return weeks * 5 + sum(1 for i in range(rest) if (first + i) % 7 < 5)


def _count_working_days(calendar: WorkingCalendar, start: date, end: date) -> int:
    """Count working days in [start, end) without visiting each day."""
    if end <= start:
        return 0
    blocked = 0
    for year in range(start.year, (end - _ONE_DAY).year + 1):
        table = _blocked_weekdays(calendar, year)
        blocked += bisect.bisect_left(table, end) - bisect.bisect_left(table, start)
    return _count_weekdays(start, end) - blocked


def _full_days_time(calendar: WorkingCalendar, start: date, end: date) -> timedelta:
    """Return the working time of the whole dates in [start, end)."""
    if end <= start:
        return _ZERO
    total = _ONE_DAY * _count_working_days(calendar, start, end)
    for year in range(start.year, (end - _ONE_DAY).year + 1):
        for d, excess in _odd_length_days(year):
            if start <= d < end and calendar.is_working_day(d):
                total += excess
    return total


def _shift(calendar: WorkingCalendar, d: date, n: int) -> date:
    """Return the n-th working day after d (n > 0), before d (n < 0), or d itself (n == 0)."""
    step = 1 if n >= 0 else -1
    remaining = abs(n)
    current = d
    # Jump whole weeks: 7q days hold exactly 5q weekdays, and 5q < remaining, so a jump
    # never uses up the count; the final working day is always found by the steps below.
    while remaining > 5:
        jump = timedelta(days=((remaining - 1) // 5) * 7)
        if step > 0:
            target = current + jump
            remaining -= _count_working_days(calendar, current + _ONE_DAY, target + _ONE_DAY)
        else:
            target = current - jump
            remaining -= _count_working_days(calendar, target, current)
        current = target
    while remaining > 0:
        current += _ONE_DAY * step
        if calendar.is_working_day(current):
            remaining -= 1
    return current


def _check_non_negative(value: timedelta, name: str) -> None:
    """Raise ValueError for a negative amount of working time."""
    if value < _ZERO:
        raise ValueError(f"{name} must not be negative, got {value!r}.")


# --- public API -------------------------------------------------------------------------


def is_working_day(d: date, calendar: WorkingCalendar) -> bool:
    """Return True if the local date d is a working day in the calendar."""
    _check_calendar(calendar)
    _check_date(d)
    return calendar.is_working_day(d)


def next_working_day(d: date, calendar: WorkingCalendar) -> date:
    """Return the first working day strictly after the date d."""
    _check_calendar(calendar)
    _check_date(d)
    return _shift(calendar, d, 1)


def previous_working_day(d: date, calendar: WorkingCalendar) -> date:
    """Return the last working day strictly before the date d."""
    _check_calendar(calendar)
    _check_date(d)
    return _shift(calendar, d, -1)


def working_time_between(a: datetime, b: datetime, calendar: WorkingCalendar) -> timedelta:
    """Return the working time in [a, b), negated if b is before a."""
    _check_calendar(calendar)
    start, end = _to_utc(a, "a"), _to_utc(b, "b")
    if end < start:
        return -_working_time(calendar, end, start)
    return _working_time(calendar, start, end)


def _working_time(calendar: WorkingCalendar, start: datetime, end: datetime) -> timedelta:
    """Return the working time in [start, end) for UTC instants with start <= end."""
    first, last = _local_date(start), _local_date(end)
    if first == last:
        return end - start if calendar.is_working_day(first) else _ZERO
    total = _full_days_time(calendar, first + _ONE_DAY, last)
    if calendar.is_working_day(first):
        total += _midnight(first + _ONE_DAY) - start
    if calendar.is_working_day(last):
        total += end - _midnight(last)
    return total


def working_days_between(a: datetime, b: datetime, calendar: WorkingCalendar) -> float:
    """Return the working time in [a, b) expressed in 24-hour working days."""
    return working_time_between(a, b, calendar) / _ONE_DAY


def whole_working_days_between(a: datetime, b: datetime, calendar: WorkingCalendar) -> int:
    """Return the whole working days in [a, b), rounded down (floor)."""
    return working_time_between(a, b, calendar) // _ONE_DAY


def add_working_days(start: datetime, n: int, calendar: WorkingCalendar) -> datetime:
    """Return the moment n working days after start, keeping the local wall-clock time."""
    _check_calendar(calendar)
    if isinstance(n, bool) or not isinstance(n, int):
        raise ValueError(f"n must be an int, got {n!r}.")
    if n < 0:
        raise ValueError(f"n must not be negative, got {n}.")
    local = _to_utc(start, "start").astimezone(LONDON)
    day = local.date()
    if not calendar.is_working_day(day):
        return _midnight(_shift(calendar, day, n + 1)).astimezone(LONDON)
    if n == 0:
        return local
    return _localise(_shift(calendar, day, n), local.time())


def add_working_hours(start: datetime, hours: int | float, calendar: WorkingCalendar) -> datetime:
    """Return the latest moment with exactly `hours` of working time since start."""
    _check_calendar(calendar)
    remaining = timedelta(hours=hours)
    _check_non_negative(remaining, "hours")
    cursor = _to_utc(start, "start")
    day = _local_date(cursor)
    if not calendar.is_working_day(day):
        day = _shift(calendar, day, 1)
        cursor = _midnight(day)
    # Invariant: `day` is a working day and `cursor` lies in [midnight(day), midnight(day+1)).
    available = _midnight(day + _ONE_DAY) - cursor
    if remaining < available:
        return (cursor + remaining).astimezone(LONDON)
    remaining -= available
    day = _shift(calendar, day, 1)
    # Skip whole working days in one go (exact in the UK, where they are all 24 h).
    whole = remaining // _ONE_DAY
    if whole:
        target = _shift(calendar, day, whole)
        spent = _full_days_time(calendar, day, target)
        if spent <= remaining:
            remaining -= spent
            day = target
    while True:
        length = _midnight(day + _ONE_DAY) - _midnight(day)
        if remaining < length:
            return (_midnight(day) + remaining).astimezone(LONDON)
        remaining -= length
        day = _shift(calendar, day, 1)


def subtract_working_time(due: datetime, delta: timedelta, calendar: WorkingCalendar) -> datetime:
    """Return the latest moment with exactly `delta` of working time before due."""
    _check_calendar(calendar)
    if not isinstance(delta, timedelta):
        raise ValueError(f"delta must be a timedelta, got {delta!r}.")
    _check_non_negative(delta, "delta")
    cursor = _to_utc(due, "due")
    if delta == _ZERO:
        return cursor.astimezone(LONDON)
    remaining = delta
    day = _local_date(cursor)
    if calendar.is_working_day(day):
        available = cursor - _midnight(day)
        if remaining <= available:
            return (cursor - remaining).astimezone(LONDON)
        remaining -= available
    # From here `remaining` > 0 is to be taken from `day` backwards, ending at its close.
    day = _shift(calendar, day, -1)
    whole = remaining // _ONE_DAY
    if whole:
        earliest = _shift(calendar, day, -(whole - 1))
        spent = _full_days_time(calendar, earliest, day + _ONE_DAY)
        if spent == remaining:
            return _midnight(earliest).astimezone(LONDON)
        if spent < remaining:
            remaining -= spent
            day = _shift(calendar, earliest, -1)
    while True:
        end = _midnight(day + _ONE_DAY)
        length = end - _midnight(day)
        if remaining <= length:
            return (end - remaining).astimezone(LONDON)
        remaining -= length
        day = _shift(calendar, day, -1)
