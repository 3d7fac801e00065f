"""The report as sections of tables (and charts): what the page, the PDF, the CSV and the
workbook all show, so their numbers cannot drift apart.

Small counts: in downloads meant for circulation every count from 1 to 4 is shown as
"fewer than 5" (0 stays 0), and a median, quartile or maximum resting on 1–4 cases is not
shown; charts draw no bar for a withheld value. The page itself, seen only by the
partnership's business managers and administrators, shows exact numbers; so do downloads when
``REPORTS_EXACT_SMALL_COUNTS`` is set, or when an administrator asks for an internal copy
(``exact=True``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from agencies.models import AgencyType
from escalations.states import TIMED_STAGES, Status
from reports import charts
from reports.durations import Spread
from reports.figures import (
    OUTCOME_ORDER,
    STAGES_REACHED,
    MonitoringReport,
    PeriodFigures,
    outcome_label,
)

SMALL = "fewer than 5"
SMALL_BASIS = "not shown (fewer than 5 cases)"
NONE = "–"

STAGE_LABELS: dict[str, str] = {
    Status.IDENTIFIED: "Identified",
    Status.CLARIFICATION: "Clarification",
    Status.STAGE_1: "Stage 1",
    Status.STAGE_2: "Stage 2",
    Status.STAGE_3: "Stage 3",
    Status.STAGE_4: "Stage 4",
    Status.FINAL_REFERRAL: "Final referral",
}


STAGE_PHRASES: dict[str, str] = {
    Status.CLARIFICATION: "clarification",
    Status.STAGE_1: "Stage 1",
    Status.STAGE_2: "Stage 2",
    Status.STAGE_3: "Stage 3",
    Status.STAGE_4: "Stage 4",
    Status.FINAL_REFERRAL: "the final referral",
}


def is_small(count: int) -> bool:
    return 1 <= count <= 4


@dataclass(frozen=True)
class Cell:
    """One table cell: its raw value, how it is shown, and what a workbook stores."""

    text: str
    value: int | float | str | date | None
    numeric: bool = False
    header: bool = False

    @property
    def sheet_value(self) -> int | float | str | date | None:
        """What the workbook stores: numbers as numbers, withheld values as their words."""
        if (
            self.numeric
            and isinstance(self.value, (int, float))
            and self.text
            not in (
                SMALL,
                SMALL_BASIS,
            )
        ):
            return self.value
        return self.text if self.value is not None or self.text else None


@dataclass
class Section:
    key: str
    sheet: str  # workbook sheet name (≤ 31 characters)
    title: str
    caption: str
    headers: list[str]
    rows: list[list[Cell]]
    notes: list[str] = field(default_factory=list)
    chart: str = ""
    empty_text: str = ""

    @property
    def header_cells(self) -> list[tuple[str, bool]]:
        """Each header with whether its column holds numbers (right-aligned)."""
        first = self.rows[0] if self.rows else []
        return [
            (header, index > 0 and index < len(first) and first[index].numeric)
            for index, header in enumerate(self.headers)
        ]


class Formatter:
    """Turns numbers into cells, withholding small ones unless ``exact``."""

    def __init__(self, exact: bool) -> None:
        self.exact = exact

    def count(self, value: int) -> Cell:
        if not self.exact and is_small(value):
            return Cell(SMALL, value, numeric=True)
        return Cell(f"{value:,}", value, numeric=True)

    def days(self, value: float | None, basis: int) -> Cell:
        if value is None:
            return Cell(NONE, None, numeric=True)
        if not self.exact and is_small(basis):
            return Cell(SMALL_BASIS, round(value, 1), numeric=True)
        return Cell(f"{value:.1f}", round(value, 1), numeric=True)

    def bar(self, label: str, value: int) -> charts.Bar:
        if not self.exact and is_small(value):
            return charts.Bar(label, value, SMALL, drawn=False)
        return charts.Bar(label, value, f"{value:,}")

    def change(self, now: int | float | None, before: int | float | None, *, days: bool) -> Cell:
        """↑/↓ with the size of the change (withheld when it would reveal a small count)."""
        if now is None or before is None:
            return Cell(NONE, None)
        difference = now - before
        if abs(difference) < (0.05 if days else 1):
            return Cell("no change", 0)
        arrow, word = ("↑", "up") if difference > 0 else ("↓", "down")
        hidden = not self.exact and not days and (is_small(int(now)) or is_small(int(before)))
        if hidden:
            return Cell(f"{arrow} {word}", None)
        size = f"{abs(difference):.1f}" if days else f"{abs(int(difference)):,}"
        return Cell(f"{arrow} {word} {size}", round(difference, 1) if days else int(difference))


def text(value: str) -> Cell:
    return Cell(value, value, header=True)


def plain(value: str) -> Cell:
    return Cell(value, value)


def when(value: date | None) -> Cell:
    if value is None:
        return Cell("No due date", None)
    return Cell(f"{value.day} {value:%b %Y}", value)


def _stage_label(stage: str) -> str:
    return STAGE_LABELS.get(stage, str(Status(stage).label))


def headline_rows(
    report: MonitoringReport,
) -> list[tuple[str, int | float | None, int | float | None, bool, int, int]]:
    """(label, this period, previous period, is-days, basis now, basis before)."""
    now, before = report.current, report.before
    spread_now, spread_before = now.to_outcome, before.to_outcome
    return [
        ("Opened", now.opened, before.opened, False, 0, 0),
        ("Outcomes recorded", now.concluded, before.concluded, False, 0, 0),
        ("Closed", now.closed, before.closed, False, 0, 0),
        ("Still open at the end of the period", now.open_at_end, before.open_at_end, False, 0, 0),
        ("Opened on the urgent track", now.urgent, before.urgent, False, 0, 0),
        (
            f"Referrals to the {report.final_body_name}",
            now.referrals,
            before.referrals,
            False,
            0,
            0,
        ),
        ("Stage breaches", now.breaches, before.breaches, False, 0, 0),
        (
            "Median working days from raising to outcome",
            spread_now.median,
            spread_before.median,
            True,
            spread_now.count,
            spread_before.count,
        ),
    ]


def build_sections(report: MonitoringReport, *, exact: bool) -> list[Section]:
    """Every section of the report, in order."""
    f = Formatter(exact)
    now: PeriodFigures = report.current
    sections: list[Section] = []

    # Headline figures with the comparison.
    rows = []
    for label, value, previous, is_days, basis, basis_before in headline_rows(report):
        if is_days:
            rows.append(
                [
                    text(label),
                    f.days(value, basis),
                    f.days(previous, basis_before),
                    f.change(value, previous, days=True)
                    if exact or not (is_small(basis) or is_small(basis_before))
                    else Cell(NONE, None),
                ]
            )
        else:
            assert isinstance(value, int) and isinstance(previous, int)
            rows.append(
                [
                    text(label),
                    f.count(value),
                    f.count(previous),
                    f.change(value, previous, days=False),
                ]
            )
    sections.append(
        Section(
            key="headline",
            sheet="Headline figures",
            title="Headline figures",
            caption=f"Headline figures, {report.period.label}, compared with "
            f"{report.previous.label}",
            headers=["Figure", "This period", "Previous period", "Change"],
            rows=rows,
        )
    )

    # Opened, concluded, closed, still open.
    sections.append(
        Section(
            key="flow",
            sheet="Opened closed open",
            title="Cases opened, concluded, closed and still open",
            caption="Cases opened, concluded, closed and still open",
            headers=["Cases", "Number"],
            rows=[
                [text("Open at the start of the period"), f.count(now.open_at_start)],
                [text("Opened in the period"), f.count(now.opened)],
                [text("Outcome recorded in the period"), f.count(now.concluded)],
                [text("Still open at the end of the period"), f.count(now.open_at_end)],
                [text("Closed in the period (learning review complete)"), f.count(now.closed)],
            ],
            notes=[
                "Open at the start + opened − outcomes recorded = still open at the end. "
                "A case is closed after its learning review, so it may close in a later "
                "period than its outcome."
            ],
        )
    )

    sections.append(
        Section(
            key="categories",
            sheet="By category",
            title="Cases opened by category",
            caption="Cases opened in the period by category",
            headers=["Category", "Cases"],
            rows=[
                [text(name), f.count(report.by_category.get(pk, 0))]
                for pk, name in report.categories
            ]
            + [[text("Total"), f.count(now.opened)]],
        )
    )
    sections.append(
        Section(
            key="contexts",
            sheet="By context",
            title="Cases opened by context",
            caption="Cases opened in the period by what the issue was about",
            headers=["Context", "Cases"],
            rows=[
                [text(label), f.count(report.by_context.get(value, 0))]
                for value, label in report.contexts
            ]
            + [[text("Total"), f.count(now.opened)]],
        )
    )

    # Raising agency × other agency.
    involved = sorted(
        {raiser for raiser, _ in report.matrix}
        | {other for _, other in report.matrix}
        | set(report.raised_by_agency),
        key=lambda pk: report.agencies[pk][0].lower(),
    )
    raisers = [pk for pk in involved if report.raised_by_agency.get(pk)]
    others = [pk for pk in involved if any(o == pk for _, o in report.matrix)]
    matrix_rows = []
    for raiser in raisers:
        matrix_rows.append(
            [text(report.agencies[raiser][0])]
            + [f.count(report.matrix.get((raiser, other), 0)) for other in others]
            + [f.count(report.raised_by_agency.get(raiser, 0))]
        )
    sections.append(
        Section(
            key="agencies",
            sheet="Agency matrix",
            title="Raising agency and other agencies",
            caption="Cases opened in the period: raising agency (rows) by other agency party "
            "to the case (columns)",
            headers=["Raising agency"]
            + [report.agencies[pk][0] for pk in others]
            + ["Cases raised"],
            rows=matrix_rows,
            notes=[
                "A case with several other agencies counts once under each of them; "
                "“Cases raised” counts each case once."
            ],
            empty_text="No cases were opened in the period.",
        )
    )
    type_rows = [
        [
            text(str(label)),
            f.count(report.raised_by_type.get(value, 0)),
            f.count(report.other_party_by_type.get(value, 0)),
        ]
        for value, label in AgencyType.choices
        if report.raised_by_type.get(value, 0) or report.other_party_by_type.get(value, 0)
    ]
    sections.append(
        Section(
            key="agency-types",
            sheet="By agency type",
            title="Cases by agency type",
            caption="Cases opened in the period by the type of the raising agency and of the "
            "other agencies",
            headers=[
                "Agency type",
                "Raised by an agency of this type",
                "With another agency of this type",
            ],
            rows=type_rows,
            empty_text="No cases were opened in the period.",
        )
    )

    # Highest stage reached.
    stage_bars = [f.bar(_stage_label(s), report.highest_stage.get(s, 0)) for s in STAGES_REACHED]
    sections.append(
        Section(
            key="highest-stage",
            sheet="Highest stage",
            title="Highest stage reached",
            caption="Cases open at any time in the period, by the highest stage reached by its end",
            headers=["Highest stage", "Cases"],
            rows=[
                [text(_stage_label(s)), f.count(report.highest_stage.get(s, 0))]
                for s in STAGES_REACHED
            ]
            + [[text("Total"), f.count(now.active)]],
            chart=charts.bar_chart("highest-stage", "Highest stage reached", stage_bars),
        )
    )

    sections.append(
        Section(
            key="urgent-referrals",
            sheet="Urgent and referrals",
            title=f"Urgent track and referrals to the {report.final_body_name}",
            caption="Urgent-track cases opened and final referrals made in the period",
            headers=["Cases", "Number"],
            rows=[
                [text("Opened on the urgent track"), f.count(now.urgent)],
                [text(f"Referred to the {report.final_body_name}"), f.count(now.referrals)],
            ],
        )
    )

    # Outcomes.
    outcomes = [o for o in OUTCOME_ORDER if o in report.outcomes or o != OUTCOME_ORDER[-1]]
    outcome_bars = [f.bar(outcome_label(o), report.outcomes.get(o, 0)) for o in outcomes]
    sections.append(
        Section(
            key="outcomes",
            sheet="Outcomes",
            title="Outcomes",
            caption="Cases whose outcome was recorded in the period, by outcome",
            headers=["Outcome", "Cases"],
            rows=[[text(outcome_label(o)), f.count(report.outcomes.get(o, 0))] for o in outcomes]
            + [[text("Total"), f.count(now.concluded)]],
            chart=charts.bar_chart("outcomes", "Outcomes recorded in the period", outcome_bars),
        )
    )

    # Working days.
    spread_rows = [_spread_row(f, "From raising to outcome", now.to_outcome)]
    for stage in TIMED_STAGES:
        spread = report.stage_spreads.get(stage, Spread(0))
        spread_rows.append(_spread_row(f, f"Time in {STAGE_PHRASES[stage]}", spread))
    sections.append(
        Section(
            key="working-days",
            sheet="Working days",
            title="Working days to outcome",
            caption="Working days taken by the cases whose outcome was recorded in the period",
            headers=["Measure", "Cases", "Median", "Lower quartile", "Upper quartile", "Maximum"],
            rows=spread_rows,
            notes=[
                "Working days on the partnership's calendar (Monday to Friday, less bank "
                "holidays and closure days). The interquartile range runs from the lower to "
                "the upper quartile. Each stage counts the cases that entered it."
            ],
        )
    )
    duration_bars = [f.bar(label, count) for label, count in report.duration_buckets]
    sections.append(
        Section(
            key="working-days-distribution",
            sheet="Days to outcome spread",
            title="How long cases took to reach an outcome",
            caption="Cases whose outcome was recorded in the period, by working days from "
            "raising to outcome",
            headers=["Working days", "Cases"],
            rows=[[text(label), f.count(count)] for label, count in report.duration_buckets],
            chart=charts.bar_chart(
                "working-days", "Working days from raising to outcome", duration_bars
            ),
        )
    )

    # Breaches.
    sections.append(
        Section(
            key="breaches-stage",
            sheet="Breaches by stage",
            title="Stage breaches by stage",
            caption="Stage timeframes breached in the period, by stage",
            headers=["Stage", "Breaches"],
            rows=[
                [text(_stage_label(s)), f.count(report.breaches_by_stage.get(s, 0))]
                for s in TIMED_STAGES
            ]
            + [[text("Total"), f.count(now.breaches)]],
        )
    )
    agency_breaches = sorted(
        report.breaches_by_agency.items(), key=lambda item: (-item[1], report.agencies[item[0]][0])
    )
    sections.append(
        Section(
            key="breaches-agency",
            sheet="Breaches by agency",
            title="Stage breaches by agency",
            caption="Stage timeframes breached in the period, by agency party to the case",
            headers=["Agency", "Breaches on its cases"],
            rows=[[text(report.agencies[pk][0]), f.count(n)] for pk, n in agency_breaches],
            notes=["A breach counts once for every agency party to the case."],
            chart=charts.bar_chart(
                "breaches-agency",
                "Stage breaches by agency",
                [f.bar(report.agencies[pk][0], n) for pk, n in agency_breaches],
            )
            if agency_breaches
            else "",
            empty_text="No stage timeframe was breached in the period.",
        )
    )

    # Trend by month.
    months = report.months
    month_labels = [f"{m:%b %Y}" for m in months]
    opened, closed = report.opened_by_month, report.closed_by_month
    sections.append(
        Section(
            key="trend",
            sheet="By month",
            title="Opened and closed by month",
            caption="Cases opened and closed in each month of the period",
            headers=["Month", "Opened", "Closed"],
            rows=[
                [text(label), f.count(opened[i]), f.count(closed[i])]
                for i, label in enumerate(month_labels)
            ],
            chart=charts.grouped_column_chart(
                "trend",
                "Cases opened and closed by month",
                [f"{m:%b %y}" for m in months],
                [
                    ("Opened", [f.bar(lbl, opened[i]) for i, lbl in enumerate(month_labels)]),
                    ("Closed", [f.bar(lbl, closed[i]) for i, lbl in enumerate(month_labels)]),
                ],
            ),
        )
    )

    # Learning.
    sections.append(
        Section(
            key="themes",
            sheet="Learning themes",
            title="Learning themes",
            caption="Cases closed in the period, by the learning themes their review recorded",
            headers=["Learning theme", "Cases"],
            rows=[[text(name), f.count(n)] for name, n in report.themes]
            + [[text("No theme recorded"), f.count(report.closed_without_theme)]],
            notes=["A case with several themes counts under each."],
        )
    )
    action_note = []
    if report.actions_more:
        action_note.append(
            f"The first {len(report.actions):,} actions are listed here; the CSV and Excel "
            "downloads list them all."
        )
    sections.append(
        Section(
            key="actions",
            sheet="Actions",
            title="Actions recorded",
            caption="Actions agreed at an outcome and recorded in the period",
            headers=["Action", "Owner", "Due"],
            rows=[
                [plain(description), plain(owner), when(due)]
                for description, owner, due in report.actions
            ],
            notes=action_note,
            empty_text="No actions were recorded in the period.",
        )
    )
    amendment_note = []
    if report.amendments_more:
        amendment_note.append(
            f"The first {len(report.amendments):,} are listed here; the CSV and Excel "
            "downloads list them all."
        )
    sections.append(
        Section(
            key="amendments",
            sheet="Protocol amendments",
            title="Protocol amendments recommended",
            caption="Amendments to the protocol recommended by learning reviews of cases closed "
            "in the period",
            headers=["Case closed", "Recommendation"],
            rows=[[when(closed), plain(note)] for closed, note in report.amendments],
            notes=amendment_note,
            empty_text="No learning review in the period recommended an amendment.",
        )
    )
    return sections


def _spread_row(f: Formatter, label: str, spread: Spread) -> list[Cell]:
    return [
        text(label),
        f.count(spread.count),
        f.days(spread.median, spread.count),
        f.days(spread.lower_quartile, spread.count),
        f.days(spread.upper_quartile, spread.count),
        f.days(spread.maximum, spread.count),
    ]


def headline_texts(sections: Sequence[Section]) -> list[str]:
    """The headline figures as shown (for checks that a rendering contains every one)."""
    headline = next(s for s in sections if s.key == "headline")
    return [cell.text for row in headline.rows for cell in row[1:3]]
