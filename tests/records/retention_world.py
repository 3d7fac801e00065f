"""A closed case full of identifying details, for the retention and subject access tests."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.utils import timezone

from escalations import services
from escalations.models import Action, Notification, NotificationKind, ProfessionalDifference
from escalations.services import ChildDetails, NamedProfessionalDetails
from records.models import EntryKind
from records.services import audit_record, entry_record
from tests.conftest import World
from tests.factories.differences import raise_difference

CHILD = ChildDetails(
    name="Amira Khan",
    date_of_birth=date(2015, 3, 4),
    address="1 Elm Road, Portsmouth",
    school="Elm Primary School",
    lead_professional="Priya Shah",
)
SIBLING = ChildDetails(
    name="Zain Khan",
    date_of_birth=date(2017, 6, 9),
    address="1 Elm Road, Portsmouth",
    school="Elm Nursery",
    lead_professional="Priya Shah",
)
PROFESSIONAL = "Dana Officer"
# Every identifying string the case holds: none may survive anonymisation.
IDENTIFYING = (
    "Amira",
    "Zain",
    "Khan",
    "Elm Road",
    "Elm Primary",
    "Elm Nursery",
    "Priya Shah",
    PROFESSIONAL,
    "2015-03-04",
    "4 March 2015",
)


def closed_case(world: World, *, children: tuple[ChildDetails, ...] = (CHILD, SIBLING)) -> Any:
    """A case about Amira and Zain Khan, withdrawn at clarification and closed, with a call,
    an action, a notice and an audit event that all name people."""
    case = raise_difference(
        world,
        children=list(children),
        issue="Amira Khan was discharged without a plan; Zain was not seen.",
        named_professionals=[
            NamedProfessionalDetails(
                agency=world.agency_b,
                name=PROFESSIONAL,
                role="Detective constable",
                user=world.b_named,
            )
        ],
    )
    services.difference_start_clarification(actor=world.raiser, difference_id=case.pk)
    entry_record(
        actor=world.raiser,
        difference=case,
        kind=EntryKind.CALL,
        method="Telephone",
        participants=f"{PROFESSIONAL}, Priya Shah",
        facts="Amira Khan was seen at 1 Elm Road, Portsmouth on 4 March 2015 records.",
        opinion="Zain Khan needs a referral.",
        outcome="Priya Shah to call back.",
    )
    services.difference_withdraw(
        actor=world.raiser, difference_id=case.pk, reason="Amira is now seen by Elm Primary."
    )
    Action.objects.create(
        difference=case,
        description="Priya Shah to share Amira's plan.",
        owner="Priya Shah",
        due_date=timezone.localdate() + timedelta(days=5),
        recorded_by=world.raiser,
    )
    services.difference_close(
        actor=world.business_manager,
        difference_id=case.pk,
        learning="Amira Khan's discharge showed the gap.",
        protocol_amendment_recommended=True,
        protocol_amendment_note="Add a step for children like Zain Khan.",
    )
    Notification.objects.create(
        recipient=world.business_manager,
        difference=case,
        kind=NotificationKind.REACHED_STAGE,
        subject=f"{case.reference} about Amira Khan",
        body="Amira Khan (AK) reached a stage.",
    )
    audit_record(actor=world.raiser, action="note", difference=case, detail="Viewed Amira Khan.")
    return ProfessionalDifference.objects.get(pk=case.pk)
