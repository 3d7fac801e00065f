"""Cases in every state.

``DifferenceFactory`` writes the row directly in any state (factory-boy ignores
``protected=True``): fast, for permission predicates that need no history. ``difference_at``
drives the real services along spec §3's edges, so the chronology, the stage clock and the
object permissions are all as the app would leave them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import factory

from agencies.models import Category
from escalations import services
from escalations.models import Party, ProfessionalDifference
from escalations.services import ChildDetails, NamedProfessionalDetails
from escalations.states import Context, Status

if TYPE_CHECKING:
    from tests.conftest import World


class DifferenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProfessionalDifference
        skip_postgeneration_save = True

    partnership = factory.LazyAttribute(lambda d: d.raiser_agency.partnership)
    raiser_name = factory.LazyAttribute(lambda d: d.raised_by.get_full_name())
    raiser_role = "Practitioner"
    raiser_agency_name = factory.LazyAttribute(lambda d: d.raiser_agency.name)
    category = factory.LazyAttribute(
        lambda d: Category.objects.filter(partnership=d.raiser_agency.partnership).first()
    )
    context = Context.OPEN_CASE
    issue = "The other agency's decision leaves the child without a service."
    status = Status.IDENTIFIED
    stage = factory.LazyAttribute(lambda d: d.status if d.status in STAGE_STATES else "stage_1")
    highest_stage = factory.LazyAttribute(lambda d: d.stage)

    @factory.post_generation
    def other_agencies(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if not create:
            return
        Party.objects.create(difference=self, agency=self.raiser_agency, is_raising=True)
        for agency in extracted or ():
            Party.objects.create(difference=self, agency=agency)


STAGE_STATES = (
    Status.IDENTIFIED,
    Status.CLARIFICATION,
    Status.STAGE_1,
    Status.STAGE_2,
    Status.STAGE_3,
    Status.STAGE_4,
    Status.FINAL_REFERRAL,
)


class Stage2DifferenceFactory(DifferenceFactory):
    status = Status.STAGE_2


class FinalReferralDifferenceFactory(DifferenceFactory):
    status = Status.FINAL_REFERRAL


def raise_difference(world: World, **overrides: Any) -> ProfessionalDifference:
    """Raise a case from agency A against agency B through the service."""
    fields: dict[str, Any] = {
        "actor": world.raiser,
        "raiser_agency": world.agency_a,
        "children": [ChildDetails(name="Amira Khan"), ChildDetails(name="Zain Khan")],
        "other_agencies": [world.agency_b],
        "category": world.category,
        "context": Context.OPEN_CASE,
        "issue": "The referral was closed without a strategy discussion.",
        "named_professionals": [
            NamedProfessionalDetails(agency=world.agency_b, name="Named Person", user=world.b_named)
        ],
    }
    fields.update(overrides)
    return services.difference_raise(**fields)


def difference_at(world: World, state: str, *, partial_at: str | None = None) -> Any:
    """A case driven through the services to ``state`` by the people allowed to move it.

    For ``partially_resolved`` give ``partial_at``, the stage the partial outcome was
    recorded at.
    """
    target = Status.FINAL_REFERRAL if state == Status.NOT_RESOLVED else state
    case = raise_difference(world)
    pk = case.pk
    path = [
        (
            Status.CLARIFICATION,
            lambda: services.difference_start_clarification(actor=world.raiser, difference_id=pk),
        ),
        (
            Status.STAGE_1,
            lambda: services.difference_begin_stage_1(
                actor=world.raiser, difference_id=pk, clarification="Asked my manager."
            ),
        ),
        (
            Status.STAGE_2,
            lambda: services.difference_escalate(
                actor=world.raiser, difference_id=pk, reason="Stage 1 did not resolve it."
            ),
        ),
        (
            Status.STAGE_3,
            lambda: services.difference_escalate(
                actor=world.a_line_manager,
                difference_id=pk,
                reason="No agreement.",
                oversight_note="Reviewed.",
            ),
        ),
        (
            Status.STAGE_4,
            lambda: services.difference_escalate(
                actor=world.a_senior_manager, difference_id=pk, reason="No agreement."
            ),
        ),
        (
            Status.FINAL_REFERRAL,
            lambda: services.difference_escalate(
                actor=world.a_director, difference_id=pk, reason="Referral summary."
            ),
        ),
    ]
    order = [s for s, _ in path]
    if state == Status.IDENTIFIED:
        return case
    if state == Status.WITHDRAWN or (state == Status.LEARNING_REVIEW and partial_at is None):
        services.difference_start_clarification(actor=world.raiser, difference_id=pk)
        return services.difference_withdraw(
            actor=world.raiser, difference_id=pk, reason="Action already in hand."
        )
    if state == Status.CLOSED:
        difference_at_learning = difference_at(world, Status.LEARNING_REVIEW)
        return services.difference_close(
            actor=world.business_manager,
            difference_id=difference_at_learning.pk,
            learning="Share referral outcomes the same day.",
            protocol_amendment_recommended=False,
        )
    stop = partial_at if state == Status.PARTIALLY_RESOLVED else target
    for stage, step in path:
        case = step()
        if stage == stop:
            break
    if state == Status.PARTIALLY_RESOLVED:
        actor = world.raiser if stop != Status.FINAL_REFERRAL else world.final_body_member
        return services.difference_record_outcome(
            actor=actor,
            difference_id=pk,
            outcome=Status.PARTIALLY_RESOLVED,
            summary="Partly agreed.",
        )
    if state == Status.NOT_RESOLVED:
        return services.difference_record_outcome(
            actor=world.final_body_member,
            difference_id=pk,
            outcome=Status.NOT_RESOLVED,
            summary="The body upheld the decision.",
        )
    assert state in order
    return case
