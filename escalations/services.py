"""The only writers of a professional difference.

Each use case runs in one transaction: lock the row, check the permission, run the
transition, save, write the chronology entry, grant the object permissions the new stage
needs, and queue follow-up work on commit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.contrib.auth.models import Permission, User
from django.db import transaction
from django.utils import timezone
from django_fsm import has_transition_perm

from agencies.models import Agency, AgencyRole, AgencyRoleGroup, Category, PartnershipRole
from agencies.selectors import roles_held
from agencies.services import agency_role_group, partnership_role_group
from escalations import errors
from escalations.deadlines import notify_reached_stage, stage_clock_restart
from escalations.errors import DifferenceRefused
from escalations.locking import ExpectedState, difference_lock
from escalations.models import (
    Action,
    Child,
    DifferenceGroupObjectPermission,
    DifferenceUserObjectPermission,
    NamedProfessional,
    Party,
    ProfessionalDifference,
)
from escalations.states import NEXT_STAGE, STAGE_RANK, Status
from records.services import transition_entry_write

VIEW_PERMISSION = "view_professionaldifference"


@dataclass(frozen=True)
class ChildDetails:
    name: str
    date_of_birth: date | None = None
    address: str = ""
    school: str = ""
    lead_professional: str = ""


@dataclass(frozen=True)
class NamedProfessionalDetails:
    agency: Agency
    name: str
    role: str = ""
    user: User | None = None


@dataclass(frozen=True)
class ActionDetails:
    description: str
    owner: str
    due_date: date | None = None


@dataclass
class _Grants:
    users: set[int] = field(default_factory=set)
    groups: set[int] = field(default_factory=set)


# -- raising ---------------------------------------------------------------------------------


def _display_name(user: Any) -> str:
    return (user.get_full_name() or user.get_username()).strip()


@transaction.atomic
def difference_raise(
    *,
    actor: Any,
    raiser_agency: Agency,
    children: Sequence[ChildDetails],
    other_agencies: Sequence[Agency],
    category: Category,
    context: str,
    issue: str,
    named_professionals: Sequence[NamedProfessionalDetails] = (),
    is_urgent: bool = False,
    urgent_manager: Any | None = None,
    linked_cases: Iterable[ProfessionalDifference] = (),
) -> ProfessionalDifference:
    """Raise a professional difference (create → identified; urgent: → stage_2)."""
    held = roles_held(actor)
    memberships = held.by_agency.get(raiser_agency.pk, frozenset())
    if not memberships:
        raise DifferenceRefused(errors.NOT_A_MEMBER_OF_AGENCY, field="raiser_agency")
    partnership = raiser_agency.partnership
    others = {agency.pk: agency for agency in other_agencies}
    if raiser_agency.pk in others:
        del others[raiser_agency.pk]
        if not others:
            raise DifferenceRefused(errors.IN_HOUSE_PROCEDURES, field="other_agencies")
    if not others:
        raise DifferenceRefused(errors.NO_OTHER_AGENCY, field="other_agencies")
    if any(agency.partnership_id != partnership.pk for agency in others.values()):
        raise DifferenceRefused(errors.AGENCY_OUTSIDE_PARTNERSHIP, field="other_agencies")
    if category.partnership_id != partnership.pk:
        raise DifferenceRefused(errors.CATEGORY_OUTSIDE_PARTNERSHIP, field="category")
    if not children or not all(child.name.strip() for child in children):
        raise DifferenceRefused(errors.NO_CHILD, field="children")
    if not issue.strip():
        raise DifferenceRefused(errors.ISSUE_REQUIRED, field="issue")
    for named in named_professionals:
        if named.agency.pk not in others:
            raise DifferenceRefused(errors.NAMED_PROFESSIONAL_NOT_A_PARTY, field="named")
    if is_urgent:
        if urgent_manager is None:
            raise DifferenceRefused(errors.URGENT_NEEDS_MANAGER, field="urgent_manager")
        if not roles_held(urgent_manager).in_agency(
            raiser_agency.pk, AgencyRole.LINE_MANAGER, AgencyRole.SAFEGUARDING_LEAD
        ):
            raise DifferenceRefused(errors.URGENT_MANAGER_NOT_OF_AGENCY, field="urgent_manager")

    role_labels = [AgencyRole(role).label for role in AgencyRole.values if role in memberships]
    now = timezone.now()
    difference = ProfessionalDifference.objects.create(
        partnership=partnership,
        raised_by=actor,
        raiser_name=_display_name(actor),
        raiser_role=", ".join(role_labels),
        raiser_agency=raiser_agency,
        raiser_agency_name=raiser_agency.name,
        category=category,
        context=context,
        issue=issue.strip(),
        is_urgent=is_urgent,
        urgent_manager=urgent_manager if is_urgent else None,
        raised_at=now,
        stage_entered_at=now,
    )
    difference.reference = f"PD-{now:%Y}-{difference.pk:06d}"
    difference.save(update_fields=["reference"])
    Party.objects.bulk_create(
        [Party(difference=difference, agency=raiser_agency, is_raising=True, joined_at=now)]
        + [Party(difference=difference, agency=a, joined_at=now) for a in others.values()]
    )
    Child.objects.bulk_create(
        Child(
            difference=difference,
            name=child.name.strip(),
            date_of_birth=child.date_of_birth,
            address=child.address,
            school=child.school,
            lead_professional=child.lead_professional,
        )
        for child in children
    )
    NamedProfessional.objects.bulk_create(
        NamedProfessional(
            difference=difference,
            agency=named.agency,
            user=named.user,
            name=named.name,
            role=named.role,
        )
        for named in named_professionals
    )
    difference.linked_cases.add(*[case for case in linked_cases if case.pk != difference.pk])
    transition_entry_write(
        difference=difference,
        actor=actor,
        transition="raise",
        from_status="",
        to_status=Status.IDENTIFIED,
        reason="Urgent track: the child's immediate welfare is a cause for concern."
        if is_urgent
        else "",
    )
    _grant_visibility(difference)
    if is_urgent:
        return _transition(
            difference=difference,
            actor=actor,
            method="open_urgent_track",
            action="opened on the urgent track",
            reason=f"Urgent track agreed with {_display_name(urgent_manager)}.",
        )
    return difference


# -- the transition core ---------------------------------------------------------------------


def _transition(
    *,
    difference: ProfessionalDifference,
    actor: Any | None,
    method: str,
    action: str,
    reason: str = "",
    before: Callable[[ProfessionalDifference], None] | None = None,
    **entry_fields: Any,
) -> ProfessionalDifference:
    """Run one transition on a locked row: check, move, save, record, grant.

    ``actor=None`` is the system (automatic transitions); people always pass themselves.
    """
    bound = getattr(difference, method)
    if not bound._django_fsm.has_transition(difference.status) or not (
        bound._django_fsm.conditions_met(difference, difference.status)
    ):
        raise DifferenceRefused(
            errors.NOT_FROM_THIS_STATE.format(
                status=Status(difference.status).label.lower(), action=action
            )
        )
    if actor is not None and not has_transition_perm(bound, actor):
        raise DifferenceRefused(errors.NOT_PERMITTED)
    from_status = difference.status
    if before is not None:
        before(difference)
    bound()
    difference.save()
    transition_entry_write(
        difference=difference,
        actor=actor,
        transition=method,
        from_status=from_status,
        to_status=difference.status,
        reason=reason,
        **entry_fields,
    )
    stage_clock_restart(difference)
    _grant_visibility(difference)
    notify_reached_stage(difference)
    return difference


def _run(
    *,
    difference_id: int,
    actor: Any,
    method: str,
    action: str,
    reason: str = "",
    reason_required: bool = True,
    expected_state: ExpectedState = None,
    **kwargs: Any,
) -> ProfessionalDifference:
    if reason_required and not reason.strip():
        raise DifferenceRefused(errors.REASON_REQUIRED, field="reason")
    with transaction.atomic():
        difference = difference_lock(difference_id, expected_state)
        return _transition(
            difference=difference,
            actor=actor,
            method=method,
            action=action,
            reason=reason.strip(),
            **kwargs,
        )


# -- permissions: who may see the case -------------------------------------------------------


def _visibility(difference: ProfessionalDifference) -> _Grants:
    """Spec §5 for the case as it stands: the users and role groups that may see it."""
    grants = _Grants()
    grants.users.add(difference.raised_by_id)
    grants.users.update(
        user_id
        for user_id in difference.named_professionals.values_list("user_id", flat=True)
        if user_id is not None
    )
    rank = STAGE_RANK[difference.highest_stage]
    roles = [AgencyRole.LINE_MANAGER, AgencyRole.SAFEGUARDING_LEAD]
    if rank >= STAGE_RANK[Status.STAGE_3]:
        roles.append(AgencyRole.SENIOR_MANAGER)
    if rank >= STAGE_RANK[Status.STAGE_4]:
        roles.append(AgencyRole.DIRECTOR)
    # One query for the role groups of every party agency; a group missing for an agency
    # made outside the services is made here rather than silently granting nothing.
    found = {
        (agency_id, role): group_id
        for agency_id, role, group_id in AgencyRoleGroup.objects.filter(
            agency_id__in=difference.party_agency_ids(), role__in=roles
        ).values_list("agency_id", "role", "group_id")
    }
    for agency_id in difference.party_agency_ids():
        for role in roles:
            group_id = found.get((agency_id, role))
            if group_id is None:
                agency = Agency.objects.get(pk=agency_id)
                group_id = agency_role_group(agency=agency, role=role).pk
            grants.groups.add(group_id)
    grants.groups.add(
        partnership_role_group(
            partnership=difference.partnership, role=PartnershipRole.BUSINESS_MANAGER
        ).pk
    )
    if rank >= STAGE_RANK[Status.FINAL_REFERRAL]:
        grants.groups.add(
            partnership_role_group(
                partnership=difference.partnership, role=PartnershipRole.FINAL_REFERRAL_MEMBER
            ).pk
        )
    return grants


def _view_permission() -> Permission:
    return Permission.objects.get(content_type__app_label="escalations", codename=VIEW_PERMISSION)


def _grant_visibility(difference: ProfessionalDifference) -> None:
    """Grant view permission to everyone spec §5 lets see the case now (only ever adds:
    a senior manager who once saw a Stage 3 case keeps seeing it)."""
    grants = _visibility(difference)
    permission = _view_permission()
    DifferenceUserObjectPermission.objects.bulk_create(
        [
            DifferenceUserObjectPermission(
                permission=permission, user_id=user_id, content_object=difference
            )
            for user_id in grants.users
        ],
        ignore_conflicts=True,
    )
    DifferenceGroupObjectPermission.objects.bulk_create(
        [
            DifferenceGroupObjectPermission(
                permission=permission, group_id=group_id, content_object=difference
            )
            for group_id in grants.groups
        ],
        ignore_conflicts=True,
    )


# -- use cases -------------------------------------------------------------------------------


def difference_start_clarification(
    *, actor: Any, difference_id: int, expected_state: ExpectedState = None
) -> ProfessionalDifference:
    """identified → clarification, by the raiser."""
    return _run(
        difference_id=difference_id,
        actor=actor,
        expected_state=expected_state,
        method="start_clarification",
        action="moved to clarification",
        reason_required=False,
    )


def difference_withdraw(
    *, actor: Any, difference_id: int, reason: str, expected_state: ExpectedState = None
) -> ProfessionalDifference:
    """clarification → withdrawn → learning_review, by the raiser, saying why no practice
    issue remains."""
    with transaction.atomic():
        difference = _run(
            difference_id=difference_id,
            actor=actor,
            expected_state=expected_state,
            method="withdraw",
            action="withdrawn",
            reason=reason,
        )
        return _begin_learning_review(difference)


def difference_begin_stage_1(
    *, actor: Any, difference_id: int, clarification: str, expected_state: ExpectedState = None
) -> ProfessionalDifference:
    """clarification → stage_1, by the raiser, recording the clarification done."""
    return _run(
        difference_id=difference_id,
        actor=actor,
        expected_state=expected_state,
        method="begin_stage_1",
        action="moved to Stage 1",
        reason=clarification,
    )


_ESCALATIONS: dict[str, tuple[str, str]] = {
    Status.STAGE_1: ("escalate_to_stage_2", "escalated to Stage 2"),
    Status.STAGE_2: ("escalate_to_stage_3", "escalated to Stage 3"),
    Status.STAGE_3: ("escalate_to_stage_4", "escalated to Stage 4"),
    Status.STAGE_4: ("refer_to_final_body", "referred to the final-referral body"),
}


def difference_escalate(
    *,
    actor: Any,
    difference_id: int,
    reason: str,
    oversight_note: str = "",
    escalated_to: str = "",
    expected_state: ExpectedState = None,
) -> ProfessionalDifference:
    """Take the case to the next stage (from a stage, or from a partial outcome there).

    ``reason`` says why the stage did not resolve it (for a final referral: the referral
    summary); ``oversight_note`` is the manager's note at Stage 2; ``escalated_to`` names to
    whom it went (Appendix 2 item 13).
    """
    if not reason.strip():
        raise DifferenceRefused(errors.REASON_REQUIRED, field="reason")
    with transaction.atomic():
        difference = difference_lock(difference_id, expected_state)
        if difference.status not in (*NEXT_STAGE, Status.PARTIALLY_RESOLVED) or (
            difference.stage not in NEXT_STAGE
        ):
            raise DifferenceRefused(
                errors.NOT_FROM_THIS_STATE.format(
                    status=Status(difference.status).label.lower(), action="escalated"
                )
            )
        method, action = _ESCALATIONS[difference.stage]
        target = NEXT_STAGE[difference.stage]

        def note_escalation(case: ProfessionalDifference) -> None:
            label = escalated_to.strip() or Status(target).label
            case.escalated_to = "\n".join(filter(None, [case.escalated_to, label]))

        return _transition(
            difference=difference,
            actor=actor,
            method=method,
            action=action,
            reason=reason.strip(),
            before=note_escalation,
            opinion=oversight_note.strip(),
        )


_OUTCOME_METHODS: dict[str, str] = {
    Status.RESOLVED: "resolve",
    Status.PARTIALLY_RESOLVED: "resolve_partially",
    Status.NOT_RESOLVED: "record_not_resolved",
}


def difference_record_outcome(
    *,
    actor: Any,
    difference_id: int,
    outcome: str,
    summary: str,
    actions: Sequence[ActionDetails] = (),
    expected_state: ExpectedState = None,
) -> ProfessionalDifference:
    """Record an outcome at a stage or after final referral (resolved, partially resolved,
    or — only after final referral — not resolved), with the actions agreed."""
    if outcome not in _OUTCOME_METHODS:
        raise DifferenceRefused("Choose resolved, partially resolved or not resolved.")
    if not summary.strip():
        raise DifferenceRefused(errors.REASON_REQUIRED, field="summary")
    for item in actions:
        if not item.description.strip() or not item.owner.strip():
            raise DifferenceRefused("Each action needs a description and an owner.")
    with transaction.atomic():
        difference = difference_lock(difference_id, expected_state)
        difference = _transition(
            difference=difference,
            actor=actor,
            method=_OUTCOME_METHODS[outcome],
            action=f"recorded as {Status(outcome).label.lower()}",
            reason="",
            outcome=summary.strip(),
        )
        Action.objects.bulk_create(
            Action(
                difference=difference,
                description=item.description.strip(),
                owner=item.owner.strip(),
                due_date=item.due_date,
                recorded_by=actor,
            )
            for item in actions
        )
        if difference.status in (Status.RESOLVED, Status.NOT_RESOLVED):
            return _begin_learning_review(difference)
        if difference.stage == Status.FINAL_REFERRAL:
            return _transition(
                difference=difference,
                actor=None,
                method="end_partial_final_referral",
                action="moved to learning review",
                reason="No stage is left after the final referral.",
            )
        return difference


def difference_accept_partial_outcome(
    *, actor: Any, difference_id: int, reason: str, expected_state: ExpectedState = None
) -> ProfessionalDifference:
    """partially_resolved → learning_review: the raising agency will escalate no further."""
    return _run(
        difference_id=difference_id,
        actor=actor,
        expected_state=expected_state,
        method="accept_partial_outcome",
        action="moved to learning review",
        reason=reason,
    )


def _begin_learning_review(difference: ProfessionalDifference) -> ProfessionalDifference:
    return _transition(
        difference=difference,
        actor=None,
        method="begin_learning_review",
        action="moved to learning review",
        reason="Automatic on outcome.",
    )


def difference_close(
    *,
    actor: Any,
    difference_id: int,
    learning: str,
    protocol_amendment_recommended: bool,
    protocol_amendment_note: str = "",
    expected_state: ExpectedState = None,
) -> ProfessionalDifference:
    """learning_review → closed, by the business manager, once learning and actions are
    reviewed."""
    if not learning.strip():
        raise DifferenceRefused("Record the learning from this difference.", field="learning")
    if protocol_amendment_recommended and not protocol_amendment_note.strip():
        raise DifferenceRefused(
            "Say which amendment to the protocol is recommended.",
            field="protocol_amendment_note",
        )

    def note_learning(case: ProfessionalDifference) -> None:
        case.learning = learning.strip()
        case.protocol_amendment_recommended = protocol_amendment_recommended
        case.protocol_amendment_note = protocol_amendment_note.strip()

    with transaction.atomic():
        difference = difference_lock(difference_id, expected_state)
        return _transition(
            difference=difference,
            actor=actor,
            method="close",
            action="closed",
            reason=learning.strip(),
            before=note_learning,
        )


def difference_link(
    *, actor: Any, difference: ProfessionalDifference, other: ProfessionalDifference
) -> None:
    """Link two cases (e.g. a new case raised after a closed one)."""
    if difference.pk == other.pk:
        raise DifferenceRefused(errors.LINK_TO_SELF)
    difference.linked_cases.add(other)
