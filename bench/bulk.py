"""Bulk loading for the benchmarks: PostgreSQL COPY through psycopg 3 and id reservation.

Imported after ``django.setup()`` by the benchmark modules (it reads the default connection).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, models

from escalations.states import Status


def copy_rows(
    model: type[models.Model], fields: Sequence[str], rows: Iterable[tuple[Any, ...]]
) -> int:
    """COPY rows into the model's table; every other column takes its default."""
    defaults = {
        field.attname: field.get_default()
        for field in model._meta.concrete_fields
        if field.attname not in fields and not (field.primary_key and field.attname == "id")
    }
    columns = [*fields, *defaults]
    extra = tuple(defaults.values())
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(column) for column in columns)
    count = 0
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(  # type: ignore[attr-defined]
            f"COPY {table} ({names}) FROM STDIN"
        ) as copy,
    ):
        for row in rows:
            copy.write_row(row + extra)
            count += 1
    return count


def reserve_ids(model: type[models.Model], n: int) -> list[int]:
    """``n`` fresh primary keys from the model's sequence (to COPY rows that others point at)."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [table, n],
        )
        return [row[0] for row in cursor.fetchall()]


@dataclass(frozen=True)
class Ending:
    """How a generated case that left its last stage ended."""

    outcome: Status
    outcome_at: datetime
    status: Status
    closed_at: datetime | None


def case_ending(
    rng: random.Random, last_stage: str, left: datetime, now: datetime, closed_share: float
) -> Ending:
    """The outcome of a case whose last stage ended at ``left``: withdrawn from clarification,
    any outcome at final referral, mostly resolved before; then closed (``closed_share`` of
    those whose closing day has passed) or still in learning review."""
    if last_stage == Status.CLARIFICATION:
        outcome = Status.WITHDRAWN
    elif last_stage == Status.FINAL_REFERRAL:
        outcome = rng.choice([Status.RESOLVED, Status.PARTIALLY_RESOLVED, Status.NOT_RESOLVED])
    else:
        outcome = Status.RESOLVED if rng.random() < 0.75 else Status.PARTIALLY_RESOLVED
    closing = left + timedelta(days=rng.uniform(1, 20))
    if closing < now and rng.random() < closed_share:
        return Ending(outcome, left, Status.CLOSED, closing)
    return Ending(outcome, left, Status.LEARNING_REVIEW, None)
