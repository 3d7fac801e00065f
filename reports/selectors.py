"""The report's reads: a constant number of aggregate queries, whatever the number of cases.

Every query is scoped to one partnership and counts in the database (conditional ``COUNT``
… ``FILTER``, ``GROUP BY``); only small results come back. Working-day durations are
summarised by ``reports.durations`` (in the database on PostgreSQL). Nothing here reads the
chronology (``records.Entry``) or the children; the only free text read is the action
descriptions and owners and the protocol amendment notes, which the report lists.

Which cases each figure counts is defined in ``reports.figures``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Case,
    Count,
    ExpressionWrapper,
    FloatField,
    IntegerField,
    Max,
    Min,
    Q,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from agencies.models import Agency, Category, Partnership
from escalations.clocks import partnership_calendar
from escalations.models import Action, Party, ProfessionalDifference, StageEntry
from escalations.states import STAGE_RANK, TIMED_STAGES, Status
from reports.durations import (
    Spread,
    duration_spreads,
    group_case,
    working_days_expression,
    wrapped_rows,
)
from reports.models import CaseLearningTheme, CaseOutcome, LearningTheme
from reports.periods import LONDON, Period, local_midnight
from reports.timing import WorkingClock

# A case has reached its conclusion once its outcome is final: resolved, not resolved or
# withdrawn (each moves to learning review at once), a partial outcome the raising agency
# accepted (learning review), or closed. A case at "partially resolved" is still open: the
# raising agency may yet escalate it.
CONCLUDED_STATUSES: tuple[str, ...] = (
    Status.RESOLVED,
    Status.NOT_RESOLVED,
    Status.WITHDRAWN,
    Status.LEARNING_REVIEW,
    Status.CLOSED,
)
UNKNOWN_OUTCOME = "not_recorded"
# Working days to outcome, for the distribution chart: [low, high) buckets.
DURATION_BUCKETS: tuple[tuple[float, float | None], ...] = (
    (0, 5),
    (5, 10),
    (10, 20),
    (20, 40),
    (40, None),
)
PERIODS = ("now", "before")
STAGES_REACHED: tuple[str, ...] = (Status.IDENTIFIED, *TIMED_STAGES)


@dataclass
class ReportData:
    """What the figures are computed from (counts and summaries, not rows of cases)."""

    partnership: Partnership
    period: Period
    previous: Period
    months: list[date]
    counts: dict[str, Any]
    opened_groups: list[tuple[int, str, int, int]]
    outcomes: list[tuple[str, str, int]]
    to_outcome: dict[str, Spread]
    duration_buckets: list[int]
    stage_spreads: dict[str, Spread]
    stage_counts: dict[str, int]
    opened_parties: list[tuple[int, int, int]]
    breaches_by_agency: list[tuple[int, int]]
    theme_tags: list[tuple[int, int]]
    actions: list[tuple[str, str, date | None]]
    actions_more: bool
    amendments: list[tuple[datetime, str]]
    amendments_more: bool
    categories: list[tuple[int, str, bool]]
    agencies: list[tuple[int, str, str, bool]]
    themes: list[tuple[int, str, bool]]


def within(field: str, period: Period) -> Q:
    """``field`` falls in the period."""
    return Q(**{f"{field}__gte": period.starts_at, f"{field}__lt": period.ends_at})


def _between(field: str, start: datetime, end: datetime) -> Q:
    return Q(**{f"{field}__gte": start, f"{field}__lt": end})


def concluded(prefix: str = "") -> Q:
    return Q(**{f"{prefix}status__in": CONCLUDED_STATUSES})


def concluded_before(moment: datetime, prefix: str = "") -> Q:
    return Q(**{f"{prefix}status__in": CONCLUDED_STATUSES, f"{prefix}outcome_at__lt": moment})


def open_at(moment: datetime, prefix: str = "") -> Q:
    """Raised before ``moment`` and not concluded before it."""
    return Q(**{f"{prefix}raised_at__lt": moment}) & ~concluded_before(moment, prefix)


def _month_spans(period: Period) -> list[tuple[date, datetime, datetime]]:
    spans = []
    for month in period.months():
        following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
        start = max(local_midnight(month), period.starts_at)
        end = min(local_midnight(following), period.ends_at)
        spans.append((month, start, end))
    return spans


def _case_conditions(period: Period, previous: Period) -> dict[str, Q]:
    """Every count that needs only the case row, as a condition on the case."""
    conditions: dict[str, Q] = {}
    for key, span in zip(PERIODS, (period, previous), strict=True):
        conditions |= {
            f"{key}_open_at_start": open_at(span.starts_at),
            f"{key}_opened": within("raised_at", span),
            f"{key}_concluded": concluded() & within("outcome_at", span),
            f"{key}_closed": within("closed_at", span),
            f"{key}_open_at_end": open_at(span.ends_at),
            f"{key}_urgent": within("raised_at", span) & Q(is_urgent=True),
            f"{key}_active": Q(raised_at__lt=span.ends_at) & ~concluded_before(span.starts_at),
        }
    # Highest stage by the period's end, for the cases open during it whose current stage was
    # entered before the end (their highest stage cannot have changed since); the others are
    # counted from their stage clocks (_highest_stage_since_changed).
    active_now = Q(raised_at__lt=period.ends_at) & ~concluded_before(period.starts_at)
    for stage in STAGES_REACHED:
        conditions[f"settled_highest_{stage}"] = active_now & Q(
            stage_entered_at__lt=period.ends_at, highest_stage=stage
        )
    conditions["now_concluded_at_clarification"] = (
        concluded() & within("outcome_at", period) & Q(stage=Status.CLARIFICATION)
    )
    for index, (_month, start, end) in enumerate(_month_spans(period)):
        conditions[f"opened_m{index}"] = _between("raised_at", start, end)
        conditions[f"closed_m{index}"] = _between("closed_at", start, end)
    return conditions


def _case_facts(
    p: int, period: Period, previous: Period, clock: WorkingClock
) -> tuple[dict[str, int], dict[str, Spread], list[int]]:
    """One pass over the partnership's cases: every count that needs only the case row, and
    (on PostgreSQL) the working days from raising to outcome of the cases concluded in the
    period and in the previous one."""
    conditions = _case_conditions(period, previous)
    window = Period(previous.first_day, period.last_day)
    groups = {"now": within("outcome_at", period), "before": within("outcome_at", previous)}
    in_database = connection.vendor == "postgresql"
    flags = {f"report_{index}": condition for index, condition in enumerate(conditions.values())}
    annotations: dict[str, Any] = {
        name: ExpressionWrapper(condition, output_field=BooleanField())
        for name, condition in flags.items()
    }
    if in_database:
        annotations["report_days"] = Case(
            When(
                concluded() & within("outcome_at", window),
                then=working_days_expression("raised_at", "outcome_at", clock),
            ),
            default=None,
            output_field=FloatField(),
        )
        annotations["report_group"] = group_case(groups)
    # Cases that concluded and closed before the window, or were raised after it, count for
    # nothing: leave them out before evaluating every condition.
    settled_before = concluded_before(window.starts_at) & (
        Q(closed_at__isnull=True) | Q(closed_at__lt=window.starts_at)
    )
    inner = (
        ProfessionalDifference.objects.filter(partnership_id=p, raised_at__lt=window.ends_at)
        .exclude(settled_before)
        .order_by()
        .annotate(**annotations)
        .values_list(*annotations)
    )
    # count(*) FILTER adds one for each row where the flag holds and skips the rest; a sum of
    # CASE adds 0 or 1 for every row (twice the time of this query's aggregate on PostgreSQL).
    select = [
        f"count(*) FILTER (WHERE {name})"
        if in_database
        else f"sum(CASE WHEN {name} THEN 1 ELSE 0 END)"
        for name in flags
    ]
    if in_database:
        for name in groups:
            only = f"FILTER (WHERE report_group = '{name}' AND report_days IS NOT NULL)"
            select += [
                f"count(*) {only}",
                "percentile_cont(ARRAY[0.5, 0.25, 0.75]::float8[]) WITHIN GROUP "
                f"(ORDER BY report_days) {only}",
                f"max(report_days) {only}",
            ]
        for low, high in DURATION_BUCKETS:
            bounds = f"report_days >= {float(low)!r}"
            if high is not None:
                bounds += f" AND report_days < {float(high)!r}"
            select.append(f"count(*) FILTER (WHERE report_group = 'now' AND {bounds})")
    (row,) = wrapped_rows(inner, ", ".join(select), fence=in_database)
    counts = {name: int(value or 0) for name, value in zip(conditions, row, strict=False)}
    rest = list(row[len(conditions) :])
    if in_database:
        spreads = {}
        for name in groups:
            n, quartiles, maximum = rest[:3]
            rest = rest[3:]
            median, q1, q3 = quartiles if quartiles is not None else (None, None, None)
            spreads[name] = Spread(n, median, q1, q3, maximum)
        return counts, spreads, [int(value) for value in rest]
    spreads, buckets = duration_spreads(
        ProfessionalDifference.objects.filter(
            Q(partnership_id=p) & concluded() & within("outcome_at", window)
        ),
        start="raised_at",
        end="outcome_at",
        group_by=group_case(groups),
        groups=list(groups),
        clock=clock,
        buckets=DURATION_BUCKETS,
        bucket_group="now",
    )
    return counts, spreads, buckets


def _outcomes(p: int, period: Period) -> list[tuple[str, str, int]]:
    """The outcome ledger of the cases concluded in the period: (outcome, the case's stage,
    cases)."""
    return list(
        CaseOutcome.objects.filter(
            Q(difference__partnership_id=p)
            & concluded("difference__")
            & within("difference__outcome_at", period)
        )
        .order_by()
        .values("outcome", "difference__stage")
        .annotate(n=Count("pk"))
        .values_list("outcome", "difference__stage", "n")
    )


def _highest_stage_since_changed(p: int, period: Period) -> dict[int, int]:
    """For the cases open during the period that have entered a stage since its end: cases by
    the highest stage rank they had entered before the end (from their stage clocks)."""
    start, end = period.starts_at, period.ends_at
    rank = Case(
        *[When(stage=stage, then=Value(r)) for stage, r in STAGE_RANK.items()],
        default=Value(0),
        output_field=IntegerField(),
    )
    changed = ProfessionalDifference.objects.filter(
        Q(partnership_id=p, raised_at__lt=end, stage_entered_at__gte=end) & ~concluded_before(start)
    ).values("pk")
    per_case = (
        StageEntry.objects.filter(difference_id__in=changed, entered_at__lt=end)
        .order_by()
        .values("difference_id")
        .annotate(report_top=Max(rank))
        .values_list("report_top")
    )
    return dict(wrapped_rows(per_case, "report_top, count(*)", "GROUP BY report_top"))


def _stage_facts(
    p: int, period: Period, previous: Period, clock: WorkingClock
) -> tuple[dict[str, int], dict[str, Spread]]:
    """Breaches and referrals per stage and period (stage clocks breached or final referrals
    made in either period), and the working days spent in each stage by the cases concluded in
    the period."""
    window = Period(previous.first_day, period.last_day)
    referral = Q(stage=Status.FINAL_REFERRAL)
    rows = (
        StageEntry.objects.filter(
            Q(difference__partnership_id=p)
            & (within("breached_at", window) | (referral & within("entered_at", window)))
        )
        .order_by()
        .values("stage")
        .annotate(
            breach_now=Count("pk", filter=within("breached_at", period)),
            breach_before=Count("pk", filter=within("breached_at", previous)),
            referral_now=Count("pk", filter=referral & within("entered_at", period)),
            referral_before=Count("pk", filter=referral & within("entered_at", previous)),
        )
        .values_list("stage", "breach_now", "breach_before", "referral_now", "referral_before")
    )
    counts: dict[str, int] = {"before_breaches": 0, "now_referrals": 0, "before_referrals": 0}
    counts |= {f"breaches_{stage}": 0 for stage in TIMED_STAGES}
    for stage, breach_now, breach_before, referral_now, referral_before in rows:
        counts[f"breaches_{stage}"] = breach_now
        counts["before_breaches"] += breach_before
        counts["now_referrals"] += referral_now
        counts["before_referrals"] += referral_before
    spreads, _ = duration_spreads(
        StageEntry.objects.filter(
            Q(difference__partnership_id=p)
            & concluded("difference__")
            & within("difference__outcome_at", period)
        ),
        start="entered_at",
        end=Coalesce("left_at", "difference__outcome_at"),
        group_by="stage",
        groups=TIMED_STAGES,
        clock=clock,
    )
    return counts, spreads


def _clock(partnership: Partnership, period: Period) -> WorkingClock:
    """The working-time table from the partnership's first case to the period's end (every
    duration the report measures lies within it)."""
    earliest = ProfessionalDifference.objects.filter(partnership_id=partnership.pk).aggregate(
        earliest=Min("raised_at")
    )["earliest"]
    first = earliest.astimezone(LONDON).date() if earliest is not None else period.first_day
    return WorkingClock(
        partnership_calendar(partnership), min(first, period.first_day), period.last_day
    )


# PostgreSQL settings for the report's transaction (``SET LOCAL``: they end with it). The
# report is a handful of scans and joins over a partnership's cases, run rarely: enough sort
# memory for the medians and groupings to stay in memory; parallel workers even for tables of
# a few megabytes (the default costs keep them for larger ones, and a 2-core machine then
# does the joins one core at a time); no JIT (compiling these short queries costs more than
# it saves).
REPORT_SETTINGS: tuple[tuple[str, str], ...] = (
    ("work_mem", "64MB"),
    ("jit", "off"),
    ("parallel_setup_cost", "10"),
    ("parallel_tuple_cost", "0.001"),
    ("min_parallel_table_scan_size", "256kB"),
)


@contextmanager
def _report_transaction() -> Iterator[None]:
    """One transaction for the report's reads, with REPORT_SETTINGS on PostgreSQL."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for name, value in REPORT_SETTINGS:
                    cursor.execute("SELECT set_config(%s, %s, true)", [name, value])
        yield


