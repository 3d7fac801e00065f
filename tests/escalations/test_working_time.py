"""Tests for escalations.working_time: laws (hypothesis) and real UK calendar cases."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from escalations.working_time import (
    LONDON,
    NATIONS,
    WorkingCalendar,
    _bank_holidays,
    add_working_days,
    add_working_hours,
    is_working_day,
    load_bank_holidays,
    next_working_day,
    previous_working_day,
    subtract_working_time,
    whole_working_days_between,
    working_days_between,
    working_time_between,
)

DAY = timedelta(days=1)
LAWS = settings(max_examples=200, deadline=None)

ENGLAND_WALES = WorkingCalendar.for_nation("england_wales")
SCOTLAND = WorkingCalendar.for_nation("scotland")
NORTHERN_IRELAND = WorkingCalendar.for_nation("northern_ireland")
CALENDARS = {
    "england_wales": ENGLAND_WALES,
    "scotland": SCOTLAND,
    "northern_ireland": NORTHERN_IRELAND,
}


def london(*args: int) -> datetime:
    """Return a Europe/London wall-clock datetime (fold=0)."""
    return datetime(*args, tzinfo=LONDON)


def utc(moment: datetime) -> datetime:
    """Return the moment in UTC, so comparisons are by instant, not by wall clock."""
    return moment.astimezone(UTC)


def midnight(d: date) -> datetime:
    """Return local 00:00 at the start of date d."""
    return datetime(d.year, d.month, d.day, tzinfo=LONDON)


def normalised(start: datetime, calendar: WorkingCalendar) -> datetime:
    """Return start if it is on a working day, else 00:00 of the next working day."""
    day = start.astimezone(LONDON).date()
    if calendar.is_working_day(day):
        return start
    return midnight(next_working_day(day, calendar))


def brute_force_working_time(a: datetime, b: datetime, calendar: WorkingCalendar) -> timedelta:
    """Reference implementation: walk every local date in [a, b) and clip it."""
    a, b = utc(a), utc(b)
    total = timedelta(0)
    day = a.astimezone(LONDON).date()
    while utc(midnight(day)) < b:
        if calendar.is_working_day(day):
            lo = max(a, utc(midnight(day)))
            hi = min(b, utc(midnight(day + DAY)))
            if hi > lo:
                total += hi - lo
        day += DAY
    return total


# --- strategies -------------------------------------------------------------------------

FIRST_DAY = date(2020, 1, 1)
LAST_DAY = date(2030, 12, 31)

days_in_range = st.dates(min_value=FIRST_DAY, max_value=LAST_DAY)

# Arbitrary instants, plus the boundary instants where off-by-one errors live: local
# midnight (start or end of a day) and the last microsecond of a day.  Some are given in
# UTC to exercise conversion.
moments = st.one_of(
    st.datetimes(
        min_value=datetime(2020, 1, 1),
        max_value=datetime(2030, 12, 31, 23, 59),
        timezones=st.sampled_from([LONDON, UTC]),
    ),
    days_in_range.map(midnight),
    days_in_range.map(lambda d: datetime.combine(d, time.max, tzinfo=LONDON)),
    days_in_range.map(lambda d: datetime.combine(d, time(12), tzinfo=LONDON)),
)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[datetime, WorkingCalendar]:
    """Draw a start moment and a calendar, sometimes with closure days near the start."""
    start = draw(moments)
    nation = draw(st.sampled_from(NATIONS))
    offsets = draw(st.one_of(st.just(set()), st.sets(st.integers(-5, 60), max_size=12)))
    first = start.astimezone(LONDON).date()
    closures = {first + timedelta(days=k) for k in offsets}
    return start, WorkingCalendar.for_nation(nation, closures)


day_counts = st.integers(min_value=0, max_value=30)
hour_amounts = st.one_of(
    st.integers(min_value=0, max_value=24 * 30),
    st.floats(min_value=0, max_value=24 * 30, allow_nan=False, allow_infinity=False),
)


# --- laws -------------------------------------------------------------------------------


@LAWS
@given(scenarios(), day_counts)
def test_adding_n_working_days_never_lands_on_a_weekend_or_holiday(scenario, n):
    start, calendar = scenario
    result = add_working_days(start, n, calendar)
    assert result.tzinfo is LONDON
    assert calendar.is_working_day(result.date())


@LAWS
@given(scenarios(), day_counts)
def test_adding_n_working_days_then_counting_gives_exactly_n_back(scenario, n):
    start, calendar = scenario
    result = add_working_days(start, n, calendar)
    assert working_time_between(start, result, calendar) == n * DAY
    assert working_days_between(start, result, calendar) == n
    assert whole_working_days_between(start, result, calendar) == n


@LAWS
@given(scenarios(), day_counts)
def test_adding_working_days_keeps_the_wall_clock_time_on_a_working_day_start(scenario, n):
    start, calendar = scenario
    result = add_working_days(start, n, calendar)
    local = start.astimezone(LONDON)
    if calendar.is_working_day(local.date()):
        assert result.time() == local.time()
    else:
        assert result.time() == time(0)


@LAWS
@given(scenarios(), day_counts)
def test_adding_n_working_days_agrees_with_adding_24n_working_hours(scenario, n):
    start, calendar = scenario
    assert utc(add_working_days(start, n, calendar)) == utc(
        add_working_hours(start, 24 * n, calendar)
    )


@LAWS
@given(scenarios(), st.integers(min_value=0, max_value=400))
def test_adding_working_days_lands_where_stepping_one_working_day_at_a_time_does(scenario, n):
    start, calendar = scenario
    day = start.astimezone(LONDON).date()
    if not calendar.is_working_day(day):
        day = next_working_day(day, calendar)
    for _ in range(n):
        day += DAY
        while not calendar.is_working_day(day):
            day += DAY
    assert add_working_days(start, n, calendar).date() == day
    back = day
    for _ in range(n):
        back = previous_working_day(back, calendar)
    assert back == (
        start.astimezone(LONDON).date()
        if calendar.is_working_day(start.astimezone(LONDON).date())
        else next_working_day(start.astimezone(LONDON).date(), calendar)
    )


@LAWS
@given(scenarios(), moments, day_counts)
def test_adding_working_days_is_monotonic_in_the_start(scenario, other, n):
    start, calendar = scenario
    early, late = sorted([start, other], key=utc)
    assert utc(add_working_days(early, n, calendar)) <= utc(add_working_days(late, n, calendar))


@LAWS
@given(scenarios(), day_counts, day_counts)
def test_adding_working_days_is_monotonic_in_n(scenario, n, m):
    start, calendar = scenario
    low, high = sorted([n, m])
    assert utc(add_working_days(start, low, calendar)) <= utc(
        add_working_days(start, high, calendar)
    )
    if low < high:
        assert utc(add_working_days(start, low, calendar)) < utc(
            add_working_days(start, high, calendar)
        )


@LAWS
@given(scenarios(), hour_amounts)
def test_adding_working_hours_then_counting_gives_the_hours_back(scenario, hours):
    start, calendar = scenario
    result = add_working_hours(start, hours, calendar)
    assert working_time_between(start, result, calendar) == timedelta(hours=hours)
    assert calendar.is_working_day(result.date())


@LAWS
@given(scenarios(), hour_amounts)
def test_subtracting_working_time_undoes_adding_it(scenario, hours):
    start, calendar = scenario
    delta = timedelta(hours=hours)
    due = add_working_hours(start, hours, calendar)
    back = subtract_working_time(due, delta, calendar)
    assert working_time_between(back, due, calendar) == delta
    assert utc(back) == utc(normalised(start, calendar))


@LAWS
@given(scenarios(), day_counts)
def test_subtracting_whole_working_days_undoes_adding_them(scenario, n):
    start, calendar = scenario
    due = add_working_days(start, n, calendar)
    assert utc(subtract_working_time(due, n * DAY, calendar)) == utc(normalised(start, calendar))


@LAWS
@given(scenarios(), hour_amounts)
def test_subtracting_from_any_due_moment_leaves_exactly_that_working_time(scenario, hours):
    due, calendar = scenario
    delta = timedelta(hours=hours)
    reminder = subtract_working_time(due, delta, calendar)
    assert utc(reminder) <= utc(due)
    assert working_time_between(reminder, due, calendar) == delta
    if calendar.is_working_day(due.astimezone(LONDON).date()):
        assert utc(add_working_hours(reminder, hours, calendar)) == utc(due)


@LAWS
@given(
    scenarios(),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=60)),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=60)),
)
def test_working_time_between_is_additive(scenario, first_gap, second_gap):
    a, calendar = scenario
    b = utc(a) + first_gap
    c = b + second_gap
    assert working_time_between(a, c, calendar) == (
        working_time_between(a, b, calendar) + working_time_between(b, c, calendar)
    )


@LAWS
@given(scenarios(), moments, moments)
def test_working_time_between_is_additive_over_long_spans(scenario, other, third):
    a, calendar = scenario
    a, b, c = sorted([a, other, third], key=utc)
    assert working_time_between(a, c, calendar) == (
        working_time_between(a, b, calendar) + working_time_between(b, c, calendar)
    )


@LAWS
@given(scenarios(), st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=90)))
def test_working_time_between_matches_a_day_by_day_reference(scenario, gap):
    a, calendar = scenario
    b = utc(a) + gap
    assert working_time_between(a, b, calendar) == brute_force_working_time(a, b, calendar)


@LAWS
@given(scenarios(), moments)
def test_working_time_between_is_negated_when_the_order_is_reversed(scenario, other):
    a, calendar = scenario
    assert working_time_between(other, a, calendar) == -working_time_between(a, other, calendar)


@pytest.mark.parametrize("nation", NATIONS)
def test_working_time_over_a_decade_counts_every_working_day_once(nation):
    calendar = CALENDARS[nation]
    days = [FIRST_DAY + timedelta(days=k) for k in range((LAST_DAY - FIRST_DAY).days + 1)]
    expected = sum(calendar.is_working_day(d) for d in days)
    start, end = midnight(FIRST_DAY), midnight(LAST_DAY + DAY)
    assert working_time_between(start, end, calendar) == expected * DAY
    assert whole_working_days_between(start, end, calendar) == expected
    assert working_time_between(start, end, calendar) == brute_force_working_time(
        start, end, calendar
    )


# --- real calendar cases ----------------------------------------------------------------

# (nation, date, is a working day?) -- each checked against gov.uk's published bank
# holidays and against the holidays package (via the functions under test).
KNOWN_DAYS = [
    # Christmas 2026: Boxing Day is a Saturday, so Monday 28 Dec is the substitute day.
    *[(n, date(2026, 12, 25), False) for n in NATIONS],
    *[(n, date(2026, 12, 28), False) for n in NATIONS],
    *[(n, date(2026, 12, 29), True) for n in NATIONS],
    # New Year 2027: 1 Jan is a Friday; Scotland's 2 Jan is a Saturday -> Monday 4 Jan.
    *[(n, date(2027, 1, 1), False) for n in NATIONS],
    ("england_wales", date(2027, 1, 4), True),
    ("northern_ireland", date(2027, 1, 4), True),
    ("scotland", date(2027, 1, 4), False),
    *[(n, date(2027, 1, 5), True) for n in NATIONS],
    # Easter 2027: Good Friday everywhere, Easter Monday not in Scotland.
    *[(n, date(2027, 3, 26), False) for n in NATIONS],
    ("england_wales", date(2027, 3, 29), False),
    ("northern_ireland", date(2027, 3, 29), False),
    ("scotland", date(2027, 3, 29), True),
    # Summer bank holiday: first Monday of August in Scotland, last Monday elsewhere.
    ("scotland", date(2027, 8, 2), False),
    ("england_wales", date(2027, 8, 2), True),
    ("northern_ireland", date(2027, 8, 2), True),
    ("scotland", date(2027, 8, 30), True),
    ("england_wales", date(2027, 8, 30), False),
    ("northern_ireland", date(2027, 8, 30), False),
    # St Patrick's Day (NI), St Andrew's Day (Scotland), Battle of the Boyne (NI).
    ("northern_ireland", date(2027, 3, 17), False),
    ("england_wales", date(2027, 3, 17), True),
    ("scotland", date(2027, 3, 17), True),
    ("scotland", date(2026, 11, 30), False),
    ("england_wales", date(2026, 11, 30), True),
    ("northern_ireland", date(2026, 11, 30), True),
    ("northern_ireland", date(2027, 7, 12), False),
    ("england_wales", date(2027, 7, 12), True),
    ("scotland", date(2027, 7, 12), True),
    # Weekends are never working days.
    *[(n, date(2027, 1, 2), False) for n in NATIONS],
    *[(n, date(2027, 1, 3), False) for n in NATIONS],
]


@pytest.mark.parametrize(("nation", "day", "working"), KNOWN_DAYS)
def test_known_bank_holidays_are_not_working_days(nation, day, working):
    assert is_working_day(day, CALENDARS[nation]) is working


# (nation, start, working days to add, expected result)
KNOWN_DEADLINES = [
    # Thu 24 Dec 2026 + 1: Fri 25 Christmas, weekend, Mon 28 substitute Boxing Day.
    *[(n, london(2026, 12, 24, 10), 1, london(2026, 12, 29, 10)) for n in NATIONS],
    # Thu 31 Dec 2026 + 1: Fri 1 Jan; Scotland also loses Mon 4 Jan (2 Jan substitute).
    ("england_wales", london(2026, 12, 31, 10), 1, london(2027, 1, 4, 10)),
    ("northern_ireland", london(2026, 12, 31, 10), 1, london(2027, 1, 4, 10)),
    ("scotland", london(2026, 12, 31, 10), 1, london(2027, 1, 5, 10)),
    # Mon 21 Dec 2026 + 10 across the whole Christmas and New Year break.
    ("england_wales", london(2026, 12, 21, 9, 30), 10, london(2027, 1, 7, 9, 30)),
    ("northern_ireland", london(2026, 12, 21, 9, 30), 10, london(2027, 1, 7, 9, 30)),
    ("scotland", london(2026, 12, 21, 9, 30), 10, london(2027, 1, 8, 9, 30)),
    # Thu 25 Mar 2027 + 1: Good Friday, Easter weekend (and the clocks go forward),
    # Easter Monday except in Scotland.
    ("england_wales", london(2027, 3, 25, 10), 1, london(2027, 3, 30, 10)),
    ("northern_ireland", london(2027, 3, 25, 10), 1, london(2027, 3, 30, 10)),
    ("scotland", london(2027, 3, 25, 10), 1, london(2027, 3, 29, 10)),
    # August bank holidays 2027.
    ("england_wales", london(2027, 8, 27, 10), 1, london(2027, 8, 31, 10)),
    ("northern_ireland", london(2027, 8, 27, 10), 1, london(2027, 8, 31, 10)),
    ("scotland", london(2027, 8, 27, 10), 1, london(2027, 8, 30, 10)),
    ("england_wales", london(2027, 7, 30, 10), 1, london(2027, 8, 2, 10)),
    ("northern_ireland", london(2027, 7, 30, 10), 1, london(2027, 8, 2, 10)),
    ("scotland", london(2027, 7, 30, 10), 1, london(2027, 8, 3, 10)),
    # St Patrick's Day, Wed 17 Mar 2027.
    ("northern_ireland", london(2027, 3, 16, 10), 1, london(2027, 3, 18, 10)),
    ("england_wales", london(2027, 3, 16, 10), 1, london(2027, 3, 17, 10)),
    ("scotland", london(2027, 3, 16, 10), 1, london(2027, 3, 17, 10)),
    # St Andrew's Day, Mon 30 Nov 2026.
    ("scotland", london(2026, 11, 27, 10), 1, london(2026, 12, 1, 10)),
    ("england_wales", london(2026, 11, 27, 10), 1, london(2026, 11, 30, 10)),
    ("northern_ireland", london(2026, 11, 27, 10), 1, london(2026, 11, 30, 10)),
    # Battle of the Boyne, Mon 12 Jul 2027.
    ("northern_ireland", london(2027, 7, 9, 10), 1, london(2027, 7, 13, 10)),
    ("england_wales", london(2027, 7, 9, 10), 1, london(2027, 7, 12, 10)),
    ("scotland", london(2027, 7, 9, 10), 1, london(2027, 7, 12, 10)),
]


@pytest.mark.parametrize(("nation", "start", "n", "expected"), KNOWN_DEADLINES)
def test_known_deadlines_skip_each_nations_bank_holidays(nation, start, n, expected):
    calendar = CALENDARS[nation]
    result = add_working_days(start, n, calendar)
    assert utc(result) == utc(expected)
    assert result.replace(tzinfo=None) == expected.replace(tzinfo=None)
    assert working_time_between(start, result, calendar) == n * DAY


def test_next_and_previous_working_day_step_over_the_christmas_break():
    assert next_working_day(date(2026, 12, 24), ENGLAND_WALES) == date(2026, 12, 29)
    assert previous_working_day(date(2026, 12, 29), ENGLAND_WALES) == date(2026, 12, 24)
    assert next_working_day(date(2026, 12, 31), SCOTLAND) == date(2027, 1, 5)
    assert previous_working_day(date(2027, 1, 5), SCOTLAND) == date(2026, 12, 31)


# --- clock changes ----------------------------------------------------------------------


def test_five_working_days_across_the_october_clock_change_keep_the_wall_clock_time():
    start = london(2026, 10, 23, 10)  # Friday, BST
    result = add_working_days(start, 5, ENGLAND_WALES)
    assert result.replace(tzinfo=None) == datetime(2026, 10, 30, 10)  # Friday, GMT
    assert start.utcoffset() == timedelta(hours=1)
    assert result.utcoffset() == timedelta(0)
    assert utc(result) - utc(start) == timedelta(days=7, hours=1)
    assert working_time_between(start, result, ENGLAND_WALES) == 5 * DAY


@pytest.mark.parametrize(
    ("nation", "start", "expected"),
    [
        # Fri 19 Mar 2027 + 5: Good Friday and Easter Monday are skipped outside Scotland.
        ("england_wales", london(2027, 3, 19, 10), london(2027, 3, 30, 10)),
        ("northern_ireland", london(2027, 3, 19, 10), london(2027, 3, 30, 10)),
        ("scotland", london(2027, 3, 19, 10), london(2027, 3, 29, 10)),
        # Thu 25 Mar 2027 + 5, over Easter Sunday, which is also the clocks-forward day.
        ("england_wales", london(2027, 3, 25, 10), london(2027, 4, 5, 10)),
        ("northern_ireland", london(2027, 3, 25, 10), london(2027, 4, 5, 10)),
        ("scotland", london(2027, 3, 25, 10), london(2027, 4, 2, 10)),
    ],
)
def test_five_working_days_across_the_march_clock_change_keep_the_wall_clock_time(
    nation, start, expected
):
    calendar = CALENDARS[nation]
    result = add_working_days(start, 5, calendar)
    assert start.utcoffset() == timedelta(0)
    assert result.utcoffset() == timedelta(hours=1)
    assert result.replace(tzinfo=None) == expected.replace(tzinfo=None)
    assert working_time_between(start, result, calendar) == 5 * DAY


def test_working_hours_across_the_october_clock_change_count_real_time():
    start = london(2026, 10, 23, 20)  # Friday 20:00 BST: four working hours left that day
    result = add_working_hours(start, 8, ENGLAND_WALES)
    assert result.replace(tzinfo=None) == datetime(2026, 10, 26, 4)  # Monday 04:00 GMT
    assert utc(result) - utc(start) == timedelta(days=2, hours=9)
    assert working_time_between(start, result, ENGLAND_WALES) == timedelta(hours=8)


@pytest.mark.parametrize(
    ("nation", "expected"),
    [
        ("england_wales", datetime(2027, 3, 30, 4)),
        ("northern_ireland", datetime(2027, 3, 30, 4)),
        ("scotland", datetime(2027, 3, 29, 4)),
    ],
)
def test_working_hours_across_easter_and_the_march_clock_change(nation, expected):
    start = london(2027, 3, 25, 20)  # Thursday 20:00 GMT
    result = add_working_hours(start, 8, CALENDARS[nation])
    assert result.replace(tzinfo=None) == expected
    assert result.utcoffset() == timedelta(hours=1)


def test_a_reminder_two_working_hours_before_a_monday_morning_deadline_falls_on_friday():
    due = london(2026, 10, 26, 1)  # Monday 01:00 GMT, just after the October change
    reminder = subtract_working_time(due, timedelta(hours=2), ENGLAND_WALES)
    assert reminder.replace(tzinfo=None) == datetime(2026, 10, 23, 23)  # Friday 23:00 BST
    one_day_before = subtract_working_time(due, DAY, ENGLAND_WALES)
    assert one_day_before.replace(tzinfo=None) == datetime(2026, 10, 23, 1)


# --- non-working-day starts, closures, boundaries ---------------------------------------


def test_a_start_on_a_non_working_day_runs_from_midnight_of_the_next_working_day():
    saturday = london(2027, 1, 2, 15)
    assert add_working_days(saturday, 0, ENGLAND_WALES) == london(2027, 1, 4)
    assert add_working_days(saturday, 1, ENGLAND_WALES) == london(2027, 1, 5)
    assert add_working_days(saturday, 1, SCOTLAND) == london(2027, 1, 6)
    assert working_time_between(saturday, london(2027, 1, 5), ENGLAND_WALES) == DAY
    assert add_working_hours(saturday, 0, ENGLAND_WALES) == london(2027, 1, 4)


def test_a_start_exactly_at_the_end_of_a_friday_counts_from_monday():
    end_of_friday = london(2027, 1, 9)  # Saturday 00:00
    assert add_working_days(end_of_friday, 1, ENGLAND_WALES) == london(2027, 1, 12)
    assert working_time_between(london(2027, 1, 8), end_of_friday, ENGLAND_WALES) == DAY


def test_time_used_up_at_the_end_of_a_friday_lands_on_monday_midnight():
    friday = london(2027, 1, 8)
    assert add_working_days(friday, 1, ENGLAND_WALES) == london(2027, 1, 11)
    assert add_working_hours(friday, 24, ENGLAND_WALES) == london(2027, 1, 11)
    assert add_working_hours(friday, 23.5, ENGLAND_WALES) == london(2027, 1, 8, 23, 30)


def test_zero_working_days_from_a_working_day_returns_the_start():
    start = datetime(2027, 1, 6, 9, 15, tzinfo=UTC)
    assert utc(add_working_days(start, 0, ENGLAND_WALES)) == start


def test_a_local_closure_day_is_skipped():
    closed = date(2027, 6, 2)  # Wednesday
    calendar = WorkingCalendar.for_nation("england_wales", [closed])
    assert not calendar.is_working_day(closed)
    assert ENGLAND_WALES.is_working_day(closed)
    start = london(2027, 6, 1, 10)
    assert add_working_days(start, 1, calendar) == london(2027, 6, 3, 10)
    assert add_working_days(start, 1, ENGLAND_WALES) == london(2027, 6, 2, 10)
    assert working_time_between(start, london(2027, 6, 3, 10), calendar) == DAY
    assert next_working_day(date(2027, 6, 1), calendar) == date(2027, 6, 3)


def test_a_closure_day_on_a_bank_holiday_is_not_counted_twice():
    calendar = WorkingCalendar.for_nation("england_wales", [date(2027, 8, 30)])
    start, end = london(2027, 8, 1), london(2027, 9, 1)
    assert working_time_between(start, end, calendar) == working_time_between(
        start, end, ENGLAND_WALES
    )


def test_calendars_are_hashable_values():
    one = WorkingCalendar.for_nation("scotland", [date(2027, 6, 2)])
    two = WorkingCalendar("scotland", frozenset({date(2027, 6, 2)}))
    assert one == two
    assert hash(one) == hash(two)


# --- errors -----------------------------------------------------------------------------


@pytest.mark.parametrize("nation", ["england", "wales", "uk", "", "Scotland"])
def test_unknown_nations_raise_value_error(nation):
    with pytest.raises(ValueError, match="Unknown nation"):
        WorkingCalendar.for_nation(nation)
    with pytest.raises(ValueError, match="Unknown nation"):
        WorkingCalendar(nation)


def test_closure_days_must_be_dates():
    with pytest.raises(ValueError, match="dates"):
        WorkingCalendar.for_nation("scotland", [datetime(2027, 6, 2, tzinfo=LONDON)])


def test_naive_datetimes_raise_value_error():
    naive = datetime(2027, 1, 6, 10)
    aware = london(2027, 1, 6, 10)
    calls = [
        lambda: add_working_days(naive, 1, ENGLAND_WALES),
        lambda: add_working_hours(naive, 1, ENGLAND_WALES),
        lambda: subtract_working_time(naive, DAY, ENGLAND_WALES),
        lambda: working_time_between(naive, aware, ENGLAND_WALES),
        lambda: working_time_between(aware, naive, ENGLAND_WALES),
        lambda: working_days_between(naive, aware, ENGLAND_WALES),
        lambda: whole_working_days_between(aware, naive, ENGLAND_WALES),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="timezone-aware"):
            call()


def test_negative_amounts_raise_value_error():
    start = london(2027, 1, 6, 10)
    with pytest.raises(ValueError):
        add_working_days(start, -1, ENGLAND_WALES)
    with pytest.raises(ValueError):
        add_working_hours(start, -0.5, ENGLAND_WALES)
    with pytest.raises(ValueError):
        subtract_working_time(start, -DAY, ENGLAND_WALES)


def test_working_days_between_reports_fractions_and_floors_whole_days():
    start, end = london(2027, 1, 6, 10), london(2027, 1, 8, 22)
    assert working_days_between(start, end, ENGLAND_WALES) == 2.5
    assert whole_working_days_between(start, end, ENGLAND_WALES) == 2
    assert working_days_between(end, start, ENGLAND_WALES) == -2.5


def test_load_bank_holidays_builds_every_nations_tables_before_first_use() -> None:
    _bank_holidays.cache_clear()
    load_bank_holidays(2026)
    assert _bank_holidays.cache_info().currsize == 3 * len(NATIONS)  # 2025 to 2027
    before = _bank_holidays.cache_info()
    for nation in NATIONS:
        assert not is_working_day(date(2026, 12, 25), WorkingCalendar(nation))
    after = _bank_holidays.cache_info()
    assert (after.hits - before.hits, after.misses - before.misses) == (len(NATIONS), 0)


def test_load_bank_holidays_defaults_to_this_year_in_london() -> None:
    _bank_holidays.cache_clear()
    load_bank_holidays()
    this_year = datetime.now(LONDON).year
    years = (this_year - 1, this_year, this_year + 1)
    loaded = {(nation, year) for nation in NATIONS for year in years}
    before = _bank_holidays.cache_info()
    for nation, year in loaded:
        _bank_holidays(nation, year)
    assert _bank_holidays.cache_info().misses == before.misses
