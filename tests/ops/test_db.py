"""ops.db: cursors that bind on the server, and keep the hot statements prepared."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from ops.db import server_cursor

STATEMENT = "SELECT count(*) FROM auth_user WHERE id = ANY(%s) AND is_active = %s"


def _prepared() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.django_db
def test_a_server_cursor_answers_like_any_cursor_on_every_database() -> None:
    with server_cursor(prepare=True) as cursor:
        cursor.execute("SELECT count(*) FROM auth_user WHERE is_active = %s", [True])
        assert cursor.fetchone() == (0,)


def test_a_prepared_statement_is_kept_on_the_connection_and_still_counted(postgres: Any) -> None:
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            with server_cursor(prepare=True) as cursor:
                cursor.execute(STATEMENT, [[1, 2, 3], True])
                assert cursor.fetchone() == (0,)
    # The query log and the query-count tests still see each one, with its values.
    assert [q["sql"] for q in queries] == [
        "SELECT count(*) FROM auth_user WHERE id = ANY('{1,2,3}'::int2[]) AND is_active = true"
    ] * 3
    assert sum("FROM auth_user WHERE id = ANY($1)" in text for text in _prepared()) == 1


def test_nothing_is_prepared_when_preparing_is_off_or_not_asked_for(postgres: Any) -> None:
    with server_cursor() as cursor:
        cursor.execute(STATEMENT, [[4], True])
    with override_settings(DATABASE_PREPARE=False), server_cursor(prepare=True) as cursor:
        cursor.execute(STATEMENT, [[5], False])
    assert not any("FROM auth_user WHERE id = ANY($1)" in text for text in _prepared())