def report_data(
    partnership: Partnership,
    period: Period,
    *,
    previous: Period | None = None,
    list_limit: int | None = None,
) -> ReportData:
    """Read what the report for ``partnership`` over ``period`` needs (and the headline
    figures of the period before it, for comparison). ``list_limit`` caps the listed actions
    and amendments (the page, the PDF); the spreadsheets list them all."""
    with _report_transaction():
        return _report_data(partnership, period, previous or period.previous(), list_limit)


def _report_data(
    partnership: Partnership, period: Period, previous: Period, list_limit: int | None
) -> ReportData:
    p = partnership.pk
    window = Period(previous.first_day, period.last_day)
    clock = _clock(partnership, window)
    counts, to_outcome, buckets = _case_facts(p, period, previous, clock)
    cases = ProfessionalDifference.objects.filter(partnership_id=p)

    opened_groups = list(
        cases.filter(within("raised_at", period))
        .order_by()
        .values("category_id", "context", "raiser_agency_id")
        .annotate(n=Count("pk"))
        .values_list("category_id", "context", "raiser_agency_id", "n")
    )
    stage_counts, stage_spreads = _stage_facts(p, period, previous, clock)
    changed = _highest_stage_since_changed(p, period)
    for stage in STAGES_REACHED:
        stage_counts[f"highest_{stage}"] = counts[f"settled_highest_{stage}"] + changed.get(
            STAGE_RANK[stage], 0
        )

    opened_parties = list(
        Party.objects.filter(
            Q(difference__partnership_id=p, is_raising=False)
            & within("difference__raised_at", period)
        )
        .order_by()
        .values_list("difference_id", "difference__raiser_agency_id", "agency_id")
    )
    breaches_by_agency = list(
        Party.objects.filter(
            Q(difference__partnership_id=p)
            & within("difference__stage_entries__breached_at", period)
        )
        .order_by()
        .values("agency_id")
        .annotate(n=Count("pk"))
        .values_list("agency_id", "n")
    )
    theme_tags = list(
        CaseLearningTheme.objects.filter(
            Q(difference__partnership_id=p) & within("difference__closed_at", period)
        )
        .order_by()
        .values_list("difference_id", "theme_id")
    )

    actions_qs = (
        Action.objects.filter(Q(difference__partnership_id=p) & within("recorded_at", period))
        .order_by("recorded_at", "pk")
        .values_list("description", "owner", "due_date")
    )
    amendments_qs = (
        cases.filter(Q(protocol_amendment_recommended=True) & within("closed_at", period))
        .order_by("closed_at", "pk")
        .values_list("closed_at", "protocol_amendment_note")
    )
    if list_limit is None:
        actions, amendments = list(actions_qs), list(amendments_qs)
    else:
        actions = list(actions_qs[: list_limit + 1])
        amendments = list(amendments_qs[: list_limit + 1])
    actions_more = list_limit is not None and len(actions) > list_limit
    amendments_more = list_limit is not None and len(amendments) > list_limit

    return ReportData(
        partnership=partnership,
        period=period,
        previous=previous,
        months=period.months(),
        counts=counts,
        opened_groups=opened_groups,
        outcomes=_outcomes(p, period),
        to_outcome=to_outcome,
        duration_buckets=buckets,
        stage_spreads=stage_spreads,
        stage_counts=stage_counts,
        opened_parties=opened_parties,
        breaches_by_agency=breaches_by_agency,
        theme_tags=theme_tags,
        actions=actions[:list_limit] if list_limit is not None else actions,
        actions_more=actions_more,
        amendments=amendments[:list_limit] if list_limit is not None else amendments,
        amendments_more=amendments_more,
        categories=list(
            Category.objects.filter(partnership_id=p)
            .order_by("position", "name")
            .values_list("pk", "name", "active")
        ),
        agencies=list(
            Agency.objects.filter(partnership_id=p)
            .order_by("name")
            .values_list("pk", "name", "agency_type", "active")
        ),
        themes=list(
            LearningTheme.objects.filter(partnership_id=p)
            .order_by("position", "name")
            .values_list("pk", "name", "active")
        ),
    )
