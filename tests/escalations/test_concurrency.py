"""Many people pressing buttons on one case at once (PostgreSQL: real row locks, real commits).

Each use case locks the case's row before it checks and moves it, so conflicting transitions
fired together are serialised: one wins, every other caller gets a clean refusal, and the
chronology records the winning edge exactly once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from escalations import services
from escalations.errors import DifferenceRefused
from escalations.models import ProfessionalDifference, StageEntry
from escalations.states import Status
from records.models import Entry, EntryKind
from tests.conftest import build_world
from tests.factories.differences import difference_at

pytestmark = pytest.mark.postgres

THREADS = 20


def _transition_edges(pk: int) -> list[tuple[str, str]]:
    return list(
        Entry.objects.filter(difference_id=pk, kind=EntryKind.TRANSITION)
        .order_by("pk")
        .values_list("from_status", "to_status")
    )


def _fire_together(calls: list[Callable[[], Any]]) -> tuple[list[int], list[BaseException]]:
    """Run every call in its own thread, all released at once; return the indexes of the
    calls that returned and the exceptions the others raised."""
    barrier = threading.Barrier(len(calls))
    succeeded: list[int] = []
    raised: list[BaseException] = []
    lock = threading.Lock()

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=30)
            call()
        except BaseException as error:  # every failure is collected and its type asserted
            with lock:
                raised.append(error)
        else:
            with lock:
                succeeded.append(index)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return succeeded, raised


def _user(world: Any, persona: str) -> Any:
    """A user object of the thread's own (roles are cached on the object)."""
    return get_user_model().objects.get(pk=world.people[persona].pk)


def test_twenty_conflicting_transitions_at_once_leave_exactly_one_winner(
    postgres_transactional: None,
) -> None:
    world = build_world()
    case = difference_at(world, Status.STAGE_2)
    pk = case.pk
    edges_before = _transition_edges(pk)
    entries_before = Entry.objects.filter(difference_id=pk).count()

    escalators = ["a_line_manager", "a_safeguarding_lead", "b_line_manager", "b_safeguarding_lead"]
    resolvers = ["a_line_manager", "a_safeguarding_lead"]
    plan: list[tuple[str, str]] = [
        ("escalate", escalators[i % len(escalators)]) for i in range(THREADS // 2)
    ] + [("resolve", resolvers[i % len(resolvers)]) for i in range(THREADS - THREADS // 2)]

    def call_for(kind: str, persona: str) -> Callable[[], Any]:
        def call() -> Any:
            actor = _user(world, persona)
            if kind == "escalate":
                return services.difference_escalate(
                    actor=actor, difference_id=pk, reason="No agreement.", oversight_note="Seen."
                )
            return services.difference_record_outcome(
                actor=actor, difference_id=pk, outcome=Status.RESOLVED, summary="Agreed."
            )

        return call

    succeeded, raised = _fire_together([call_for(kind, persona) for kind, persona in plan])

    assert len(succeeded) == 1
    assert [type(error) for error in raised] == [DifferenceRefused] * (THREADS - 1)
    winner_kind, _ = plan[succeeded[0]]
    case = ProfessionalDifference.objects.get(pk=pk)
    if winner_kind == "escalate":
        new_edges = [(Status.STAGE_2, Status.STAGE_3)]
        assert case.status == Status.STAGE_3
        assert StageEntry.objects.filter(difference_id=pk, left_at__isnull=True).count() == 1
    else:
        new_edges = [
            (Status.STAGE_2, Status.RESOLVED),
            (Status.RESOLVED, Status.LEARNING_REVIEW),
        ]
        assert case.status == Status.LEARNING_REVIEW
        assert StageEntry.objects.filter(difference_id=pk, left_at__isnull=True).count() == 0
    assert _transition_edges(pk) == edges_before + new_edges
    assert Entry.objects.filter(difference_id=pk).count() == entries_before + len(new_edges)


def test_twenty_people_escalating_the_same_case_at_once_escalate_it_once(
    postgres_transactional: None,
) -> None:
    world = build_world()
    case = difference_at(world, Status.STAGE_2)
    pk = case.pk
    edges_before = _transition_edges(pk)
    escalators = ["a_line_manager", "a_safeguarding_lead", "b_line_manager", "b_safeguarding_lead"]

    def call_for(persona: str) -> Callable[[], Any]:
        def call() -> Any:
            return services.difference_escalate(
                actor=_user(world, persona),
                difference_id=pk,
                reason="No agreement.",
                escalated_to="Senior managers",
            )

        return call

    succeeded, raised = _fire_together(
        [call_for(escalators[i % len(escalators)]) for i in range(THREADS)]
    )

    assert len(succeeded) == 1
    assert [type(error) for error in raised] == [DifferenceRefused] * (THREADS - 1)
    case = ProfessionalDifference.objects.get(pk=pk)
    assert case.status == Status.STAGE_3
    assert case.escalated_to.splitlines().count("Senior managers") == 1
    assert _transition_edges(pk) == [*edges_before, (Status.STAGE_2, Status.STAGE_3)]
    assert StageEntry.objects.filter(difference_id=pk, stage=Status.STAGE_3).count() == 1
    assert StageEntry.objects.filter(difference_id=pk, left_at__isnull=True).count() == 1
