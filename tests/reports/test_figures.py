"""Every figure of the report against a hand-computed expectation (see conftest's cases)."""

from __future__ import annotations

import pytest
import time_machine

from escalations.clocks import partnership_calendar
from escalations.states import Status
from escalations.working_time import working_days_between
from reports.durations import Spread
from reports.models import CaseOutcome
from reports.report import monitoring_report
from reports.sections import build_sections
from tests.reports.conftest import (
    AMENDMENT,
    INJECTED_ACTION,
    PERIOD,
    PREVIOUS,
    Fixture,
    at,
)

pytestmark = pytest.mark.django_db


def assert_spread(spread: Spread, count: int, *stats: float) -> None:
    """Equal to hand-computed values (the database computes in floating point)."""
    assert spread.count == count
    found = (spread.median, spread.lower_quartile, spread.upper_quartile, spread.maximum)
    assert found == pytest.approx(stats, abs=1e-6)


def rows(sections, key):
    section = next(s for s in sections if s.key == key)
    return [[cell.text for cell in row] for row in section.rows]


def test_the_comparison_period_is_the_half_year_before(monitoring: Fixture) -> None:
    report = monitoring_report(monitoring.world.partnership, PERIOD)
    assert report.previous == PREVIOUS


def test_case_flow_and_headline_figures(monitoring: Fixture) -> None:
    report = monitoring_report(monitoring.world.partnership, PERIOD)
    now, before = report.current, report.before
    # Open at the start: case 1 (raised 2 Mar, concluded 8 Apr).
    assert now.open_at_start == 1
    # Opened: cases 2, 3, 4, 5 (not 1: March; not 6: October; not 8: partnership Q).
    assert now.opened == 4
    # Outcomes recorded: 1 (resolved), 3 (withdrawn), 4 (not resolved), 5 (partial, accepted).
    assert now.concluded == 4
    # Closed: case 1 only.
    assert now.closed == 1
    # Still open at the end: case 2. 1 + 4 − 4 = 1.
    assert now.open_at_end == 1
    assert now.urgent == 1  # case 5
    assert now.referrals == 1  # case 4
    assert now.breaches == 2  # case 2 at Stage 1 and at Stage 2
    # The previous period: cases 7 and 1 opened; case 7 withdrawn; case 1 open at its end.
    assert (before.opened, before.concluded, before.closed, before.open_at_end) == (2, 1, 0, 1)
    assert (before.open_at_start, before.urgent, before.referrals, before.breaches) == (0, 0, 0, 0)

    sections = build_sections(report, exact=True)
    assert rows(sections, "headline") == [
        ["Opened", "4", "2", "↑ up 2"],
        ["Outcomes recorded", "4", "1", "↑ up 3"],
        ["Closed", "1", "0", "↑ up 1"],
        ["Still open at the end of the period", "1", "1", "no change"],
        ["Opened on the urgent track", "1", "0", "↑ up 1"],
        ["Referrals to the Practice Review Group", "1", "0", "↑ up 1"],
        ["Stage breaches", "2", "0", "↑ up 2"],
        ["Median working days from raising to outcome", "9.0", "1.0", "↑ up 8.0"],
    ]
    assert rows(sections, "flow") == [
        ["Open at the start of the period", "1"],
        ["Opened in the period", "4"],
        ["Outcome recorded in the period", "4"],
        ["Still open at the end of the period", "1"],
        ["Closed in the period (learning review complete)", "1"],
    ]


def test_category_context_and_agencies(monitoring: Fixture) -> None:
    sections = build_sections(monitoring_report(monitoring.world.partnership, PERIOD), exact=True)
    categories = dict((row[0], row[1]) for row in rows(sections, "categories"))
    assert categories[monitoring.category.name] == "3"  # cases 2, 3, 5
    assert categories[monitoring.injected_category.name] == "1"  # case 4
    assert categories["Total"] == "4"
    assert sum(int(v) for k, v in categories.items() if k != "Total") == 4
    contexts = dict((row[0], row[1]) for row in rows(sections, "contexts"))
    assert contexts["Open case"] == "3"
    assert contexts["Child protection conference"] == "1"
    assert contexts["Child in need"] == "0"
    agencies = next(s for s in sections if s.key == "agencies")
    assert agencies.headers == ["Raising agency", "B police", "C school", "Cases raised"]
    # Cases 2, 3, 4 and 5 are with B; case 4 is also with C; A raised all four.
    assert rows(sections, "agencies") == [["A social care", "4", "1", "4"]]
    assert rows(sections, "agency-types") == [
        ["Children's social care", "4", "0"],
        ["Police", "0", "4"],
        ["School", "0", "1"],
    ]


