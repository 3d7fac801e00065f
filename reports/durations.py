"""Median, quartiles and maximum of working-day durations, per group, in one query.

On PostgreSQL the database does the work: the partnership's working calendar goes in as three
arrays (a table of local midnights, ``reports.timing.WorkingClock.arrays``), the SQL function
``reports_working_days`` (migration 0003) turns each pair of instants into working days once
per row, and ``percentile_cont`` and ``max`` over those rows summarise them per group; only the
summaries come back. Elsewhere (SQLite) the
rows come back and Python does the same with the same table. ``percentile_cont`` interpolates
like ``statistics.quantiles(method="inclusive")``, so both give the same figures (the test
suite runs on both).
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Expression,
    F,
    Field,
    FloatField,
    Func,
    Q,
    QuerySet,
    Value,
    When,
)

from reports.timing import WorkingClock


@dataclass(frozen=True)
class Spread:
    """Median, quartiles and maximum of a list of working-day durations."""

    count: int
    median: float | None = None
    lower_quartile: float | None = None
    upper_quartile: float | None = None
    maximum: float | None = None

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        if not values:
            return cls(0)
        ordered = sorted(values)
        if len(ordered) == 1:
            q1 = q3 = ordered[0]
        else:
            q1, _, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
        return cls(len(ordered), statistics.median(ordered), q1, q3, ordered[-1])


def working_days_expression(
    start: Expression | str, end: Expression | str, clock: WorkingClock
) -> Func:
    """Working days from ``start`` to ``end`` (PostgreSQL only)."""
    mids, bases, slopes = clock.arrays()
    return Func(
        F(start) if isinstance(start, str) else start,
        F(end) if isinstance(end, str) else end,
        Value(mids, output_field=Field()),
        Value(bases, output_field=Field()),
        Value(slopes, output_field=Field()),
        function="reports_working_days",
        output_field=FloatField(),
    )


Buckets = Sequence[tuple[float, float | None]]


def duration_spreads(
    queryset: QuerySet[Any],
    *,
    start: Expression | str,
    end: Expression | str,
    group_by: Expression | str,
    groups: Sequence[str],
    clock: WorkingClock,
    buckets: Buckets = (),
    bucket_group: str | None = None,
) -> tuple[dict[str, Spread], list[int]]:
    """The spread of ``end − start`` in working days for each of ``groups`` (the values of
    ``group_by``; rows in no group are ignored), and for ``bucket_group`` how many fall in each
    ``[low, high)`` bucket."""
    arguments = (queryset, start, end, group_by, groups, clock, buckets, bucket_group)
    if connection.vendor == "postgresql":
        return _in_database(*arguments)
    return _in_python(*arguments)


def group_case(groups: Mapping[str, Q]) -> Case:
    """The name of the (first) group whose condition a row meets, else ``""``."""
    return Case(
        *[When(condition, then=Value(name)) for name, condition in groups.items()],
        default=Value(""),
        output_field=CharField(),
    )


def wrapped_rows(
    inner: QuerySet[Any], select: str, rest: str = "", *, fence: bool = False
) -> list[tuple[Any, ...]]:
    """Run ``SELECT <select> FROM (<inner>) AS report_rows <rest>``: an aggregate over a
    query's rows, each computed once (the ORM would repeat an annotation inside every
    aggregate). With ``fence`` (PostgreSQL), ``OFFSET 0`` keeps the planner from folding the
    inner query into the outer one, which would evaluate its expressions once per reference.
    ``select`` and ``rest`` are our own SQL, never user input; the inner query's parameters
    stay bound."""
    sql, params = inner.query.sql_with_params()
    if fence:
        sql += " OFFSET 0"
    statement = f"SELECT {select} FROM ({sql}) AS report_rows {rest}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return list(cursor.fetchall())


def _in_database(
    queryset: QuerySet[Any],
    start: Expression | str,
    end: Expression | str,
    group_by: Expression | str,
    groups: Sequence[str],
    clock: WorkingClock,
    buckets: Buckets,
    bucket_group: str | None,
) -> tuple[dict[str, Spread], list[int]]:
    inner = (
        queryset.order_by()
        .annotate(
            report_days=working_days_expression(start, end, clock),
            report_group=F(group_by) if isinstance(group_by, str) else group_by,
        )
        .values_list("report_days", "report_group")
    )
    bucket_columns = "".join(
        f", count(*) FILTER (WHERE report_days >= {float(low)!r}"
        + (f" AND report_days < {float(high)!r})" if high is not None else ")")
        for low, high in buckets
    )
    rows = wrapped_rows(
        inner,
        "report_group, count(*), percentile_cont(ARRAY[0.5, 0.25, 0.75]::float8[]) "
        f"WITHIN GROUP (ORDER BY report_days), max(report_days){bucket_columns}",
        "WHERE report_group <> '' AND report_days IS NOT NULL GROUP BY report_group",
        fence=True,
    )
    spreads = {name: Spread(0) for name in groups}
    counts = [0] * len(buckets) if bucket_group is not None else []
    for group, n, (median, q1, q3), maximum, *bucket_counts in rows:
        if group not in spreads:
            continue
        spreads[group] = Spread(n, median, q1, q3, maximum)
        if group == bucket_group:
            counts = list(bucket_counts)
    return spreads, counts


def _in_python(
    queryset: QuerySet[Any],
    start: Expression | str,
    end: Expression | str,
    group_by: Expression | str,
    groups: Sequence[str],
    clock: WorkingClock,
    buckets: Buckets,
    bucket_group: str | None,
) -> tuple[dict[str, Spread], list[int]]:
    which = F(group_by) if isinstance(group_by, str) else group_by
    rows = (
        queryset.order_by()
        .annotate(
            report_start=F(start) if isinstance(start, str) else start,
            report_end=F(end) if isinstance(end, str) else end,
            report_group=which,
        )
        .values_list("report_start", "report_end", "report_group")
    )
    values: dict[str, list[float]] = {name: [] for name in groups}
    for began, ended, group in rows:
        if group in values and began is not None and ended is not None:
            values[group].append(clock.days_between(began, ended))
    counts = []
    if bucket_group is not None:
        for low, high in buckets:
            counts.append(
                sum(1 for d in values[bucket_group] if d >= low and (high is None or d < high))
            )
    return {name: Spread.of(found) for name, found in values.items()}, counts
