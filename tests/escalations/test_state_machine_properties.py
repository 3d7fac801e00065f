"""Random walks through spec §3's state machine, checked step by step against the oracle.

A hypothesis ``RuleBasedStateMachine`` raises cases and lets random people try random use
cases on them. It keeps its own model of every case (status, stage, highest stage, the edges
taken) written from the spec, and after every step checks the app against that model and
against ``tests.escalations.oracle``: who may take each edge (§3) and who may see the case
(§5). Each hypothesis example runs in a transaction that is rolled back at its end.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from guardian.models import GroupObjectPermission, UserObjectPermission
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from escalations import services
from escalations.errors import DifferenceRefused
from escalations.models import (
    DifferenceGroupObjectPermission,
    DifferenceUserObjectPermission,
    ProfessionalDifference,
)
from escalations.selectors import differences_visible_to
from records.models import Entry, EntryKind
from tests.conftest import build_world
from tests.escalations import oracle
from tests.factories.differences import raise_difference

# -- spec §3, written out for this test ------------------------------------------------------

IDENTIFIED, CLARIFICATION = "identified", "clarification"
S1, S2, S3, S4, FR = "stage_1", "stage_2", "stage_3", "stage_4", "final_referral"
RESOLVED, PARTIAL, NOT_RESOLVED = "resolved", "partially_resolved", "not_resolved"
WITHDRAWN, LEARNING_REVIEW, CLOSED = "withdrawn", "learning_review", "closed"

RANK = {IDENTIFIED: 0, CLARIFICATION: 1, S1: 2, S2: 3, S3: 4, S4: 5, FR: 6}
NEXT = {S1: S2, S2: S3, S3: S4, S4: FR}
ESCALATION_METHOD = {
    S1: "escalate_to_stage_2",
    S2: "escalate_to_stage_3",
    S3: "escalate_to_stage_4",
    S4: "refer_to_final_body",
}
OUTCOME_METHOD = {
    RESOLVED: "resolve",
    PARTIAL: "resolve_partially",
    NOT_RESOLVED: "record_not_resolved",
}

# Every (from_status, to_status) a case may ever take, from spec §3's table.
LEGAL_EDGES: frozenset[tuple[str, str]] = frozenset(
    {
        ("", IDENTIFIED),  # create → identified
        (IDENTIFIED, CLARIFICATION),
        (IDENTIFIED, S2),  # the urgent track
        (CLARIFICATION, WITHDRAWN),
        (CLARIFICATION, S1),
        (S1, S2),
        (S2, S3),
        (S3, S4),
        (S4, FR),
        *((stage, outcome) for stage in (S1, S2, S3, S4, FR) for outcome in (RESOLVED, PARTIAL)),
        (FR, NOT_RESOLVED),
        *((PARTIAL, stage) for stage in (S2, S3, S4, FR)),  # partially resolved → next stage
        (RESOLVED, LEARNING_REVIEW),  # automatic on outcome
        (NOT_RESOLVED, LEARNING_REVIEW),  # automatic on outcome
        (WITHDRAWN, LEARNING_REVIEW),  # automatic on outcome
        (PARTIAL, LEARNING_REVIEW),  # accepted, or automatic after final referral
        (LEARNING_REVIEW, CLOSED),
    }
)

# Few cases per walk, so that most steps move one along.
MAX_CASES = 3

# The use cases a person can try: (service, outcome for record_outcome).
# (Moving on comes first: hypothesis leans towards the start of a list.)
USE_CASES: tuple[tuple[str, str], ...] = (
    ("start_clarification", ""),
    ("begin_stage_1", ""),
    ("escalate", ""),
    ("record_outcome", PARTIAL),
    ("record_outcome", RESOLVED),
    ("record_outcome", NOT_RESOLVED),
    ("accept_partial_outcome", ""),
    ("withdraw", ""),
    ("close", ""),
)


@dataclass
class CaseModel:
    """What the spec says a case is, kept by the test alone."""

    pk: int
    urgent: bool
    status: str
    stage: str
    highest_stage: str
    edges: list[tuple[str, str]] = field(default_factory=list)

    def enter(self, stage: str) -> None:
        self.stage = stage
        if RANK[stage] > RANK[self.highest_stage]:
            self.highest_stage = stage


def oracle_method(model: CaseModel, use_case: str, outcome: str) -> str | None:
    """The transition the service would run for ``use_case`` on the case as it stands."""
    if use_case == "escalate":
        return ESCALATION_METHOD.get(model.stage)
    if use_case == "record_outcome":
        return OUTCOME_METHOD[outcome]
    return use_case


def expected_edges(model: CaseModel, use_case: str, outcome: str) -> list[tuple[str, str]]:
    """The edges a successful call takes from the model's state, automatic ones included."""
    status, stage = model.status, model.stage
    if use_case == "start_clarification":
        return [(status, CLARIFICATION)]
    if use_case == "withdraw":
        return [(status, WITHDRAWN), (WITHDRAWN, LEARNING_REVIEW)]
    if use_case == "begin_stage_1":
        return [(status, S1)]
    if use_case == "escalate":
        return [(status, NEXT[stage])]
    if use_case == "record_outcome":
        if outcome == PARTIAL and stage != FR:
            return [(status, PARTIAL)]
        return [(status, outcome), (outcome, LEARNING_REVIEW)]
    if use_case == "accept_partial_outcome":
        return [(status, LEARNING_REVIEW)]
    assert use_case == "close"
    return [(status, CLOSED)]


