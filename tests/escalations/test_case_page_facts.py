"""``case_page_facts`` reads the case page's rows with hand-written SQL: it must give exactly
what the ORM gives (the same rows, in the same order, with the same converted values), on
SQLite and on PostgreSQL alike."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agencies.models import ClosureDay
from escalations.clocks import partnership_calendar
from escalations.models import Action, Child, NamedProfessional, Party, StageEntry
from escalations.selectors import case_page_facts, difference_get_for
from escalations.states import Status
from records.models import Entry, EntryKind
from records.services import entry_correct, entry_record
from tests.conftest import World
from tests.factories.differences import difference_at, raise_difference

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")


def _fields(instance: Any) -> dict[str, Any]:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def _rows(instances: list[Any]) -> list[dict[str, Any]]:
    return [_fields(instance) for instance in instances]


def _a_full_case(world: World) -> Any:
    case = difference_at(world, Status.STAGE_2)
    # Entries recorded out of date order, one a day before the case was raised, and a correction.
    late = entry_record(
        actor=world.raiser,
        difference=case,
        kind=EntryKind.MEETING,
        occurred_at=datetime(2026, 3, 4, 14, 5, tzinfo=LONDON),
        facts="Met at the school. 😀 مرحبا",
        opinion="It was not met.",
    )
    entry_record(
        actor=world.raiser,
        difference=case,
        kind=EntryKind.CALL,
        occurred_at=case.raised_at - timedelta(days=1),
        facts="Spoke before raising it.",
    )
    entry_correct(
        actor=world.raiser, difference=case, corrects=late, facts="Met at home.", reason="Typo."
    )
    Child.objects.create(
        difference=case, name="Third Child", date_of_birth=date(2019, 2, 28), address="1 Road"
    )
    Party.objects.get_or_create(difference=case, agency=world.agency_c)
    NamedProfessional.objects.create(difference=case, agency=world.agency_c, name="Second Person")
    Action.objects.create(
        difference=case,
        description="Hold a strategy discussion.",
        owner="B police",
        due_date=date(2026, 12, 1),
        recorded_by=world.raiser,
    )
    Action.objects.create(
        difference=case, description="Share the plan.", owner="A", recorded_by=world.raiser
    )
    earlier = raise_difference(world)
    onward = raise_difference(world)
    earlier.linked_cases.add(case)
    case.linked_cases.add(onward)
    ClosureDay.objects.create(partnership=world.partnership, date=date(2026, 12, 24))
    ClosureDay.objects.create(partnership=world.other_partnership, date=date(2026, 12, 29))
    return case, {earlier.pk, onward.pk}


def test_the_case_page_rows_are_what_the_orm_gives_in_the_same_order(world: World) -> None:
    case, linked = _a_full_case(world)
    difference = difference_get_for(world.raiser, case.pk)

    facts = case_page_facts(difference)

    assert _rows(facts.children) == _rows(list(case.children.all()))
    assert [child.name for child in facts.children][-1] == "Third Child"
    assert _rows(facts.parties) == _rows(list(case.parties.all()))
    assert facts.parties[0].is_raising
    assert [party.agency.name for party in facts.parties] == [
        party.agency.name for party in case.parties.select_related("agency")
    ]
    assert _rows(facts.named_professionals) == _rows(list(case.named_professionals.all()))
    assert [p.agency.name for p in facts.named_professionals] == ["B police", "C school"]
    assert _rows(facts.actions) == _rows(list(case.actions.all()))
    ordered = Entry.objects.filter(difference=case).order_by("occurred_at", "created_at", "pk")
    assert _rows(facts.entries) == _rows(list(ordered))
    assert len(facts.entries) >= 5
    # Values come back as the ORM converts them: aware datetimes, dates, choices as stored.
    assert all(timezone_aware(entry.occurred_at) for entry in facts.entries)
    assert facts.actions[0].due_date == date(2026, 12, 1)
    running = StageEntry.objects.get(difference=case, left_at__isnull=True)
    assert facts.running is not None
    assert _fields(facts.running) == _fields(running)
    assert facts.linked_ids == linked
    assert facts.calendar == partnership_calendar(case.partnership)
    assert date(2026, 12, 24) in facts.calendar.closure_days
    assert date(2026, 12, 29) not in facts.calendar.closure_days
    # Each instance knows its case, as a related manager's would: no query to reach it.
    with CaptureQueriesContext(connection) as captured:
        assert {item.difference.pk for item in facts.children + facts.entries} == {case.pk}
        assert facts.parties[-1].agency.partnership_id == world.partnership.pk
    assert len(captured) == 0


def test_a_case_with_nothing_beyond_itself_reads_empty_lists(world: World) -> None:
    case = difference_at(world, Status.WITHDRAWN)
    Child.objects.filter(difference=case).delete()
    NamedProfessional.objects.filter(difference=case).delete()

    facts = case_page_facts(difference_get_for(world.raiser, case.pk))

    assert facts.children == []
    assert facts.named_professionals == []
    assert facts.actions == []
    assert facts.running is None
    assert facts.linked_ids == set()
    assert facts.calendar.closure_days == frozenset()


def timezone_aware(moment: datetime) -> bool:
    return moment.tzinfo is not None and moment.utcoffset() is not None