def test_stages_urgent_referrals_and_outcomes(monitoring: Fixture) -> None:
    sections = build_sections(monitoring_report(monitoring.world.partnership, PERIOD), exact=True)
    # Open during the period: 1 (Stage 1), 2 (Stage 2 by the end), 3 (clarification),
    # 4 (final referral), 5 (Stage 2 on the urgent track).
    assert rows(sections, "highest-stage") == [
        ["Identified", "0"],
        ["Clarification", "1"],
        ["Stage 1", "1"],
        ["Stage 2", "2"],
        ["Stage 3", "0"],
        ["Stage 4", "0"],
        ["Final referral", "1"],
        ["Total", "5"],
    ]
    assert rows(sections, "urgent-referrals") == [
        ["Opened on the urgent track", "1"],
        ["Referred to the Practice Review Group", "1"],
    ]
    assert rows(sections, "outcomes") == [
        ["Resolved", "1"],
        ["Partially resolved", "1"],
        ["Not resolved", "1"],
        ["Withdrawn", "1"],
        ["Total", "4"],
    ]


def test_working_days_to_outcome_overall_and_per_stage(monitoring: Fixture) -> None:
    report = monitoring_report(monitoring.world.partnership, PERIOD)
    # Case 1: Mon 2 Mar 10:00 → Wed 8 Apr 10:00 = 25 working days (Good Friday 3 Apr and
    # Easter Monday 6 Apr are bank holidays); case 3: 1; case 4: Mon 8 Jun 09:00 → Wed 1 Jul
    # 09:00 = 17; case 5: 1.
    calendar = partnership_calendar(monitoring.world.partnership)
    assert working_days_between(at(2026, 3, 2, 10), at(2026, 4, 8, 10), calendar) == 25
    assert_spread(report.current.to_outcome, 4, 9.0, 1.0, 19.0, 25.0)
    assert_spread(report.before.to_outcome, 1, 1.0, 1.0, 1.0, 1.0)  # case 7
    spreads = report.stage_spreads
    # Clarification: cases 1, 3 and 4 one working day each (case 5 was urgent: none).
    assert_spread(spreads[Status.CLARIFICATION], 3, 1.0, 1.0, 1.0, 1.0)
    # Stage 1: case 1 Tue 3 Mar 10:00 → 8 Apr 10:00 = 24; case 4: 1.
    assert_spread(spreads[Status.STAGE_1], 2, 12.5, 6.75, 18.25, 24.0)
    # Stage 2: case 4 one day, case 5 (urgent) one day.
    assert_spread(spreads[Status.STAGE_2], 2, 1.0, 1.0, 1.0, 1.0)
    assert_spread(spreads[Status.STAGE_3], 1, 1.0, 1.0, 1.0, 1.0)
    # Stage 4: Fri 12 Jun 09:00 → Mon 15 Jun 09:00 is one working day.
    assert_spread(spreads[Status.STAGE_4], 1, 1.0, 1.0, 1.0, 1.0)
    # Final referral: Mon 15 Jun → Wed 1 Jul = 12 working days.
    assert_spread(spreads[Status.FINAL_REFERRAL], 1, 12.0, 12.0, 12.0, 12.0)
    sections = build_sections(report, exact=True)
    assert rows(sections, "working-days")[0] == [
        "From raising to outcome",
        "4",
        "9.0",
        "1.0",
        "19.0",
        "25.0",
    ]
    assert rows(sections, "working-days-distribution") == [
        ["0 to under 5", "2"],
        ["5 to under 10", "0"],
        ["10 to under 20", "1"],
        ["20 to under 40", "1"],
        ["40 or more", "0"],
    ]


def test_breaches_trend_learning_actions_and_amendments(monitoring: Fixture) -> None:
    sections = build_sections(monitoring_report(monitoring.world.partnership, PERIOD), exact=True)
    assert rows(sections, "breaches-stage") == [
        ["Clarification", "0"],
        ["Stage 1", "1"],
        ["Stage 2", "1"],
        ["Stage 3", "0"],
        ["Stage 4", "0"],
        ["Final referral", "0"],
        ["Total", "2"],
    ]
    # Both breaches are on case 2, whose parties are A and B.
    assert rows(sections, "breaches-agency") == [["A social care", "2"], ["B police", "2"]]
    assert rows(sections, "trend") == [
        ["Apr 2026", "0", "1"],
        ["May 2026", "1", "0"],
        ["Jun 2026", "2", "0"],
        ["Jul 2026", "0", "0"],
        ["Aug 2026", "0", "0"],
        ["Sep 2026", "1", "0"],
    ]
    assert rows(sections, "themes") == [
        ["Thresholds", "1"],
        ["Information sharing", "1"],
        ["Escalation culture", "0"],
        ["No theme recorded", "0"],
    ]
    assert rows(sections, "actions") == [
        [INJECTED_ACTION, "B police DSL", "1 May 2026"],
        [
            "Review the threshold guidance with every agency.",
            "Partnership business manager",
            "1 Sep 2026",
        ],
    ]
    assert rows(sections, "amendments") == [["20 Apr 2026", AMENDMENT]]


