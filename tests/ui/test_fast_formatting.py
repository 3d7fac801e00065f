"""ui.dates and ui.links give exactly what the ``date`` filter and ``reverse`` give."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.template import Context, Template
from django.urls import reverse, set_script_prefix
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from ui import dates, links

FORMATS = {
    dates.short_date: "j M Y",
    dates.long_date: "j F Y",
    dates.day_date: "l j F Y",
    dates.day_date_time: "l j F Y \\a\\t H:i",
    dates.date_time: "j F Y \\a\\t H:i",
    dates.iso: "c",
}

moments = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2080, 12, 31), timezones=st.just(UTC)
)


def date_filter(value: date, fmt: str) -> str:
    """What a template's ``{{ value|date:fmt }}`` shows (the filter is given local time)."""
    return Template("{{ value|date:fmt }}").render(Context({"value": value, "fmt": fmt}))


@settings(max_examples=300, deadline=None)
@given(moment=moments)
def test_each_date_matches_the_filter_in_the_current_time_zone(moment: datetime) -> None:
    # Europe/London: both sides of the clock changes are covered by the range.
    for function, fmt in FORMATS.items():
        assert function(moment) == date_filter(moment, fmt), (function.__name__, moment)


def test_plain_dates_match_the_filter() -> None:
    day = date(2026, 3, 4)
    for function in (dates.short_date, dates.long_date, dates.day_date):
        assert function(day) == date_filter(day, FORMATS[function])


def test_the_clock_change_night_reads_in_london_time() -> None:
    # 00:30 UTC on 29 March 2026 is 00:30 GMT; 01:30 UTC is 02:30 BST.
    before = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    after = before + timedelta(hours=1)
    assert dates.date_time(before) == "29 March 2026 at 00:30"
    assert dates.date_time(after) == "29 March 2026 at 02:30"
    assert timezone.get_current_timezone_name() == "Europe/London"


@pytest.mark.parametrize(
    ("name", "ids"),
    [
        ("case_detail", (1,)),
        ("case_detail", (987654321987,)),
        ("child_chronology", (42,)),
        ("case_entry_copy", (7, 9)),
        ("case_correct_entry", (12, 987654321988)),
    ],
)
def test_object_urls_match_reverse(name: str, ids: tuple[int, ...]) -> None:
    assert links.object_url(name, *ids) == reverse(name, args=ids)


def test_object_urls_follow_the_script_prefix() -> None:
    try:
        set_script_prefix("/rpd/")
        assert (
            links.object_url("case_detail", 5)
            == reverse("case_detail", args=[5])
            == ("/rpd/cases/5/")
        )
    finally:
        set_script_prefix("/")
    assert links.object_url("case_detail", 5) == "/cases/5/"
