"""Entering a stage starts its clock on the partnership's working calendar."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from agencies.models import ClosureDay, StageTimeframe
from escalations import services
from escalations.models import StageEntry
from tests.conftest import World
from tests.factories.differences import raise_difference

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)  # type: ignore[misc]


def test_stage_1_entered_on_a_friday_falls_due_five_working_days_later(world: World) -> None:
    with time_machine.travel(at(2026, 11, 20, 10, 0), tick=False):
        case = raise_difference(world)
        services.difference_start_clarification(actor=world.raiser, difference_id=case.pk)
        services.difference_begin_stage_1(
            actor=world.raiser, difference_id=case.pk, clarification="Asked."
        )
    clarification, stage_1 = StageEntry.objects.filter(difference=case).order_by("pk")
    assert clarification.left_at is not None
    assert stage_1.left_at is None
    assert stage_1.due_at == at(2026, 11, 27, 10, 0)


def test_christmas_bank_holidays_and_closure_days_do_not_count(world: World) -> None:
    ClosureDay.objects.create(partnership=world.partnership, date=datetime(2026, 12, 24).date())
    with time_machine.travel(at(2026, 12, 22, 9, 30), tick=False):
        case = raise_difference(world)
        services.difference_start_clarification(actor=world.raiser, difference_id=case.pk)
    entry = StageEntry.objects.get(difference=case)
    # Tue 22 Dec + 2 working days: Wed 23, (Thu 24 closed, Fri 25 and Mon 28 bank holidays)
    # then Tue 29 Dec.
    assert entry.due_at == at(2026, 12, 29, 9, 30)


def test_the_urgent_track_uses_the_urgent_timeframes(world: World) -> None:
    with time_machine.travel(at(2026, 11, 19, 15, 0), tick=False):
        case = raise_difference(world, is_urgent=True, urgent_manager=world.a_line_manager)
    entry = StageEntry.objects.get(difference=case)
    assert (entry.stage, entry.track) == ("stage_2", "urgent")
    assert entry.due_at == at(2026, 11, 20, 15, 0)


def test_a_partnerships_own_timeframe_applies_to_stages_entered_after_it_changes(
    world: World,
) -> None:
    StageTimeframe.objects.filter(
        partnership=world.partnership, stage="clarification", track="standard"
    ).update(value=12, unit="hours")
    with time_machine.travel(at(2026, 11, 20, 10, 0), tick=False):
        case = raise_difference(world)
        services.difference_start_clarification(actor=world.raiser, difference_id=case.pk)
    assert StageEntry.objects.get(difference=case).due_at == at(2026, 11, 20, 22, 0)
