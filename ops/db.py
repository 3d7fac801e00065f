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
  For a fixed statement run on every page (a person's roles, their grants, the case they open)
  planning took three to six times as long as running it. Off with ``DATABASE_PREPARE=false``
  behind a pooler that cannot keep prepared statements (PgBouncer before 1.21 in transaction
  mode).

On other databases both are Django's ordinary cursor.
"""

from __future__ import annotations

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
    cursor_class = _preparing_cursor() if prepare and settings.DATABASE_PREPARE else _binding()
    raw = cursor_class(connection.connection)
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


def _binding() -> Any:
    from django.db.backends.postgresql import base as postgresql

    return postgresql.ServerBindingCursor  # psycopg's Cursor, with Django's mixin


_PREPARING: list[Any] = []


def _preparing_cursor() -> Any:
    """``ServerBindingCursor`` whose ``execute`` prepares (made once, on first use: the
    PostgreSQL backend module is only imported where PostgreSQL is configured)."""
    if not _PREPARING:
        binding = _binding()

        class PreparingCursor(binding):  # type: ignore[misc, valid-type]
            def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
                kwargs.setdefault("prepare", True)
                return super().execute(query, params, **kwargs)

        _PREPARING.append(PreparingCursor)
    return _PREPARING[0]