def call_service(use_case: str, outcome: str, actor: Any, pk: int) -> Any:
    if use_case == "start_clarification":
        return services.difference_start_clarification(actor=actor, difference_id=pk)
    if use_case == "withdraw":
        return services.difference_withdraw(
            actor=actor, difference_id=pk, reason="Action is already in hand."
        )
    if use_case == "begin_stage_1":
        return services.difference_begin_stage_1(
            actor=actor, difference_id=pk, clarification="Consulted my safeguarding lead."
        )
    if use_case == "escalate":
        return services.difference_escalate(
            actor=actor,
            difference_id=pk,
            reason="This stage did not resolve it.",
            oversight_note="Reviewed the case.",
        )
    if use_case == "record_outcome":
        return services.difference_record_outcome(
            actor=actor, difference_id=pk, outcome=outcome, summary="Agreed a way forward."
        )
    if use_case == "accept_partial_outcome":
        return services.difference_accept_partial_outcome(
            actor=actor, difference_id=pk, reason="We will escalate no further."
        )
    assert use_case == "close"
    return services.difference_close(
        actor=actor,
        difference_id=pk,
        learning="Share referral outcomes the same day.",
        protocol_amendment_recommended=False,
    )


def transition_edges(pk: int) -> list[tuple[str, str]]:
    return list(
        Entry.objects.filter(difference_id=pk, kind=EntryKind.TRANSITION)
        .order_by("pk")
        .values_list("from_status", "to_status")
    )


def permission_rows() -> tuple[frozenset[tuple[Any, ...]], ...]:
    """Every object permission row, in the app's direct tables and guardian's generic ones."""
    return (
        frozenset(
            DifferenceUserObjectPermission.objects.values_list(
                "content_object_id", "user_id", "permission_id"
            )
        ),
        frozenset(
            DifferenceGroupObjectPermission.objects.values_list(
                "content_object_id", "group_id", "permission_id"
            )
        ),
        frozenset(
            UserObjectPermission.objects.values_list("object_pk", "user_id", "permission_id")
        ),
        frozenset(
            GroupObjectPermission.objects.values_list("object_pk", "group_id", "permission_id")
        ),
    )


