"""Delivering the outbox for real: a Celery worker killed mid-way, the broker down at commit,
and e-mail over real SMTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import override_settings

from escalations import deadlines, services
from escalations.deadlines import deadlines_scan, outbox_deliver
from escalations.models import Notification
from escalations.states import Status
from tests.conftest import World, build_world
from tests.factories.differences import difference_at, raise_difference
from tests.support.services import live_redis_url

LONDON = ZoneInfo("Europe/London")
ROOT = Path(__file__).resolve().parents[2]


def _breached_cases(world: World, count: int) -> None:
    with time_machine.travel(datetime(2026, 11, 2, 10, 0, tzinfo=LONDON), tick=False):
        for _ in range(count):
            case = raise_difference(world)
            services.difference_start_clarification(actor=world.raiser, difference_id=case.pk)
    deadlines_scan()


def _start_worker(redis_url: str, mail_dir: Path, log: Path) -> subprocess.Popen[bytes]:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.support.worker_settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": redis_url,
        "TEST_EMAIL_DIR": str(mail_dir),
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo",
         "--loglevel=info", "--without-heartbeat", "--without-mingle", "--without-gossip"],
        cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip


def _send_delivery_task(redis_url: str) -> None:
    from celery import Celery

    # A separate app: the test process's own app runs tasks eagerly.
    sender = Celery("sender", broker=redis_url, set_as_current=False)
    sender.conf.task_always_eager = False
    sender.send_task("escalations.tasks.deliver_outbox")
    sender.close()


@pytest.mark.xdist_group("redis")
def test_a_worker_killed_mid_delivery_loses_no_email_and_sends_none_twice(
    postgres_transactional: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    redis_url = live_redis_url("redis://127.0.0.1:6379/14")
    # This process runs tasks eagerly; here only the real worker may deliver.
    monkeypatch.setattr(deadlines, "_queue_delivery", lambda: None)
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    world = build_world()
    _breached_cases(world, 6)
    total = Notification.objects.count()
    assert total == 30
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    log = tmp_path / "worker.log"

    worker = _start_worker(redis_url, mail_dir, log)
    try:
        _send_delivery_task(redis_url)
        deadline = time.monotonic() + 60
        while len(list(mail_dir.glob("*.eml"))) < 5:
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.05)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        sent_before_restart = len(list(mail_dir.glob("*.eml")))
        assert 5 <= sent_before_restart < total

        worker = _start_worker(redis_url, mail_dir, log)
        _send_delivery_task(redis_url)
        deadline = time.monotonic() + 90
        while Notification.objects.filter(email_sent_at__isnull=True).exists():
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
    keys = Counter(path.read_text() for path in mail_dir.glob("*.eml"))
    assert len(keys) == total
    assert max(keys.values()) == 1


@pytest.mark.django_db
def test_when_the_broker_is_down_at_commit_the_notice_waits_in_the_outbox(
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
    mailoutbox: list[Any],
) -> None:
    from kombu.exceptions import OperationalError

    from escalations import tasks

    def broker_down(*args: object, **kwargs: object) -> None:
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.deliver_outbox, "apply_async", broker_down)
    case = difference_at(world, Status.STAGE_2)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.difference_escalate(
            actor=world.a_line_manager, difference_id=case.pk, reason="No agreement."
        )
    assert callbacks  # the delivery was queued on commit, and the broker refused it
    notice = Notification.objects.get(difference=case, kind="reached_stage")
    assert notice.email_sent_at is None
    monkeypatch.undo()
    assert outbox_deliver() == 1  # the periodic delivery after the broker returns
    assert len(mailoutbox) == 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.django_db
def test_an_email_arrives_over_real_smtp(world: World) -> None:
    from aiosmtpd.controller import Controller

    received: list[Any] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(envelope)
            return "250 Message accepted for delivery"

    port = _free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        _breached_cases(world, 1)
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=port,
            EMAIL_USE_TLS=False,
        ):
            assert outbox_deliver() == 5
    finally:
        controller.stop()
    assert len(received) == 5
    text = received[0].content.decode()
    assert "is overdue at Clarification" in text
    assert "AK, ZK" in text and "Amira" not in text
    assert {env.rcpt_tos[0] for env in received} == {
        f"{name}@example.invalid"
        for name in (
            "a_practitioner",
            "a_line_manager",
            "a_safeguarding_lead",
            "b_line_manager",
            "b_safeguarding_lead",
        )
    }


@pytest.mark.django_db
def test_after_the_scheduler_was_down_for_two_hours_the_first_scan_flags_every_breach_once(
    world: World,
) -> None:
    # Clarification: 2 working days. Cases entered every 20 minutes from Mon 09:00 fall due
    # on Wed from 09:00 to 10:40; the scheduler is down from 09:00 to 11:00.
    with time_machine.travel(datetime(2026, 11, 16, 9, 0, tzinfo=LONDON), tick=False) as clock:
        for _ in range(6):
            case = raise_difference(world)
            services.difference_start_clarification(actor=world.raiser, difference_id=case.pk)
            clock.shift(1200)
    assert deadlines_scan(now=datetime(2026, 11, 18, 8, 59, tzinfo=LONDON)).breaches == 0
    first = deadlines_scan(now=datetime(2026, 11, 18, 11, 0, tzinfo=LONDON))
    again = deadlines_scan(now=datetime(2026, 11, 18, 11, 1, tzinfo=LONDON))
    assert (first.breaches, again.breaches) == (6, 0)


@pytest.mark.django_db
def test_a_stage_entered_before_a_weekend_and_a_bank_holiday_breaches_at_the_right_moment(
    world: World,
) -> None:
    # Thu 24 Dec 2026 10:00 + 2 working days: Fri 25 Dec and Mon 28 Dec are bank holidays,
    # so it falls due on Wed 30 Dec at 10:00, not before.
    with time_machine.travel(datetime(2026, 12, 24, 10, 0, tzinfo=LONDON), tick=False):
        case = raise_difference(world)
        services.difference_start_clarification(actor=world.raiser, difference_id=case.pk)
    assert deadlines_scan(now=datetime(2026, 12, 30, 9, 59, tzinfo=LONDON)).breaches == 0
    assert deadlines_scan(now=datetime(2026, 12, 30, 10, 0, tzinfo=LONDON)).breaches == 1


@pytest.mark.django_db
def test_the_urgent_track_breaches_on_hours(world: World) -> None:
    with time_machine.travel(datetime(2026, 11, 16, 9, 0, tzinfo=LONDON), tick=False):
        case = raise_difference(world, is_urgent=True, urgent_manager=world.a_line_manager)
    # Urgent Stage 2: 1 working day → Tue 17 Nov 09:00; its reminder two hours before.
    assert deadlines_scan(now=datetime(2026, 11, 17, 6, 59, tzinfo=LONDON)).reminders == 0
    assert deadlines_scan(now=datetime(2026, 11, 17, 7, 0, tzinfo=LONDON)).reminders == 1
    assert deadlines_scan(now=datetime(2026, 11, 17, 9, 0, tzinfo=LONDON)).breaches == 1
    assert Notification.objects.filter(difference=case, kind="breach").exists()
