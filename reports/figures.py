"""The six-monthly monitoring report's figures, and exactly which cases each one counts.

A period is a range of whole local dates; as instants ``[start, end)`` from 00:00 on its
first day to 00:00 after its last (``reports.periods``). "In the period" means at or after
``start`` and before ``end``. Only the partnership's own cases count.

A case is *concluded* once its outcome is final: its status is resolved, not resolved,
withdrawn, learning review or closed (``reports.selectors.CONCLUDED_STATUSES``); it concluded
at ``outcome_at``, the moment the outcome was recorded. A case at "partially resolved" is not
concluded: the raising agency may still escalate it; if it accepts the partial outcome, the
case concludes at the moment the partial outcome was recorded. A case is *open at* a moment
``t`` when it was raised before ``t`` and had not concluded before ``t``.

Figures (each for the period unless it says otherwise):

- **Open at the start**: cases open at ``start``.
- **Opened**: cases raised in the period (``raised_at``).
- **Outcomes recorded** (concluded): cases that concluded in the period.
- **Closed**: cases closed by the business manager in the period (``closed_at``), whenever
  they were raised or concluded.
- **Still open at the end**: cases open at ``end``: raised before ``end`` and not concluded
  before it (so open at the start + opened − outcomes recorded = still open at the end).
- **By category**, **by context**: cases opened in the period.
- **Raising agency × other agency**: cases opened in the period; each case counts once in the
  cell of its raising agency and each other agency party to it (so a row can add up to more
  than the cases that agency raised, which the "cases raised" column gives).
- **By agency type**: cases opened in the period raised by an agency of the type; and cases
  opened in the period in which at least one other party agency is of the type.
- **Highest stage reached**: cases open at any moment of the period (raised before ``end``, not
  concluded before ``start``), by the highest stage they had entered before ``end``: the case's
  ``highest_stage`` when its current stage was entered before ``end`` (it cannot have changed
  since), else the highest stage among its stage clocks started before ``end`` ("Identified"
  when none).
- **Urgent track**: cases opened in the period on the urgent track.
- **Referrals to the final body**: final referrals made in the period (a final-referral stage
  clock started in the period).
- **Outcomes**: cases that concluded in the period, by their final outcome (resolved,
  partially resolved, not resolved, withdrawn). The outcome is the last one recorded on the
  case: a partial outcome later escalated counts as the case's later outcome.
- **Working days to outcome**: for the cases that concluded in the period (withdrawn ones
  included; the comparison uses those of the previous period), the working time from
  ``raised_at`` to ``outcome_at`` on the partnership's calendar (Monday–Friday less the
  nation's bank holidays and the partnership's closure days), in days of 24 working hours:
  median, lower and upper quartile (the interquartile range) and maximum. **Per stage**: for
  the same cases, the working time spent in each stage, from entering it to leaving it (each
  stage clock's ``entered_at`` and ``left_at``; pauses are not taken off), over the cases that
  entered that stage (a case enters each stage at most once).
- **Breaches by stage**: stage clocks whose breach was recorded in the period (``breached_at``),
  by stage. **By agency**: the same breaches, counted once for every agency party to the case
  (raising agency included), so the agency rows add up to more than the breaches.
- **Trend by month**: per calendar month of the period, cases opened and cases closed in it.
- **Distribution**: the same cases by working days to outcome, in ``[0, 5)``, ``[5, 10)``,
  ``[10, 20)``, ``[20, 40)`` and 40 or more.
- **Learning themes**: cases closed in the period (their learning review is complete), by theme
  (a case tagged with two themes counts under both), and those closed with no theme.
- **Actions recorded**: actions agreed at an outcome and recorded in the period
  (``recorded_at``): description, owner and due date only.
- **Protocol amendments recommended**: cases closed in the period whose learning review
  recommended amending the protocol, with the recommendation (the note) and the closing date.
- **Comparison**: each headline figure (opened, outcomes recorded, closed, still open at the
  end, urgent track, referrals, breaches, median working days to outcome) for the period of
  the same length just before (a half-year with the half-year before; see
  ``Period.previous``), with ↑/↓ and the size of the change.

Small counts (1–4) are withheld in downloads for circulation: see ``reports.sections``.

Figures reflect the cases as they stand when the report is run: a case's status and outcome are
its current ones, so re-running a past period after a partial outcome is accepted or escalated
can move that case between "still open" and "outcomes".
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from escalations.states import OUTCOMES, TIMED_STAGES, Context, Status
from reports.durations import Spread
from reports.periods import LONDON, Period
from reports.selectors import DURATION_BUCKETS, PERIODS, UNKNOWN_OUTCOME, ReportData

STAGES_REACHED: tuple[str, ...] = (Status.IDENTIFIED, *TIMED_STAGES)
OUTCOME_ORDER: tuple[str, ...] = (*OUTCOMES, UNKNOWN_OUTCOME)


@dataclass
class PeriodFigures:
    """The headline figures of one period."""

    open_at_start: int
    opened: int
    concluded: int
    closed: int
    open_at_end: int
    urgent: int
    active: int
    referrals: int
    breaches: int
    to_outcome: Spread


@dataclass
class MonitoringReport:
    partnership_name: str
    final_body_name: str
    period: Period
    previous: Period
    generated_at: datetime
    current: PeriodFigures
    before: PeriodFigures
    categories: list[tuple[int, str]]
    by_category: Counter[int]
    contexts: list[tuple[str, str]]
    by_context: Counter[str]
    agencies: dict[int, tuple[str, str]]  # id → (name, agency type)
    raised_by_agency: Counter[int]
    matrix: dict[tuple[int, int], int]
    raised_by_type: Counter[str]
    other_party_by_type: Counter[str]
    highest_stage: Counter[str]
    outcomes: Counter[str]
    stage_spreads: dict[str, Spread]
    duration_buckets: list[tuple[str, int]]
    breaches_by_stage: Counter[str]
    breaches_by_agency: Counter[int]
    months: list[date]
    opened_by_month: list[int]
    closed_by_month: list[int]
    themes: list[tuple[str, int]]
    closed_without_theme: int
    actions: list[tuple[str, str, date | None]]
    actions_more: bool
    amendments: list[tuple[date, str]]
    amendments_more: bool


def _bucket_label(low: float, high: float | None) -> str:
    if high is None:
        return f"{low:g} or more"
    return f"{low:g} to under {high:g}"


def outcome_label(outcome: str) -> str:
    if outcome == UNKNOWN_OUTCOME:
        return "Outcome not recorded"
    return str(Status(outcome).label)


def compute(data: ReportData, *, generated_at: datetime) -> MonitoringReport:
    """The report's figures from what ``report_data`` read."""
    counts, stages = data.counts, data.stage_counts
    periods = {}
    for key in PERIODS:
        periods[key] = PeriodFigures(
            open_at_start=counts[f"{key}_open_at_start"],
            opened=counts[f"{key}_opened"],
            concluded=counts[f"{key}_concluded"],
            closed=counts[f"{key}_closed"],
            open_at_end=counts[f"{key}_open_at_end"],
            urgent=counts[f"{key}_urgent"],
            active=counts[f"{key}_active"],
            referrals=stages[f"{key}_referrals"],
            breaches=(
                sum(stages[f"breaches_{stage}"] for stage in TIMED_STAGES)
                if key == "now"
                else stages["before_breaches"]
            ),
            to_outcome=data.to_outcome.get(key, Spread(0)),
        )
    current = periods["now"]

    agencies = {pk: (name, kind) for pk, name, kind, _active in data.agencies}
    by_category: Counter[int] = Counter()
    by_context: Counter[str] = Counter()
    raised_by_agency: Counter[int] = Counter()
    for category_id, context, agency_id, n in data.opened_groups:
        by_category[category_id] += n
        by_context[context] += n
        raised_by_agency[agency_id] += n
    raised_by_type: Counter[str] = Counter()
    for agency_id, n in raised_by_agency.items():
        raised_by_type[agencies[agency_id][1]] += n
    parties = data.opened_parties
    matrix: Counter[tuple[int, int]] = Counter((raiser, other) for _case, raiser, other in parties)
    kind_of = {pk: kind for pk, (_name, kind) in agencies.items()}
    other_types = {(case, kind_of[other]) for case, _raiser, other in parties}
    other_party_by_type: Counter[str] = Counter(kind for _case, kind in other_types)

    highest: Counter[str] = Counter({s: stages[f"highest_{s}"] for s in TIMED_STAGES})
    # Cases open during the period with no stage clock by its end were still "identified".
    highest[Status.IDENTIFIED] = current.active - sum(highest.values())

    outcomes: Counter[str] = Counter({outcome: 0 for outcome in OUTCOMES})
    recorded_at_clarification = 0
    for outcome, stage, n in data.outcomes:
        outcomes[outcome] += n
        if stage == Status.CLARIFICATION:
            recorded_at_clarification += n
    # Cases with no ledger row (e.g. data older than the ledger): a withdrawal is the only
    # outcome recorded at clarification; anything else is unknown.
    unrecorded_at_clarification = (
        counts["now_concluded_at_clarification"] - recorded_at_clarification
    )
    outcomes[Status.WITHDRAWN] += unrecorded_at_clarification
    unrecorded = current.concluded - sum(outcomes.values())
    if unrecorded:
        outcomes[UNKNOWN_OUTCOME] = unrecorded

    theme_counts: Counter[int] = Counter(theme_id for _case, theme_id in data.theme_tags)
    tagged_cases = len({case for case, _theme in data.theme_tags})
    themes = [
        (name, theme_counts.get(pk, 0))
        for pk, name, active in data.themes
        if active or theme_counts.get(pk)
    ]
    categories = [(pk, name) for pk, name, active in data.categories if active or by_category[pk]]

    return MonitoringReport(
        partnership_name=data.partnership.name,
        final_body_name=data.partnership.final_referral_body_name,
        period=data.period,
        previous=data.previous,
        generated_at=generated_at,
        current=current,
        before=periods["before"],
        categories=categories,
        by_category=by_category,
        contexts=[(str(value), str(label)) for value, label in Context.choices],
        by_context=by_context,
        agencies=agencies,
        raised_by_agency=raised_by_agency,
        matrix=dict(matrix),
        raised_by_type=raised_by_type,
        other_party_by_type=other_party_by_type,
        highest_stage=highest,
        outcomes=outcomes,
        stage_spreads={stage: data.stage_spreads.get(stage, Spread(0)) for stage in TIMED_STAGES},
        duration_buckets=[
            (_bucket_label(low, high), count)
            for (low, high), count in zip(DURATION_BUCKETS, data.duration_buckets, strict=False)
        ],
        breaches_by_stage=Counter({stage: stages[f"breaches_{stage}"] for stage in TIMED_STAGES}),
        breaches_by_agency=Counter(dict(data.breaches_by_agency)),
        months=data.months,
        opened_by_month=[counts[f"opened_m{i}"] for i in range(len(data.months))],
        closed_by_month=[counts[f"closed_m{i}"] for i in range(len(data.months))],
        themes=themes,
        closed_without_theme=max(current.closed - tagged_cases, 0),
        actions=data.actions,
        actions_more=data.actions_more,
        amendments=[(closed.astimezone(LONDON).date(), note) for closed, note in data.amendments],
        amendments_more=data.amendments_more,
    )
