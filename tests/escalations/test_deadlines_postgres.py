"""The deadline scan on PostgreSQL: two schedulers at once still record each breach once."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from django.db import connection

from escalations import services
from escalations.deadlines import ScanResult, deadlines_scan
from escalations.models import ClockEvent, Notification
from tests.conftest import build_world
from tests.factories.differences import raise_difference

LONDON = ZoneInfo("Europe/London")


def test_two_scans_at_once_record_each_breach_exactly_once(postgres_transactional: Any) -> None:
    world = build_world()
    with time_machine.travel(datetime(2026, 11, 2, 10, 0, tzinfo=LONDON), tick=False):
        for _ in range(30):
            case = raise_difference(world)
            services.difference_start_clarification(actor=world.raiser, difference_id=case.pk)
    results: list[ScanResult] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def scan() -> None:
        try:
            barrier.wait()
            results.append(deadlines_scan(batch_size=7))
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(r.breaches for r in results) == 30
    assert ClockEvent.objects.filter(kind="breach").count() == 30
    # Each breach told its people once: the raiser + A's and B's line managers and leads.
    assert Notification.objects.filter(kind="breach").count() == 30 * 5
