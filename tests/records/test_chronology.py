"""The chronology: append-only everywhere, enforced by the database on PostgreSQL; entries
recorded by the parties, and corrections as new entries."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction
from django.db.utils import InternalError, ProgrammingError

from escalations import errors, services
from escalations.errors import DifferenceRefused
from escalations.models import ProfessionalDifference
from escalations.states import Status
from records.models import Entry, EntryIsAppendOnly, EntryKind
from records.services import entry_correct, entry_record
from tests.conftest import World, build_world
from tests.escalations import oracle
from tests.factories.differences import difference_at, raise_difference

# Every state a case can be recorded on: (state, the stage a partial outcome was recorded at).
STAGES_AND_OUTCOMES = [
    (Status.IDENTIFIED, None),
    (Status.CLARIFICATION, None),
    (Status.STAGE_1, None),
    (Status.STAGE_2, None),
    (Status.STAGE_3, None),
    (Status.STAGE_4, None),
    (Status.FINAL_REFERRAL, None),
    (Status.PARTIALLY_RESOLVED, Status.STAGE_3),
    (Status.LEARNING_REVIEW, None),
]


def _snapshot(entry: Entry) -> dict[str, Any]:
    """Every column of the entry as the database holds it."""
    return Entry.objects.filter(pk=entry.pk).values().get()


# -- PostgreSQL: the trigger -----------------------------------------------------------------


def _refused_by_the_database(run: Any) -> BaseException:
    """Run ``run`` in a savepoint; return what the database raised."""
    with pytest.raises((InternalError, ProgrammingError)) as raised, transaction.atomic():
        run()
    return raised.value


def test_the_database_refuses_to_update_an_entry_through_the_orm(postgres: None) -> None:
    case = raise_difference(build_world())
    entry = Entry.objects.get(difference=case)
    before = _snapshot(entry)

    error = _refused_by_the_database(
        lambda: Entry.objects.filter(pk=entry.pk).update(facts="Rewritten history.")
    )

    # The trigger raises SQLSTATE 42501 (insufficient_privilege): a ProgrammingError.
    assert isinstance(error, ProgrammingError)
    assert "append-only" in str(error)
    assert _snapshot(entry) == before


def test_the_database_refuses_to_update_an_entry_through_raw_sql(postgres: None) -> None:
    case = raise_difference(build_world())
    entry = Entry.objects.get(difference=case)
    before = _snapshot(entry)

    def update() -> None:
        with connection.cursor() as cursor:
            cursor.execute("UPDATE records_entry SET facts='x' WHERE id=%s", [entry.pk])

    error = _refused_by_the_database(update)

    assert isinstance(error, ProgrammingError)
    assert "UPDATE refused on records_entry" in str(error)
    assert _snapshot(entry) == before


def test_the_database_refuses_to_delete_an_entry_through_the_orm_or_raw_sql(
    postgres: None,
) -> None:
    case = raise_difference(build_world())
    entry = Entry.objects.get(difference=case)
    before = _snapshot(entry)

    def delete_by_queryset() -> None:
        Entry.objects.filter(pk=entry.pk).delete()

    def delete_by_sql() -> None:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM records_entry WHERE id=%s", [entry.pk])

    for delete in (delete_by_queryset, delete_by_sql):
        error = _refused_by_the_database(delete)
        assert isinstance(error, ProgrammingError)
        assert "DELETE refused on records_entry" in str(error)
        assert _snapshot(entry) == before


def test_the_retention_purge_may_delete_an_entry_in_its_own_transaction_only(
    postgres_transactional: None,
) -> None:
    world = build_world()
    case = difference_at(world, Status.CLARIFICATION)
    first, second = Entry.objects.filter(difference=case).order_by("pk")
    assert not first.corrections.exists()

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL records.allow_purge = 'on'")
        deleted, _ = Entry.objects.filter(pk=first.pk).delete()

    assert deleted == 1
    assert not Entry.objects.filter(pk=first.pk).exists()
    # The permission ended with that transaction.
    with pytest.raises(ProgrammingError), transaction.atomic():
        Entry.objects.filter(pk=second.pk).delete()
    assert Entry.objects.filter(pk=second.pk).exists()


# -- any database: the model's own guard -----------------------------------------------------


def test_saving_an_existing_entry_again_is_refused(world: World) -> None:
    case = raise_difference(world)
    entry = Entry.objects.get(difference=case)
    before = _snapshot(entry)

    entry.facts = "Rewritten history."
    with pytest.raises(EntryIsAppendOnly):
        entry.save()

    assert _snapshot(entry) == before


def test_deleting_an_entry_is_refused(world: World) -> None:
    case = raise_difference(world)
    entry = Entry.objects.get(difference=case)

    with pytest.raises(EntryIsAppendOnly):
        entry.delete()

    assert Entry.objects.filter(pk=entry.pk).exists()


def test_saving_a_new_entry_object_with_an_existing_entrys_id_is_refused(world: World) -> None:
    case = raise_difference(world)
    entry = Entry.objects.get(difference=case)
    before = _snapshot(entry)

    impostor = Entry(
        pk=entry.pk,
        difference=case,
        kind=EntryKind.DISCUSSION,
        status=Status.IDENTIFIED,
        facts="Rewritten history.",
        author_name="Someone",
    )
    with pytest.raises(EntryIsAppendOnly):
        impostor.save()

    assert _snapshot(entry) == before


# -- recording -------------------------------------------------------------------------------


def test_a_discussion_is_recorded_with_facts_and_opinion_kept_apart(world: World) -> None:
    case = difference_at(world, Status.STAGE_1)

    entry = entry_record(
        actor=world.b_named,
        difference=case,
        kind=EntryKind.DISCUSSION,
        method="Telephone",
        participants="A practitioner, B practitioner",
        facts="  The strategy discussion did not take place.  ",
        opinion="  A strategy discussion was needed.  ",
    )

    stored = Entry.objects.get(pk=entry.pk)
    assert stored.kind == EntryKind.DISCUSSION
    assert stored.facts == "The strategy discussion did not take place."
    assert stored.opinion == "A strategy discussion was needed."
    assert stored.outcome == ""
    assert stored.status == Status.STAGE_1
    assert stored.author == world.b_named
    assert stored.author_agency_name == world.agency_b.name
    assert stored.transition == "" and stored.from_status == "" and stored.to_status == ""


@pytest.mark.parametrize(
    "content",
    [{}, {"facts": "   ", "opinion": "\n", "outcome": "\t"}],
    ids=["nothing", "only-whitespace"],
)
def test_an_entry_with_nothing_in_it_is_refused(world: World, content: dict[str, str]) -> None:
    case = difference_at(world, Status.STAGE_1)
    count = Entry.objects.filter(difference=case).count()

    with pytest.raises(DifferenceRefused) as refused:
        entry_record(actor=world.raiser, difference=case, kind=EntryKind.DISCUSSION, **content)

    assert refused.value.message == errors.ENTRY_NEEDS_CONTENT
    assert Entry.objects.filter(difference=case).count() == count


@pytest.mark.parametrize(
    "persona",
    [p for p in oracle.PERSONAS if not oracle.may_see(p, Status.STAGE_1)],
)
def test_someone_who_cannot_see_the_case_cannot_record_on_it(world: World, persona: str) -> None:
    case = difference_at(world, Status.STAGE_1)
    count = Entry.objects.filter(difference=case).count()

    with pytest.raises(DifferenceRefused) as refused:
        entry_record(
            actor=world.people[persona],
            difference=case,
            kind=EntryKind.DISCUSSION,
            facts="I was not there.",
        )

    assert refused.value.message == errors.NOT_A_PARTY
    assert Entry.objects.filter(difference=case).count() == count


def test_nothing_more_can_be_recorded_on_a_closed_case(world: World) -> None:
    case = difference_at(world, Status.CLOSED)
    count = Entry.objects.filter(difference=case).count()

    for persona in ("raiser", "business_manager"):
        with pytest.raises(DifferenceRefused) as refused:
            entry_record(
                actor=world.people[persona],
                difference=case,
                kind=EntryKind.REFLECTIVE_PRACTICE_MEETING,
                facts="We met again.",
            )
        assert refused.value.message == errors.CASE_CLOSED

    assert Entry.objects.filter(difference=case).count() == count


def test_nothing_can_be_recorded_on_a_case_closed_since_it_was_read(world: World) -> None:
    case = difference_at(world, Status.LEARNING_REVIEW)
    read_before_closing = ProfessionalDifference.objects.get(pk=case.pk)
    services.difference_close(
        actor=world.business_manager,
        difference_id=case.pk,
        learning="Share referral outcomes the same day.",
        protocol_amendment_recommended=False,
    )
    count = Entry.objects.filter(difference=case).count()

    with pytest.raises(DifferenceRefused) as refused:
        entry_record(
            actor=world.raiser,
            difference=read_before_closing,
            kind=EntryKind.REFLECTIVE_PRACTICE_MEETING,
            facts="We met again.",
        )

    assert refused.value.message == errors.CASE_CLOSED
    assert Entry.objects.filter(difference=case).count() == count


@pytest.mark.parametrize(
    ("state", "partial_at"),
    STAGES_AND_OUTCOMES,
    ids=[s if p is None else f"{s}@{p}" for s, p in STAGES_AND_OUTCOMES],
)
def test_any_party_can_record_a_reflective_practice_meeting_at_any_stage(
    world: World, state: str, partial_at: str | None
) -> None:
    case = difference_at(world, state, partial_at=partial_at)
    case = ProfessionalDifference.objects.get(pk=case.pk)
    parties = [p for p in oracle.PERSONAS if oracle.may_see(p, case.highest_stage)]
    assert "raiser" in parties and "b_practitioner" in parties

    for persona in parties:
        entry = entry_record(
            actor=world.people[persona],
            difference=case,
            kind=EntryKind.REFLECTIVE_PRACTICE_MEETING,
            participants="Both agencies",
            facts=f"A reflective practice meeting was held ({persona}).",
        )
        assert entry.kind == EntryKind.REFLECTIVE_PRACTICE_MEETING
        assert entry.status == case.status

    assert Entry.objects.filter(
        difference=case, kind=EntryKind.REFLECTIVE_PRACTICE_MEETING
    ).count() == len(parties)


# -- corrections -----------------------------------------------------------------------------


def test_a_correction_is_a_new_entry_pointing_at_the_one_it_corrects(world: World) -> None:
    case = difference_at(world, Status.STAGE_1)
    original = entry_record(
        actor=world.raiser,
        difference=case,
        kind=EntryKind.CALL,
        facts="Spoke to B on Monday.",
        opinion="B agreed to reconsider.",
    )
    before = _snapshot(original)

    correction = entry_correct(
        actor=world.raiser,
        difference=case,
        corrects=original,
        facts="Spoke to B on Tuesday.",
        reason="Wrong day recorded.",
    )

    assert correction.pk != original.pk
    stored = Entry.objects.get(pk=correction.pk)
    assert stored.kind == EntryKind.CORRECTION
    assert stored.corrects_id == original.pk
    assert stored.facts == "Spoke to B on Tuesday."
    assert stored.reason == "Wrong day recorded."
    assert stored.difference_id == case.pk
    assert list(original.corrections.all()) == [stored]
    assert _snapshot(original) == before


def test_a_correction_must_refer_to_an_entry_on_the_same_case(world: World) -> None:
    case = difference_at(world, Status.STAGE_1)
    other_case = difference_at(world, Status.STAGE_1)
    elsewhere = Entry.objects.filter(difference=other_case).first()
    assert elsewhere is not None
    count = Entry.objects.count()

    with pytest.raises(DifferenceRefused) as refused:
        entry_correct(
            actor=world.raiser,
            difference=case,
            corrects=elsewhere,
            facts="Corrected.",
            reason="Mistake.",
        )

    assert refused.value.message == errors.CORRECTION_OTHER_CASE
    assert Entry.objects.count() == count


def test_a_correction_without_a_reason_is_refused(world: World) -> None:
    case = difference_at(world, Status.STAGE_1)
    original = Entry.objects.filter(difference=case).first()
    assert original is not None

    with pytest.raises(DifferenceRefused) as refused:
        entry_correct(
            actor=world.raiser, difference=case, corrects=original, facts="New.", reason=" "
        )

    assert refused.value.message == errors.REASON_REQUIRED
    assert not original.corrections.exists()
