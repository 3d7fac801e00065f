"""ui.dates and ui.links give exactly what the ``date`` filter and ``reverse`` give."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from django.template import Context, Template
from django.urls import reverse, set_script_prefix
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from records.models import EntryKind
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


# -- the case table's rows ---------------------------------------------------------------------

# The rows as the template wrote them before ``case_table_rows`` built them in Python.
ROWS_AS_A_TEMPLATE = """{% load ui %}{% for row in rows %}
    <tr class="govuk-table__row">
      <th scope="row" class="govuk-table__header">
        <a class="govuk-link" href="{{ row.url }}">{{ row.reference }}</a>
        {% if row.is_urgent %}<br><strong class="govuk-tag govuk-tag--red">Urgent</strong>{% endif %}
      </th>
      <td class="govuk-table__cell">{% status_tag row.status row.status_label %}</td>
      <td class="govuk-table__cell">{{ row.stage_label }}</td>
      <td class="govuk-table__cell">
        {% if row.overdue %}<strong class="govuk-tag govuk-tag--red">Overdue</strong>{% if row.paused %}<br><span class="govuk-body-s">Clock paused</span>{% endif %}{% else %}{{ row.clock_text }}{% endif %}
      </td>
      <td class="govuk-table__cell">
        {% for child in row.children %}<a class="govuk-link" href="{{ child.url }}">{{ child.label }}<span class="govuk-visually-hidden">: chronology of this child</span></a>{% if not forloop.last %}<br>{% endif %}{% endfor %}
      </td>
      <td class="govuk-table__cell">
        {% for agency in row.other_agencies %}{{ agency }}{% if not forloop.last %}<br>{% endif %}{% endfor %}
        <br><span class="govuk-body-s">Raised by {{ row.raising_agency }}</span>
      </td>
      <td class="govuk-table__cell">{{ row.raised_on }}</td>
    </tr>
    {% endfor %}"""  # noqa: E501 (the template as it was)

texts = st.text(max_size=30) | st.sampled_from(["<script>alert(1)</script>", "a & b", "\"q\" 's'"])


def _squeeze(html: str) -> str:
    return " ".join(html.split())


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            texts,
            st.sampled_from(["stage_2", "resolved", "not-a-status"]),
            texts,
            st.booleans(),
            st.booleans(),
            st.booleans(),
            st.lists(st.tuples(texts, texts), max_size=3),
            st.lists(texts, max_size=3),
            texts,
        ),
        max_size=4,
    )
)
def test_the_case_table_rows_are_what_the_template_wrote_with_every_value_escaped(
    rows: list[tuple],
) -> None:
    from escalations.views.lists import CaseRow, ChildCell

    moment = datetime(2026, 3, 4, 14, 5, tzinfo=UTC)
    case_rows = [
        CaseRow(
            pk=number,
            reference=f"PD-{text}",
            status=status,
            status_label=f"Label {text}",
            stage_label=text,
            clock_text=f"Due {text}",
            overdue=overdue,
            paused=paused,
            due_at=None,
            children=tuple(
                ChildCell(pk=n, label=label, url=f"/children/{n}/?x={url}")
                for n, (label, url) in enumerate(children)
            ),
            raising_agency=raising,
            other_agencies=tuple(agencies),
            raised_at=moment,
            is_urgent=urgent,
            url=f"/cases/{number}/?q={text}",
            raised_on="4 Mar 2026",
        )
        for number, (text, status, _, urgent, overdue, paused, children, agencies, raising) in (
            enumerate(rows)
        )
    ]
    expected = Template(ROWS_AS_A_TEMPLATE).render(Context({"rows": case_rows}))
    built = Template("{% load ui %}{% case_table_rows rows %}").render(Context({"rows": case_rows}))
    assert _squeeze(built) == _squeeze(expected)
    assert "<script>" not in built


@settings(max_examples=200, deadline=None)
@given(
    choices=st.lists(
        st.tuples(
            st.one_of(st.integers(), st.text(max_size=12)), st.text(max_size=20), st.booleans()
        ),
        max_size=8,
    )
)
def test_select_options_are_what_the_template_loop_wrote(
    choices: list[tuple[object, str, bool]],
) -> None:
    loop = Template(
        '{% for value, label, selected in choices %}<option value="{{ value }}"'
        "{% if selected %} selected{% endif %}>{{ label }}</option>{% endfor %}"
    )
    tag = Template("{% load ui %}{% select_options choices %}")
    context = {"choices": choices}
    assert tag.render(Context(context)) == loop.render(Context(context))


# escalations/_timeline.html as it was before ``timeline_items`` wrote its items.
TIMELINE_AS_A_TEMPLATE = (Path(__file__).parent / "timeline_as_a_template.html").read_text()

entry_texts = st.text(alphabet=st.sampled_from("ab <>&'\"\n\r\t1é"), max_size=12)


@settings(max_examples=200, deadline=None)
@given(
    items=st.lists(
        st.tuples(
            st.sampled_from([kind.value for kind in EntryKind]),
            st.lists(entry_texts, min_size=10, max_size=10),
            st.lists(st.booleans(), min_size=4, max_size=4),
            st.one_of(st.none(), st.sampled_from([kind.value for kind in EntryKind])),
        ),
        max_size=5,
    )
)
def test_the_timeline_items_are_what_the_template_wrote_with_every_value_escaped(
    items: list[tuple],
) -> None:
    from escalations.views.cases import TimelineItem
    from records.models import Entry

    timeline = []
    for number, (kind, words, flags, corrects_kind) in enumerate(items, start=1):
        method, participants, reason, facts, opinion, outcome, heading, by, label, when = words
        recorded, correction, corrected, show_time = flags
        entry = Entry(
            pk=number, kind=kind, method=method, participants=participants, reason=reason,
            facts=facts, opinion=opinion, outcome=outcome, corrects_id=number + 100,
        )  # fmt: skip
        corrects = None if corrects_kind is None else Entry(pk=number + 100, kind=corrects_kind)
        timeline.append(
            TimelineItem(
                entry=entry,
                corrects=corrects,
                heading=heading,
                by=by,
                reason_label=label,
                opinion_label=f"{label}!",
                is_recorded=recorded,
                is_correction=correction,
                corrected=corrected,
                show_time=show_time,
                when_iso=f"iso{when}",
                when=when,
                on_date=f"on {when}",
                recorded=f"rec {when}",
                corrects_on=f"c {when}",
                copy_url=f"/copy/{number}?{when}",
                correct_url=f"/correct/{number}?{when}",
            )
        )
    context = {"timeline": timeline}
    expected = Template(TIMELINE_AS_A_TEMPLATE).render(Context(context))
    built = Template("{% include 'escalations/_timeline.html' %}").render(Context(context))
    assert _squeeze(built) == _squeeze(expected)
    assert "<>" not in built  # the texts' < and > are escaped (no tag is empty)
