"""/healthz: the database, the Redis broker and the last deadline scan, for load balancers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import Client, override_settings

from escalations.deadlines import deadlines_scan
from ops import health
from ops.heartbeats import heartbeat_last, heartbeat_record
from ops.models import Heartbeat
from tests.support.services import live_redis_url

pytestmark = pytest.mark.django_db

FILESYSTEM_BROKER = "filesystem://"
DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: refused at once


@pytest.fixture(autouse=True)
def _fresh_redis_clients() -> Any:
    health._redis_client.cache_clear()
    yield
    health._redis_client.cache_clear()


def _get(client: Client | None = None, **extra: Any) -> Any:
    return (client or Client()).get("/healthz", **extra)


@override_settings(CELERY_BROKER_URL=FILESYSTEM_BROKER)
def test_ok_without_a_redis_broker_and_before_any_scan() -> None:
    response = _get()
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "redis": "not-configured",
        "last_deadline_scan": None,
    }


def test_ok_with_a_live_redis_broker() -> None:
    with override_settings(CELERY_BROKER_URL=live_redis_url("redis://127.0.0.1:6379/14")):
        response = _get()
    assert response.status_code == 200
    assert response.json()["redis"] == "ok"
    assert response.json()["status"] == "ok"


@override_settings(CELERY_BROKER_URL=DEAD_REDIS)
def test_redis_down_is_503_and_says_no_more_than_error() -> None:
    response = _get()
    assert response.status_code == 503
    body = response.json()
    assert body == {
        "status": "error",
        "database": "ok",
        "redis": "error",
        "last_deadline_scan": None,
    }
    assert "127.0.0.1" not in response.content.decode()  # no URLs, hosts or error texts


@override_settings(CELERY_BROKER_URL=FILESYSTEM_BROKER)
def test_database_down_is_503(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("connection to server at 10.0.0.9 failed: password for x")

    monkeypatch.setattr(BaseDatabaseWrapper, "cursor", refuse)
    response = _get()
    assert response.status_code == 503
    assert response.json() == {
        "status": "error",
        "database": "error",
        "redis": "not-configured",
        "last_deadline_scan": None,
    }
    assert "10.0.0.9" not in response.content.decode()
    assert "password" not in response.content.decode()


@override_settings(CELERY_BROKER_URL=FILESYSTEM_BROKER)
def test_the_last_deadline_scan_is_the_time_the_scan_last_finished() -> None:
    before = datetime.now(UTC)
    deadlines_scan()
    recorded = heartbeat_last(Heartbeat.DEADLINE_SCAN)
    assert recorded is not None and recorded >= before
    body = _get().json()
    assert datetime.fromisoformat(body["last_deadline_scan"]) == recorded


def test_recording_a_scan_is_one_update(django_assert_num_queries: Any) -> None:
    heartbeat_record(Heartbeat.DEADLINE_SCAN)  # the migration made the row
    with django_assert_num_queries(1):
        heartbeat_record(Heartbeat.DEADLINE_SCAN)
    assert Heartbeat.objects.count() == 1


def test_a_missing_heartbeat_row_is_made_again() -> None:
    Heartbeat.objects.all().delete()
    at = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    heartbeat_record(Heartbeat.DEADLINE_SCAN, at)
    assert heartbeat_last(Heartbeat.DEADLINE_SCAN) == at


@override_settings(CELERY_BROKER_URL=FILESYSTEM_BROKER)
def test_the_check_is_one_query(django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(1):
        assert _get().status_code == 200


@override_settings(
    CELERY_BROKER_URL=FILESYSTEM_BROKER,
    SECURE_SSL_REDIRECT=True,
    ALLOWED_HOSTS=["rpd.example.org"],
)
def test_plain_http_and_any_host_name_reach_it_while_other_pages_redirect() -> None:
    # A load balancer inside the network: plain HTTP, its own idea of the Host header.
    response = _get(HTTP_HOST="10.1.2.3:8000")
    assert response.status_code == 200
    assert Client().get("/sign-in/", HTTP_HOST="rpd.example.org").status_code == 301
    assert Client().get("/sign-in/", HTTP_HOST="10.1.2.3:8000").status_code == 400


@override_settings(CELERY_BROKER_URL=FILESYSTEM_BROKER)
def test_no_sign_in_needed_and_only_get_or_head() -> None:
    assert Client().head("/healthz").status_code == 200
    response = Client(enforce_csrf_checks=True).post("/healthz")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert Client().get("/healthz/").status_code == 404
