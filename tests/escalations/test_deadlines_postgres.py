"""The deadline scan on PostgreSQL: two schedulers at once still record each breach once."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction

from escalations import deadlines, services
from escalations.deadlines import ScanResult, deadlines_scan
from escalations.models import ClockEvent, Notification
from records.models import Entry
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


def test_one_scan_on_several_connections_records_each_breach_once(
    postgres_transactional: Any, monkeypatch: Any
) -> None:
    world = build_world()
    with time_machine.travel(datetime(2026, 11, 2, 10, 0, tzinfo=LONDON), tick=False):
        for _ in range(30):
            case = raise_difference(world)
            services.difference_start_clarification(actor=world.raiser, difference_id=case.pk)
    threads: set[str] = set()
    scan_batches = deadlines._scan_batches

    def recording(*args: Any) -> ScanResult:
        threads.add(threading.current_thread().name)
        return scan_batches(*args)

    monkeypatch.setattr(deadlines, "_scan_batches", recording)
    result = deadlines_scan(batch_size=4, workers=3)
    assert len(threads) == 3 and all(name.startswith("deadline-scan") for name in threads)
    assert result.breaches == 30
    # Each of the three threads stops at its first short batch, after at most seven full ones
    # (30 entries, four a batch) between them.
    assert 3 < result.batches <= 7 + 3
    assert ClockEvent.objects.filter(kind="breach").count() == 30
    assert Notification.objects.filter(kind="breach").count() == 30 * 5
    assert deadlines_scan(workers=3).breaches == 0


def test_a_scan_inside_a_transaction_stays_on_its_connection(postgres: Any) -> None:
    """Other connections could not see the transaction's rows: the scan does not use them."""
    world = build_world()
    with time_machine.travel(datetime(2026, 11, 2, 10, 0, tzinfo=LONDON), tick=False):
        case = raise_difference(world)
        services.difference_start_clarification(actor=world.raiser, difference_id=case.pk)
    assert connection.in_atomic_block
    assert deadlines_scan(workers=4).breaches == 1


def _one_breach(world: Any) -> Notification:
    with time_machine.travel(datetime(2026, 11, 2, 10, 0, tzinfo=LONDON), tick=False):
        case = raise_difference(world)
        services.difference_start_clarification(actor=world.raiser, difference_id=case.pk)
    deadlines_scan()
    return Notification.objects.filter(difference=case).first()  # type: ignore[return-value]


def test_a_notice_must_refer_to_an_existing_person_and_case(postgres: Any) -> None:
    """The statement-level checks that replace the per-row foreign keys (migration 0007)."""
    world = build_world()
    notice = _one_breach(world)
    assert notice is not None
    for statement in (
        "UPDATE escalations_notification SET recipient_id = 987654321 WHERE id = %s",
        "UPDATE escalations_notification SET difference_id = 987654321 WHERE id = %s",
    ):
        with (
            pytest.raises(IntegrityError, match="does not exist"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [notice.pk])
    with pytest.raises(IntegrityError, match="does not exist"), transaction.atomic():
        Notification.objects.create(
            recipient_id=987654321, difference_id=notice.difference_id, kind="breach"
        )


def test_a_person_or_case_with_notices_cannot_be_deleted_behind_django(postgres: Any) -> None:
    world = build_world()
    notice = _one_breach(world)
    for statement, pk in (
        ("DELETE FROM auth_user WHERE id = %s", notice.recipient_id),
        ("DELETE FROM escalations_professionaldifference WHERE id = %s", notice.difference_id),
    ):
        with (
            pytest.raises(IntegrityError, match="still refer"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [pk])
    # Django's cascade deletes the notices first, so deleting through the ORM works (for a
    # person who raised nothing and wrote no entry: those references are PROTECTed).
    other = (
        Notification.objects.filter(difference_id=notice.difference_id)
        .exclude(recipient=notice.difference.raised_by)
        .exclude(recipient__in=Entry.objects.values("author"))
        .first()
    )
    assert other is not None
    recipient = other.recipient
    told = Notification.objects.filter(recipient=recipient).count()
    assert told >= 1
    recipient.delete()
    assert not Notification.objects.filter(recipient_id=recipient.pk).exists()
