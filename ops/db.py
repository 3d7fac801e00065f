"""Cursors for the hand-written SQL of the hot paths, on the default connection.

Django's PostgreSQL cursors bind parameters on the client: every value is quoted into the
statement's text in Python, and PostgreSQL plans each statement afresh. Two other kinds are
used where that costs more than the work itself, both on the same connection and transaction,
and both through Django's cursor wrapper (so query logging, ``CaptureQueriesContext`` and the
query-count tests see them):

- ``server_cursor()`` sends the values separately (the deadline scan's arrays of thousands of
  values cost a fifth of the scan to quote);
- ``server_cursor(prepare=True)`` also keeps the statement prepared on the connection (psycopg
  names it; pooled connections keep it from request to request), so PostgreSQL plans it once.
  For a fixed statement run on every page (a person's roles, the case they open) planning took
  three to six times as long as running it. Only for statements whose plan does not depend on
  the values: PostgreSQL may keep one plan for all of them. Off with ``DATABASE_PREPARE=false``
  behind a pooler that cannot keep prepared statements (PgBouncer before 1.21 in transaction
  mode).

On other databases both are Django's ordinary cursor.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper


@contextmanager
def server_cursor(*, prepare: bool = False) -> Iterator[Any]:
    """A cursor whose parameters PostgreSQL binds (``prepare``: and whose statements stay
    prepared on the connection)."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            yield cursor
        return
    connection.ensure_connection()
    raw = _cursor_class(prepare=prepare and settings.DATABASE_PREPARE)(connection.connection)
    wrapped = (
        _DebugWrapper(raw, connection) if connection.queries_logged else connection.make_cursor(raw)
    )
    with wrapped as cursor:
        yield cursor


class _DebugWrapper(CursorDebugWrapper):
    """Django's query-logging wrapper, logging the statement with its values written in
    (Django reads the text psycopg sent, which a server-binding cursor does not have)."""

    def execute(self, sql: Any, params: Any = None) -> Any:
        try:
            shown = self.db.ops.compose_sql(sql, params)
        except Exception:  # only for the log: the statement itself runs as given
            shown = sql
        with self.debug_sql(shown, params):
            return CursorWrapper.execute(self, sql, params)


@functools.cache
def _cursor_class(*, prepare: bool) -> Any:
    """Django's ``ServerBindingCursor`` (psycopg's Cursor with Django's mixin), or a subclass
    whose ``execute`` prepares. Made on first use: the PostgreSQL backend module is imported
    only where PostgreSQL is configured."""
    from django.db.backends.postgresql import base as postgresql

    binding: Any = postgresql.ServerBindingCursor
    if not prepare:
        return binding

    class PreparingCursor(binding):  # type: ignore[misc, valid-type]
        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            kwargs.setdefault("prepare", True)
            return super().execute(query, params, **kwargs)

    return PreparingCursor
