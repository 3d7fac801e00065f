"""A partnership's configuration as the pages show it, kept in each process for a few seconds.

Every case list reads its partnerships' agencies and categories (the filter drop-downs) and
working calendars (the stage clocks), and every case page a calendar: up to three queries a
page for rows that change a few times a year. Each process keeps what it read for
``CONFIG_CACHE_SECONDS`` (then reads it again, in one query), and forgets a partnership's at
once when a transaction of its own that changes one of those rows commits
(``forget_partnership_config``, connected in ``AgenciesConfig.ready``). So the person who made
a change sees it on their next page, and every other process within a few seconds.

In the process, not in Redis: Django's Redis cache took about half a millisecond a read (a
new client each call), as long as the query it saves; the process's own copy takes
microseconds, and needs nothing else running.

For display only. Deadlines are worked out from the database (``escalations.clocks``), never
from this copy.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import connection, transaction

from escalations.working_time import WorkingCalendar

CONFIG_CACHE_SECONDS = 5.0
# partnership id -> (when it was read, on the monotonic clock; what was read)
_kept: dict[int, tuple[float, PartnershipConfig]] = {}


@dataclass(frozen=True)
class Choice:
    pk: int
    name: str
    active: bool


@dataclass(frozen=True)
class PartnershipConfig:
    pk: int
    nation: str
    closure_days: tuple[date, ...]
    agencies: tuple[Choice, ...]  # by name
    categories: tuple[Choice, ...]  # by position, then name

    @functools.cached_property
    def calendar(self) -> WorkingCalendar:
        return _calendar(self.nation, frozenset(self.closure_days))


@functools.lru_cache(maxsize=256)
def _calendar(nation: str, closure_days: frozenset[date]) -> WorkingCalendar:
    # One instance per distinct calendar: the working-day tables are cached per instance.
    return WorkingCalendar.for_nation(nation, closure_days)


def _read(ids: list[int]) -> dict[int, PartnershipConfig]:
    """The partnerships' configuration from the database, in one query."""
    from agencies.models import Agency, Category, ClosureDay, Partnership

    def table(model: Any) -> str:
        return str(connection.ops.quote_name(model._meta.db_table))

    def column(model: Any, name: str) -> str:
        return str(connection.ops.quote_name(model._meta.get_field(name).column))

    marks = ", ".join(["%s"] * len(ids))
    # One row shape for four kinds of row (kind, partnership, text, date, active, position,
    # id), in the order the pages list them: agencies by name, categories by position and
    # name (the database's collation, as the ORM's ordering). Only table and column names
    # are formatted in; every value is a parameter.
    sql = (
        f"SELECT 'p', id, {column(Partnership, 'nation')}, NULL, 0, 0, id "  # noqa: S608
        f"FROM {table(Partnership)} WHERE id IN ({marks}) "
        f"UNION ALL SELECT 'd', {column(ClosureDay, 'partnership')}, NULL, "
        f"{column(ClosureDay, 'date')}, 0, 0, id FROM {table(ClosureDay)} "
        f"WHERE {column(ClosureDay, 'partnership')} IN ({marks}) "
        f"UNION ALL SELECT 'a', {column(Agency, 'partnership')}, {column(Agency, 'name')}, "
        f"NULL, CASE WHEN {column(Agency, 'active')} THEN 1 ELSE 0 END, 0, id "
        f"FROM {table(Agency)} WHERE {column(Agency, 'partnership')} IN ({marks}) "
        f"UNION ALL SELECT 'c', {column(Category, 'partnership')}, {column(Category, 'name')}, "
        f"NULL, CASE WHEN {column(Category, 'active')} THEN 1 ELSE 0 END, "
        f"{column(Category, 'position')}, id "
        f"FROM {table(Category)} WHERE {column(Category, 'partnership')} IN ({marks}) "
        "ORDER BY 1, 6, 3, 7"
    )
    nations: dict[int, str] = {}
    days: dict[int, list[date]] = {pk: [] for pk in ids}
    agencies: dict[int, list[Choice]] = {pk: [] for pk in ids}
    categories: dict[int, list[Choice]] = {pk: [] for pk in ids}
    with connection.cursor() as cursor:
        cursor.execute(sql, ids * 4)
        rows = cursor.fetchall()
    for kind, partnership_id, text, day, is_active, _, pk in rows:
        if kind == "p":
            nations[partnership_id] = text
        elif kind == "d":
            days[partnership_id].append(day if isinstance(day, date) else date.fromisoformat(day))
        elif kind == "a":
            agencies[partnership_id].append(Choice(pk, text, bool(is_active)))
        else:
            categories[partnership_id].append(Choice(pk, text, bool(is_active)))
    return {
        pk: PartnershipConfig(
            pk=pk,
            nation=nation,
            closure_days=tuple(sorted(days[pk])),
            agencies=tuple(agencies[pk]),
            categories=tuple(categories[pk]),
        )
        for pk, nation in nations.items()
    }


def partnership_configs(ids: Iterable[int]) -> dict[int, PartnershipConfig]:
    """The configuration of each partnership in ``ids`` that exists: what this process read
    less than CONFIG_CACHE_SECONDS ago, the rest from the database in one query."""
    wanted = sorted(set(ids))
    now = time.monotonic()
    found: dict[int, PartnershipConfig] = {}
    for pk in wanted:
        kept = _kept.get(pk)
        if kept is not None and now - kept[0] < CONFIG_CACHE_SECONDS:
            found[pk] = kept[1]
    missing = [pk for pk in wanted if pk not in found]
    if missing:
        read = _read(missing)
        found.update(read)

        def keep() -> None:
            for pk, config in read.items():
                _kept[pk] = (now, config)

        # Inside a transaction, only once it commits: it may have read its own uncommitted
        # change, which a rollback would otherwise leave kept.
        transaction.on_commit(keep)
    return found


def partnership_config(pk: int) -> PartnershipConfig:
    """One partnership's configuration (``KeyError`` if there is no such partnership)."""
    return partnership_configs([pk])[pk]


def forget_partnership_config(partnership_id: int | None = None) -> None:
    """Forget the partnership's configuration now and again once the current transaction
    commits, so the next page reads what was committed; given none, forget every one now."""
    if partnership_id is None:
        _kept.clear()
        return

    def forget() -> None:
        _kept.pop(partnership_id, None)

    forget()
    transaction.on_commit(forget)


def forget_on_change(sender: Any, instance: Any, **kwargs: Any) -> None:
    """Signal receiver (post_save, post_delete) for Partnership, Agency, Category and
    ClosureDay."""
    partnership_id = instance.pk if sender._meta.model_name == "partnership" else None
    if partnership_id is None:
        partnership_id = getattr(instance, "partnership_id", None)
    if partnership_id is not None:
        forget_partnership_config(partnership_id)
