"""Spec §5 through the selectors: every role × own agency / other party / non-party agency /
other partnership, as a case climbs."""

from __future__ import annotations

import pytest
from django.http import Http404

from agencies.models import PartnershipRole
from agencies.services import agency_membership_revoke, partnership_membership_grant
from escalations.selectors import difference_get_for, differences_visible_to
from escalations.states import Status
from tests.conftest import World
from tests.escalations import oracle
from tests.factories.differences import difference_at

pytestmark = pytest.mark.django_db

CLIMB = [
    Status.IDENTIFIED,
    Status.CLARIFICATION,
    Status.STAGE_1,
    Status.STAGE_2,
    Status.STAGE_3,
    Status.STAGE_4,
    Status.FINAL_REFERRAL,
]


@pytest.mark.parametrize("state", CLIMB)
def test_exactly_the_people_of_spec_5_see_a_case_at_each_stage(world: World, state: str) -> None:
    case = difference_at(world, state)
    seen_by = {
        persona
        for persona in oracle.PERSONAS
        if differences_visible_to(world.people[persona]).filter(pk=case.pk).exists()
    }
    expected = {p for p in oracle.PERSONAS if oracle.may_see(p, state)}
    assert seen_by == expected


@pytest.mark.parametrize("state", CLIMB)
def test_a_case_someone_may_not_see_is_a_404_for_them(world: World, state: str) -> None:
    case = difference_at(world, state)
    for persona in oracle.PERSONAS:
        user = world.people[persona]
        if oracle.may_see(persona, state):
            assert difference_get_for(user, case.pk).pk == case.pk
        else:
            with pytest.raises(Http404):
                difference_get_for(user, case.pk)


def test_senior_managers_keep_seeing_a_case_that_reached_stage_3_after_its_outcome(
    world: World,
) -> None:
    case = difference_at(world, Status.PARTIALLY_RESOLVED, partial_at=Status.STAGE_3)
    assert differences_visible_to(world.b_senior_manager).filter(pk=case.pk).exists()
    assert not differences_visible_to(world.b_director).filter(pk=case.pk).exists()


def test_lists_hold_exactly_the_cases_each_person_may_see(world: World) -> None:
    cases = {state: difference_at(world, state) for state in CLIMB}
    for persona in oracle.PERSONAS:
        listed = set(differences_visible_to(world.people[persona]).values_list("pk", flat=True))
        expected = {case.pk for state, case in cases.items() if oracle.may_see(persona, state)}
        assert listed == expected, persona


def test_a_model_wide_view_permission_does_not_show_every_case(world: World) -> None:
    from django.contrib.auth.models import Permission

    case = difference_at(world, Status.STAGE_2)
    world.outsider.user_permissions.add(
        Permission.objects.get(codename="view_professionaldifference")
    )
    assert not differences_visible_to(world.outsider).filter(pk=case.pk).exists()


def test_a_superuser_is_not_a_party_and_sees_no_case(world: World) -> None:
    difference_at(world, Status.STAGE_2)
    assert not differences_visible_to(world.superuser).exists()


def test_a_person_who_leaves_the_agency_stops_seeing_its_cases(world: World) -> None:
    case = difference_at(world, Status.STAGE_2)
    membership = world.b_line_manager.agency_memberships.get()
    agency_membership_revoke(membership=membership)
    assert not differences_visible_to(world.b_line_manager).filter(pk=case.pk).exists()


def test_a_business_manager_of_another_partnership_sees_nothing(world: World) -> None:
    difference_at(world, Status.FINAL_REFERRAL)
    assert not differences_visible_to(world.q_business_manager).exists()
    assert not differences_visible_to(world.q_final_body_member).exists()


def test_a_new_business_manager_sees_the_partnerships_existing_cases(world: World) -> None:
    case = difference_at(world, Status.STAGE_1)
    partnership_membership_grant(
        user=world.outsider, partnership=world.partnership, role=PartnershipRole.BUSINESS_MANAGER
    )
    assert differences_visible_to(world.outsider).filter(pk=case.pk).exists()


def test_an_inactive_account_sees_nothing(world: World) -> None:
    case = difference_at(world, Status.STAGE_2)
    world.raiser.is_active = False
    world.raiser.save()
    assert not differences_visible_to(world.raiser).filter(pk=case.pk).exists()
