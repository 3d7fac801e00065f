"""The deadline scan, reminders, breaches, the outbox and the business manager's notice."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import transaction

from escalations import deadlines, services
from escalations.deadlines import deadlines_scan, outbox_deliver
from escalations.errors import DifferenceRefused
from escalations.models import ClockEvent, Notification, StageEntry
from escalations.states import Status
from tests.conftest import World
from tests.factories.differences import difference_at, raise_difference

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)  # type: ignore[misc]


def stage_1_case(world: World, when: datetime) -> int:
    with time_machine.travel(when, tick=False):
        case = raise_difference(world)
        services.difference_start_clarification(actor=world.raiser, difference_id=case.pk)
        services.difference_begin_stage_1(
            actor=world.raiser, difference_id=case.pk, clarification="Asked."
        )
    return case.pk


def test_a_reminder_goes_to_the_stage_owner_one_working_day_before_the_deadline(
    world: World,
) -> None:
    pk = stage_1_case(world, at(2026, 11, 20, 10, 0))  # due Fri 27 Nov 10:00
    assert deadlines_scan(now=at(2026, 11, 26, 9, 59)).reminders == 0
    result = deadlines_scan(now=at(2026, 11, 26, 10, 0))
    assert (result.reminders, result.breaches) == (1, 0)
    notice = Notification.objects.get(difference_id=pk)
    assert notice.recipient == world.raiser
    assert notice.kind == "reminder"


def test_a_breach_is_recorded_once_and_told_to_the_owner_and_the_tier_above(world: World) -> None:
    pk = stage_1_case(world, at(2026, 11, 20, 10, 0))
    first = deadlines_scan(now=at(2026, 11, 27, 10, 1))
    second = deadlines_scan(now=at(2026, 11, 27, 10, 2))
    assert (first.breaches, second.breaches) == (1, 0)
    assert ClockEvent.objects.filter(stage_entry__difference_id=pk, kind="breach").count() == 1
    told = set(
        Notification.objects.filter(difference_id=pk, kind="breach").values_list(
            "recipient__username", flat=True
        )
    )
    # Stage 1's owner is the raiser; the tier above is line managers and safeguarding leads
    # of every party agency.
    assert told == {
        "a_practitioner",
        "a_line_manager",
        "a_safeguarding_lead",
        "b_line_manager",
        "b_safeguarding_lead",
    }
    case_entry = StageEntry.objects.get(difference_id=pk, left_at__isnull=True)
    assert case_entry.breached_at is not None and case_entry.next_check_at is None


def test_a_missed_reminder_is_not_sent_after_the_deadline_has_passed(world: World) -> None:
    pk = stage_1_case(world, at(2026, 11, 20, 10, 0))
    result = deadlines_scan(now=at(2026, 12, 1, 9, 0))  # the scheduler was down for days
    assert (result.reminders, result.breaches) == (0, 1)
    assert not Notification.objects.filter(difference_id=pk, kind="reminder").exists()


def test_the_unique_constraint_makes_a_second_breach_record_impossible(world: World) -> None:
    pk = stage_1_case(world, at(2026, 11, 20, 10, 0))
    deadlines_scan(now=at(2026, 11, 27, 11, 0))
    entry = StageEntry.objects.get(difference_id=pk, left_at__isnull=True)
    from django.db import IntegrityError

    with pytest.raises(IntegrityError), transaction.atomic():
        ClockEvent.objects.create(stage_entry=entry, kind="breach")


def test_a_breach_never_escalates_the_case_by_itself(world: World) -> None:
    pk = stage_1_case(world, at(2026, 11, 20, 10, 0))
    deadlines_scan(now=at(2026, 12, 20, 10, 0))
    assert services.ProfessionalDifference.objects.get(pk=pk).status == Status.STAGE_1


def test_pausing_and_resuming_moves_the_due_moment_by_the_paused_working_time(
    world: World,
) -> None:
    pk = stage_1_case(world, at(2026, 11, 20, 10, 0))  # due Fri 27 Nov 10:00
    with time_machine.travel(at(2026, 11, 23, 10, 0), tick=False):
        deadlines.stage_clock_pause(
            actor=world.raiser, difference_id=pk, reason="Awaiting the core group."
        )
    assert deadlines_scan(now=at(2026, 11, 27, 12, 0)).breaches == 0  # paused: no breach
    with time_machine.travel(at(2026, 11, 25, 10, 0), tick=False):  # two working days later
        entry = deadlines.stage_clock_resume(actor=world.raiser, difference_id=pk)
    assert entry.due_at == at(2026, 12, 1, 10, 0)
    kinds = list(
        services.ProfessionalDifference.objects.get(pk=pk)
        .entries.filter(kind="clock")
        .values_list("transition", flat=True)
    )
    assert kinds == ["pause_clock", "resume_clock"]


def test_only_the_stage_owner_or_business_manager_may_pause_the_clock(world: World) -> None:
    pk = stage_1_case(world, at(2026, 11, 20, 10, 0))
    with pytest.raises(DifferenceRefused) as refused:
        deadlines.stage_clock_pause(actor=world.b_line_manager, difference_id=pk, reason="x")
    assert refused.value.message == deadlines.CLOCK_NOT_YOURS
    deadlines.stage_clock_pause(actor=world.business_manager, difference_id=pk, reason="x")


def test_an_owner_may_set_a_shorter_due_date_with_a_reason(world: World) -> None:
    pk = stage_1_case(world, at(2026, 11, 20, 10, 0))
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        entry = deadlines.stage_clock_shorten(
            actor=world.raiser,
            difference_id=pk,
            due_at=at(2026, 11, 24, 17, 0),
            reason="The child moves placement on Wednesday.",
        )
        with pytest.raises(DifferenceRefused):
            deadlines.stage_clock_shorten(
                actor=world.raiser, difference_id=pk, due_at=at(2026, 12, 24, 17, 0), reason="x"
            )
    assert entry.due_at == at(2026, 11, 24, 17, 0)
    assert deadlines_scan(now=at(2026, 11, 24, 17, 1)).breaches == 1


def test_the_business_manager_is_told_when_a_case_reaches_the_notification_stage(
    world: World,
) -> None:
    case = difference_at(world, Status.STAGE_2)
    assert not Notification.objects.filter(difference=case, kind="reached_stage").exists()
    services.difference_escalate(
        actor=world.a_line_manager, difference_id=case.pk, reason="No agreement."
    )
    told = Notification.objects.filter(difference=case, kind="reached_stage")
    assert [n.recipient for n in told] == [world.business_manager]


def test_emails_carry_initials_and_the_reference_never_a_childs_name(world: World) -> None:
    pk = stage_1_case(world, at(2026, 11, 20, 10, 0))
    deadlines_scan(now=at(2026, 11, 27, 11, 0))
    assert outbox_deliver() == 5
    assert outbox_deliver() == 0  # each notice is sent once
    assert len(mail.outbox) == 5
    reference = services.ProfessionalDifference.objects.get(pk=pk).reference
    for message in mail.outbox:
        assert reference in message.subject and "Partnership P" in message.subject
        assert "AK, ZK" in message.body
        assert "Amira" not in message.body + message.subject
        assert f"/cases/{pk}/" in message.body


def test_a_failed_email_is_retried_later_and_not_lost(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    stage_1_case(world, at(2026, 11, 20, 10, 0))
    deadlines_scan(now=at(2026, 11, 27, 11, 0))

    def broken(*args: object, **kwargs: object) -> None:
        raise ConnectionRefusedError("SMTP server down")

    monkeypatch.setattr(deadlines, "send_mail", broken)
    assert outbox_deliver() == 0
    waiting = Notification.objects.filter(email_sent_at__isnull=True)
    assert waiting.count() == 5
    assert all(n.email_attempts == 1 and "SMTP" in n.email_last_error for n in waiting)
    monkeypatch.undo()
    assert outbox_deliver() == 0  # not yet: backing off
    with time_machine.travel(datetime.now(tz=LONDON) + timedelta(minutes=2), tick=False):
        assert outbox_deliver() == 5


def test_no_notice_survives_a_transaction_that_rolled_back(world: World) -> None:
    case = difference_at(world, Status.STAGE_2)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.difference_escalate(
            actor=world.a_line_manager, difference_id=case.pk, reason="No agreement."
        )
        raise RuntimeError("something later in the request failed")
    assert not Notification.objects.filter(difference=case).exists()
    assert services.ProfessionalDifference.objects.get(pk=case.pk).status == Status.STAGE_2


def test_the_scan_deadlines_command_runs_one_scan(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    stage_1_case(world, at(2026, 11, 2, 10, 0))  # due 9 Nov, long past
    call_command("scan_deadlines")
    out = capsys.readouterr().out
    assert "Breaches recorded: 1" in out
    call_command("scan_deadlines")
    assert "Breaches recorded: 0" in capsys.readouterr().out