class DifferenceMachine(RuleBasedStateMachine):
    cases = Bundle("cases")

    def __init__(self) -> None:
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        try:
            self.world = build_world()
        except BaseException:
            self.teardown()
            raise
        self.models: dict[int, CaseModel] = {}
        self.users = list(get_user_model().objects.order_by("pk"))
        self._visibility_checked_for: Any = None

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # -- rules ---------------------------------------------------------------------------

    @precondition(lambda self: len(self.models) < MAX_CASES)
    @rule(target=cases, urgent=st.booleans())
    def the_raiser_raises_a_case(self, urgent: bool) -> int:
        extra = {"is_urgent": True, "urgent_manager": self.world.a_line_manager} if urgent else {}
        case = raise_difference(self.world, **extra)
        model = CaseModel(
            pk=case.pk, urgent=urgent, status=IDENTIFIED, stage=IDENTIFIED, highest_stage=IDENTIFIED
        )
        model.edges.append(("", IDENTIFIED))
        if urgent:
            model.edges.append((IDENTIFIED, S2))
            model.status = S2
            model.enter(S2)
        self.models[case.pk] = model
        self._check_case_matches_model(model)
        return case.pk

    @rule(
        pk=cases,
        persona=st.sampled_from(oracle.PERSONAS),
        use_case=st.sampled_from(USE_CASES),
    )
    def someone_tries_a_use_case(self, pk: int, persona: str, use_case: tuple[str, str]) -> None:
        """Everyone tries it (each in a savepoint rolled back): exactly the people the oracle
        names succeed; then ``persona`` tries it for real."""
        model = self.models[pk]
        method = oracle_method(model, *use_case)
        expected = oracle.allowed(method, *self._at(model)) if method else set()
        assert self._who_succeeds(pk, *use_case) == expected, (
            f"{use_case} on a case at {model.status}@{model.stage}"
        )
        self._attempt(pk, persona, *use_case)

    @rule(pk=cases, data=st.data())
    def someone_the_oracle_allows_takes_a_step(self, pk: int, data: st.DataObject) -> None:
        """Steer the walk deeper: a use case the oracle says someone may take, by one of them
        (or by anyone, when nobody may take any)."""
        model = self.models[pk]
        open_use_cases = {
            use_case: sorted(oracle.allowed(method, *self._at(model)))
            for use_case in USE_CASES
            if (method := oracle_method(model, *use_case))
            and oracle.allowed(method, *self._at(model))
        }
        if open_use_cases:
            use_case, outcome = data.draw(st.sampled_from(list(open_use_cases)))
            persona = data.draw(st.sampled_from(open_use_cases[(use_case, outcome)]))
        else:
            use_case, outcome = data.draw(st.sampled_from(USE_CASES))
            persona = data.draw(st.sampled_from(oracle.PERSONAS))
        self._attempt(pk, persona, use_case, outcome)

    # -- the step and its checks ----------------------------------------------------------

    @staticmethod
    def _at(model: CaseModel) -> tuple[str, str]:
        return model.status, model.stage

    def _who_succeeds(self, pk: int, use_case: str, outcome: str) -> set[str]:
        succeeded = set()
        for persona in oracle.PERSONAS:
            with transaction.atomic():
                entries_before = Entry.objects.filter(difference_id=pk).count()
                try:
                    call_service(use_case, outcome, self.world.people[persona], pk)
                except DifferenceRefused:
                    # A refusal changes nothing.
                    assert Entry.objects.filter(difference_id=pk).count() == entries_before
                    self._check_case_matches_model(self.models[pk])
                else:
                    succeeded.add(persona)
                transaction.set_rollback(True)
        return succeeded

    def _attempt(self, pk: int, persona: str, use_case: str, outcome: str) -> None:
        model = self.models[pk]
        method = oracle_method(model, use_case, outcome)
        may = method is not None and persona in oracle.allowed(method, *self._at(model))
        entries_before = Entry.objects.filter(difference_id=pk).count()
        edges_before = transition_edges(pk)
        permissions_before = permission_rows()

        refused: DifferenceRefused | None = None
        try:
            # Fresh user object: no cached roles carried from step to step.
            actor = get_user_model().objects.get(pk=self.world.people[persona].pk)
            call_service(use_case, outcome, actor, pk)
        except DifferenceRefused as error:
            refused = error

        where = f"{use_case}({outcome}) by {persona} on a case at {model.status}@{model.stage}"
        if may:
            assert refused is None, f"refused ({refused}) but the oracle allows {where}"
        else:
            assert refused is not None, f"succeeded but the oracle refuses {where}"

        if refused is not None:
            # A refusal changes nothing.
            self._check_case_matches_model(model)
            assert Entry.objects.filter(difference_id=pk).count() == entries_before, where
            assert transition_edges(pk) == edges_before, where
            assert permission_rows() == permissions_before, where
            return

        new = expected_edges(model, use_case, outcome)
        for _from_status, to_status in new:
            model.status = to_status
            if to_status in RANK:
                model.enter(to_status)
        model.edges.extend(new)
        # Each status change left exactly one entry, and nothing else was written.
        assert transition_edges(pk) == edges_before + new, where
        assert Entry.objects.filter(difference_id=pk).count() == entries_before + len(new), where
        self._check_case_matches_model(model)

    def _check_case_matches_model(self, model: CaseModel) -> None:
        case = ProfessionalDifference.objects.get(pk=model.pk)
        assert (case.status, case.stage, case.highest_stage) == (
            model.status,
            model.stage,
            model.highest_stage,
        )

    @invariant()
    def every_case_only_moved_along_the_specs_edges(self) -> None:
        for pk, model in self.models.items():
            edges = transition_edges(pk)
            assert set(edges) <= LEGAL_EDGES, set(edges) - LEGAL_EDGES
            if not model.urgent:
                assert (IDENTIFIED, S2) not in edges
            # The entries chain: each edge starts where the previous one ended.
            assert edges[0] == ("", IDENTIFIED)
            for (_, to_status), (from_status, _) in itertools.pairwise(edges):
                assert from_status == to_status, edges
            assert edges[-1][1] == model.status
            # One entry per status change, automatic ones included.
            assert edges == model.edges

    @invariant()
    def exactly_the_right_people_see_each_case(self) -> None:
        # Asking every person is slow; do it again only when something it depends on
        # changed (a case's highest stage, or any object permission row: memberships never
        # change here).
        key = (
            frozenset((pk, model.highest_stage) for pk, model in self.models.items()),
            permission_rows(),
        )
        if key == self._visibility_checked_for:
            return
        seen_by: dict[int, set[int]] = {pk: set() for pk in self.models}
        for user in self.users:
            for pk in differences_visible_to(user).values_list("pk", flat=True):
                seen_by.setdefault(pk, set()).add(user.pk)
        for pk, model in self.models.items():
            assert seen_by[pk] == oracle.visible_set(self.world, model.highest_stage), (
                model.status,
                model.highest_stage,
            )
        assert set(seen_by) == set(self.models)
        self._visibility_checked_for = key


def test_random_walks_through_the_state_machine_agree_with_the_spec(db: Any) -> None:
    run_state_machine_as_test(
        DifferenceMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[
                HealthCheck.too_slow,
                HealthCheck.data_too_large,
            ],
        ),
    )
