"""Who may make each transition (spec §3), as small predicates over a case and a person.

The model's transitions name these as their ``permission=``; services check them with
``has_transition_perm`` before running a transition (django-fsm-2 does not check them itself).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agencies.models import AgencyRole, PartnershipRole
from agencies.selectors import roles_held
from escalations.states import Status

if TYPE_CHECKING:
    from escalations.models import ProfessionalDifference

# The agency roles that own each stage (and are told of its reminders and breaches).
STAGE_OWNER_ROLES: dict[str, tuple[str, ...]] = {
    Status.STAGE_2: (AgencyRole.LINE_MANAGER, AgencyRole.SAFEGUARDING_LEAD),
    Status.STAGE_3: (AgencyRole.SENIOR_MANAGER,),
    Status.STAGE_4: (AgencyRole.DIRECTOR,),
}

# The tier above each stage's owners, told of a breach.
TIER_ABOVE_ROLES: dict[str, tuple[str, ...]] = {
    Status.CLARIFICATION: (AgencyRole.LINE_MANAGER, AgencyRole.SAFEGUARDING_LEAD),
    Status.STAGE_1: (AgencyRole.LINE_MANAGER, AgencyRole.SAFEGUARDING_LEAD),
    Status.STAGE_2: (AgencyRole.SENIOR_MANAGER,),
    Status.STAGE_3: (AgencyRole.DIRECTOR,),
    Status.STAGE_4: (),
    Status.FINAL_REFERRAL: (),
}

RAISING_ROLES: tuple[str, ...] = tuple(AgencyRole.values)


def is_raiser(difference: ProfessionalDifference, user: Any) -> bool:
    """The person who raised the difference."""
    return bool(user.is_authenticated and user.pk == difference.raised_by_id)


def is_manager_or_lead_of_a_party(difference: ProfessionalDifference, user: Any) -> bool:
    """A line manager or safeguarding lead of any party agency."""
    return roles_held(user).in_any_agency(
        difference.party_agency_ids(), AgencyRole.LINE_MANAGER, AgencyRole.SAFEGUARDING_LEAD
    )


def is_senior_manager_of_a_party(difference: ProfessionalDifference, user: Any) -> bool:
    """A senior manager or agency safeguarding lead of any party agency."""
    return roles_held(user).in_any_agency(difference.party_agency_ids(), AgencyRole.SENIOR_MANAGER)


def is_business_manager(difference: ProfessionalDifference, user: Any) -> bool:
    """A business manager of the case's partnership."""
    return roles_held(user).in_partnership(
        difference.partnership_id, PartnershipRole.BUSINESS_MANAGER
    )


def is_director_of_a_party_or_business_manager(
    difference: ProfessionalDifference, user: Any
) -> bool:
    """A director of any party agency, or the partnership's business manager."""
    return roles_held(user).in_any_agency(
        difference.party_agency_ids(), AgencyRole.DIRECTOR
    ) or is_business_manager(difference, user)


def is_final_body_member_or_business_manager(difference: ProfessionalDifference, user: Any) -> bool:
    """A member of the partnership's final-referral body, or its business manager."""
    return roles_held(user).in_partnership(
        difference.partnership_id,
        PartnershipRole.FINAL_REFERRAL_MEMBER,
        PartnershipRole.BUSINESS_MANAGER,
    )


def owns_stage_in_raising_agency(difference: ProfessionalDifference, user: Any) -> bool:
    """The owner of the case's current stage in the raising agency."""
    roles = STAGE_OWNER_ROLES.get(difference.stage, ())
    return bool(roles) and roles_held(user).in_agency(difference.raiser_agency_id, *roles)


def may_record_outcome(difference: ProfessionalDifference, user: Any) -> bool:
    """Stage 1: the raiser; Stage 2–4: the raiser or the stage owner of the raising agency;
    final referral: the final-referral body or the business manager."""
    if difference.status == Status.FINAL_REFERRAL:
        return is_final_body_member_or_business_manager(difference, user)
    if difference.stage == Status.STAGE_1:
        return is_raiser(difference, user)
    return is_raiser(difference, user) or owns_stage_in_raising_agency(difference, user)


def may_escalate_from_current_stage(difference: ProfessionalDifference, user: Any) -> bool:
    """Who may take the case from its current (or partially resolved) stage to the next."""
    stage = difference.stage
    if stage == Status.STAGE_1:
        return is_raiser(difference, user)
    if stage == Status.STAGE_2:
        return is_manager_or_lead_of_a_party(difference, user)
    if stage == Status.STAGE_3:
        return is_senior_manager_of_a_party(difference, user)
    if stage == Status.STAGE_4:
        return is_director_of_a_party_or_business_manager(difference, user)
    return False


def may_open_urgent_track(difference: ProfessionalDifference, user: Any) -> bool:
    """The raiser, on a case flagged urgent with a manager or lead named."""
    return (
        is_raiser(difference, user)
        and difference.is_urgent
        and difference.urgent_manager_id is not None
    )


def nobody(difference: ProfessionalDifference, user: Any) -> bool:
    """Transitions the system makes by itself; no person may call them."""
    return False