def test_the_previous_half_year_counts_its_own_cases(monitoring: Fixture) -> None:
    report = monitoring_report(monitoring.world.partnership, PREVIOUS)
    assert (report.current.opened, report.current.concluded) == (2, 1)
    assert +report.outcomes == {Status.WITHDRAWN: 1}
    assert report.current.open_at_end == 1


def test_the_outcome_ledger_keeps_each_cases_final_outcome(monitoring: Fixture) -> None:
    c = monitoring.cases
    ledger = dict(CaseOutcome.objects.values_list("difference_id", "outcome"))
    assert ledger == {
        c[7].pk: Status.WITHDRAWN,
        c[1].pk: Status.RESOLVED,
        c[3].pk: Status.WITHDRAWN,
        c[4].pk: Status.NOT_RESOLVED,
        c[5].pk: Status.PARTIALLY_RESOLVED,
    }


def test_the_migration_backfills_the_ledger_from_the_chronology(monitoring: Fixture) -> None:
    import importlib

    from django.apps import apps

    before = dict(CaseOutcome.objects.values_list("difference_id", "outcome"))
    CaseOutcome.objects.all().delete()
    migration = importlib.import_module("reports.migrations.0002_backfill_case_outcomes")
    migration.backfill(apps, None)
    assert dict(CaseOutcome.objects.values_list("difference_id", "outcome")) == before


def test_small_counts_are_withheld_for_circulation(monitoring: Fixture) -> None:
    sections = build_sections(monitoring_report(monitoring.world.partnership, PERIOD), exact=False)
    assert rows(sections, "headline")[0] == ["Opened", "fewer than 5", "fewer than 5", "↑ up"]
    assert rows(sections, "headline")[6] == ["Stage breaches", "fewer than 5", "0", "↑ up"]
    assert rows(sections, "headline")[7] == [
        "Median working days from raising to outcome",
        "not shown (fewer than 5 cases)",
        "not shown (fewer than 5 cases)",
        "–",
    ]
    assert ["Stage 3", "0"] in rows(sections, "breaches-stage")  # 0 stays 0
    assert rows(sections, "outcomes")[-1] == ["Total", "fewer than 5"]


def test_cases_older_than_the_outcome_ledger(monitoring: Fixture) -> None:
    """Without a ledger row, a case concluded at clarification was withdrawn; any other
    outcome is shown as not recorded."""
    CaseOutcome.objects.all().delete()
    report = monitoring_report(monitoring.world.partnership, PERIOD)
    assert +report.outcomes == {Status.WITHDRAWN: 1, "not_recorded": 3}
    sections = build_sections(report, exact=True)
    assert rows(sections, "outcomes")[-2:] == [["Outcome not recorded", "3"], ["Total", "4"]]


def test_figures_stand_as_at_the_period_end(monitoring: Fixture) -> None:
    """Escalating case 2 after the period (and raising, concluding and closing cases after it)
    changes nothing about the period: its highest stage is read from the stage clocks as they
    were at the end."""
    from escalations import services

    world = monitoring.world
    before = build_sections(monitoring_report(world.partnership, PERIOD), exact=True)
    with time_machine.travel(at(2026, 10, 6, 9), tick=False):
        services.difference_escalate(
            actor=world.a_line_manager,
            difference_id=monitoring.cases[2].pk,
            reason="No agreement.",
            oversight_note="Seen.",
        )
    with time_machine.travel(at(2026, 10, 7, 9), tick=False):
        services.difference_start_clarification(
            actor=world.raiser, difference_id=monitoring.cases[6].pk
        )
    with time_machine.travel(at(2026, 10, 8, 9), tick=False):
        services.difference_withdraw(
            actor=world.raiser, difference_id=monitoring.cases[6].pk, reason="In hand."
        )
    after = build_sections(monitoring_report(world.partnership, PERIOD), exact=True)
    assert [s.rows for s in after if s.key != "headline"] == [
        s.rows for s in before if s.key != "headline"
    ]
    assert rows(after, "headline") == rows(before, "headline")
    assert ["Stage 2", "2"] in rows(after, "highest-stage")


def test_the_amendments_list_reads_its_own_small_index(monitoring: Fixture, postgres: None) -> None:
    """The list of recommended protocol amendments reads the partial index of the cases that
    recommend one, not every case of the partnership (a few cases in a hundred do)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from reports.selectors import report_data

    with CaptureQueriesContext(connection) as queries:
        report_data(monitoring.world.partnership, PERIOD, list_limit=200)
    sqls = [query["sql"] for query in queries.captured_queries]
    (listed,) = [sql for sql in sqls if "protocol_amendment_note" in sql]
    with connection.cursor() as cursor:
        # A handful of test rows would be read whole anyway: forbid that, to see whether the
        # query can use the index at all (its condition must match the index's).
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {listed}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "difference_amendment_idx" in plan, plan
