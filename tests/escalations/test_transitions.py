"""Every transition of spec §3 from every state, for every persona."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from django_fsm import has_transition_perm

from escalations import services
from escalations.errors import DifferenceRefused
from escalations.models import ProfessionalDifference
from escalations.states import Status
from records.models import Entry
from tests.conftest import World
from tests.escalations import oracle
from tests.factories.differences import DifferenceFactory, difference_at

pytestmark = pytest.mark.django_db

TRANSITIONS = [
    "start_clarification",
    "open_urgent_track",
    "withdraw",
    "begin_stage_1",
    "escalate_to_stage_2",
    "escalate_to_stage_3",
    "escalate_to_stage_4",
    "refer_to_final_body",
    "resolve",
    "resolve_partially",
    "record_not_resolved",
    "begin_learning_review",
    "accept_partial_outcome",
    "end_partial_final_referral",
    "close",
]

# (status, stage) pairs: every state, and partial outcomes at every stage.
STATES = [
    ("identified", "identified"),
    ("clarification", "clarification"),
    ("stage_1", "stage_1"),
    ("stage_2", "stage_2"),
    ("stage_3", "stage_3"),
    ("stage_4", "stage_4"),
    ("final_referral", "final_referral"),
    ("partially_resolved", "stage_1"),
    ("partially_resolved", "stage_2"),
    ("partially_resolved", "stage_3"),
    ("partially_resolved", "stage_4"),
    ("partially_resolved", "final_referral"),
    ("resolved", "stage_2"),
    ("not_resolved", "final_referral"),
    ("withdrawn", "clarification"),
    ("learning_review", "stage_3"),
    ("closed", "stage_2"),
]


def test_the_model_has_exactly_the_transitions_the_tests_cover() -> None:
    names = {
        t.name
        for t in ProfessionalDifference._meta.get_field("status").get_all_transitions(  # type: ignore[union-attr]
            ProfessionalDifference
        )
    }
    assert names == set(TRANSITIONS)


@pytest.mark.parametrize(("status", "stage"), STATES, ids=[f"{s}@{g}" for s, g in STATES])
def test_each_transition_is_allowed_for_exactly_the_right_people_in_each_state(
    world: World, status: str, stage: str
) -> None:
    case = DifferenceFactory(
        raised_by=world.raiser,
        raiser_agency=world.agency_a,
        status=status,
        stage=stage,
        highest_stage=stage,
        other_agencies=[world.agency_b],
    )
    mismatches = []
    for method, persona in itertools.product(TRANSITIONS, oracle.PERSONAS):
        user = world.people[persona]
        fresh = ProfessionalDifference.objects.get(pk=case.pk)
        actual = has_transition_perm(getattr(fresh, method), user)
        expected = persona in oracle.allowed(method, status, stage)
        if actual != expected:
            mismatches.append((method, persona, expected, actual))
    assert mismatches == []


def test_the_urgent_track_is_the_raisers_on_an_urgent_case_only(world: World) -> None:
    case = DifferenceFactory(
        raised_by=world.raiser,
        raiser_agency=world.agency_a,
        is_urgent=True,
        urgent_manager=world.a_line_manager,
        other_agencies=[world.agency_b],
    )
    allowed = {
        p for p in oracle.PERSONAS if has_transition_perm(case.open_urgent_track, world.people[p])
    }
    assert allowed == {"raiser"}


# -- through the services: one allowed and one refused person for each legal edge ----------

# (case state, partial_at, service call, the persona allowed, a persona refused, new status)
EDGES: list[tuple[str, str | None, str, str, str, str]] = [
    ("identified", None, "start_clarification", "raiser", "a_line_manager", "clarification"),
    ("clarification", None, "withdraw", "raiser", "b_practitioner", "learning_review"),
    ("clarification", None, "begin_stage_1", "raiser", "business_manager", "stage_1"),
    ("stage_1", None, "escalate", "raiser", "a_line_manager", "stage_2"),
    ("stage_2", None, "escalate", "b_safeguarding_lead", "raiser", "stage_3"),
    ("stage_3", None, "escalate", "b_senior_manager", "a_line_manager", "stage_4"),
    ("stage_4", None, "escalate", "business_manager", "a_senior_manager", "final_referral"),
    ("stage_1", None, "resolve", "raiser", "b_practitioner", "learning_review"),
    ("stage_2", None, "resolve", "a_safeguarding_lead", "b_line_manager", "learning_review"),
    (
        "stage_3",
        None,
        "resolve_partially",
        "a_senior_manager",
        "b_senior_manager",
        "partially_resolved",
    ),
    ("stage_4", None, "resolve", "raiser", "b_director", "learning_review"),
    ("final_referral", None, "resolve", "final_body_member", "a_director", "learning_review"),
    ("final_referral", None, "not_resolved", "business_manager", "raiser", "learning_review"),
    (
        "final_referral",
        None,
        "resolve_partially",
        "final_body_member",
        "b_director",
        "learning_review",
    ),
    ("partially_resolved", "stage_2", "escalate", "a_line_manager", "raiser", "stage_3"),
    (
        "partially_resolved",
        "stage_1",
        "accept_partial",
        "raiser",
        "a_line_manager",
        "learning_review",
    ),
    ("learning_review", None, "close", "business_manager", "raiser", "closed"),
]


def _call(call: str, actor: Any, pk: int) -> ProfessionalDifference:
    if call == "start_clarification":
        return services.difference_start_clarification(actor=actor, difference_id=pk)
    if call == "withdraw":
        return services.difference_withdraw(actor=actor, difference_id=pk, reason="In hand.")
    if call == "begin_stage_1":
        return services.difference_begin_stage_1(
            actor=actor, difference_id=pk, clarification="Asked."
        )
    if call == "escalate":
        return services.difference_escalate(actor=actor, difference_id=pk, reason="Stuck.")
    if call in ("resolve", "resolve_partially", "not_resolved"):
        outcome = {"resolve": "resolved", "resolve_partially": "partially_resolved"}.get(
            call, "not_resolved"
        )
        return services.difference_record_outcome(
            actor=actor, difference_id=pk, outcome=outcome, summary="Agreed."
        )
    if call == "accept_partial":
        return services.difference_accept_partial_outcome(
            actor=actor, difference_id=pk, reason="We accept it."
        )
    assert call == "close"
    return services.difference_close(
        actor=actor, difference_id=pk, learning="Learned.", protocol_amendment_recommended=False
    )


@pytest.mark.parametrize(
    ("state", "partial_at", "call", "allowed", "refused", "new_status"),
    EDGES,
    ids=[f"{e[2]}-from-{e[0]}{'@' + e[1] if e[1] else ''}" for e in EDGES],
)
def test_a_service_moves_the_case_for_the_right_person_and_refuses_another(
    world: World,
    state: str,
    partial_at: str | None,
    call: str,
    allowed: str,
    refused: str,
    new_status: str,
) -> None:
    case = difference_at(world, state, partial_at=partial_at)
    entries_before = Entry.objects.filter(difference=case).count()

    with pytest.raises(DifferenceRefused):
        _call(call, world.people[refused], case.pk)
    assert ProfessionalDifference.objects.get(pk=case.pk).status == state
    assert Entry.objects.filter(difference=case).count() == entries_before

    moved = _call(call, world.people[allowed], case.pk)
    assert moved.status == new_status
    assert ProfessionalDifference.objects.get(pk=case.pk).status == new_status
    assert Entry.objects.filter(difference=case).count() > entries_before


TERMINAL_CALLS = ["start_clarification", "withdraw", "begin_stage_1", "escalate", "resolve"]


@pytest.mark.parametrize("call", TERMINAL_CALLS)
def test_a_closed_case_is_never_reopened(world: World, call: str) -> None:
    case = difference_at(world, Status.CLOSED)
    for persona in oracle.PERSONAS:
        with pytest.raises(DifferenceRefused):
            _call(call, world.people[persona], case.pk)
    assert ProfessionalDifference.objects.get(pk=case.pk).status == Status.CLOSED


def test_a_refusal_from_the_wrong_state_says_what_state_the_case_is_in(world: World) -> None:
    case = difference_at(world, Status.STAGE_1)
    with pytest.raises(DifferenceRefused) as refused:
        services.difference_begin_stage_1(
            actor=world.raiser, difference_id=case.pk, clarification="Again."
        )
    assert "stage 1" in refused.value.message.lower()
    assert "refresh the page" in refused.value.message.lower()


def test_escalating_without_a_reason_is_refused_and_changes_nothing(world: World) -> None:
    case = difference_at(world, Status.STAGE_1)
    with pytest.raises(DifferenceRefused) as refused:
        services.difference_escalate(actor=world.raiser, difference_id=case.pk, reason="  ")
    assert refused.value.field == "reason"
    assert ProfessionalDifference.objects.get(pk=case.pk).status == Status.STAGE_1
