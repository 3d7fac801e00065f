"""Spec §5 through the selectors: every role × own agency / other party / non-party agency /
other partnership, as a case climbs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.http import Http404

from agencies.models import PartnershipRole
from agencies.services import agency_membership_revoke, partnership_membership_grant
from escalations import selectors
from escalations.selectors import (
    difference_get_for,
    differences_visible_to,
    differences_visible_to_for_pages,
)
from escalations.states import Status
from tests.conftest import World
from tests.escalations import oracle
from tests.factories.differences import difference_at

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["get_objects_for_user", "for_pages", "for_pages_probed"])
def visible_to(request: Any, monkeypatch: Any) -> Callable[[Any], Any]:
    """Every reader of the visibility grants: guardian's (sets and counts) and the one the
    case list pages with, which hashes a small set and probes a large one (forced here);
    each must show exactly the same cases."""
    if request.param == "for_pages_probed":
        monkeypatch.setattr(selectors, "PROBE_FROM_GRANTS", 0)
    return {
        "get_objects_for_user": differences_visible_to,
        "for_pages": differences_visible_to_for_pages,
        "for_pages_probed": differences_visible_to_for_pages,
    }[request.param]


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
def test_exactly_the_people_of_spec_5_see_a_case_at_each_stage(
    world: World, visible_to: Callable[[Any], Any], state: str
) -> None:
    case = difference_at(world, state)
    seen_by = {
        persona
        for persona in oracle.PERSONAS
        if visible_to(world.people[persona]).filter(pk=case.pk).exists()
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
    visible_to: Callable[[Any], Any],
) -> None:
    case = difference_at(world, Status.PARTIALLY_RESOLVED, partial_at=Status.STAGE_3)
    assert visible_to(world.b_senior_manager).filter(pk=case.pk).exists()
    assert not visible_to(world.b_director).filter(pk=case.pk).exists()


def test_lists_hold_exactly_the_cases_each_person_may_see(
    world: World, visible_to: Callable[[Any], Any]
) -> None:
    cases = {state: difference_at(world, state) for state in CLIMB}
    for persona in oracle.PERSONAS:
        listed = set(visible_to(world.people[persona]).values_list("pk", flat=True))
        expected = {case.pk for state, case in cases.items() if oracle.may_see(persona, state)}
        assert listed == expected, persona


def test_a_model_wide_view_permission_does_not_show_every_case(
    world: World, visible_to: Callable[[Any], Any]
) -> None:
    from django.contrib.auth.models import Permission

    case = difference_at(world, Status.STAGE_2)
    world.outsider.user_permissions.add(
        Permission.objects.get(codename="view_professionaldifference")
    )
    assert not visible_to(world.outsider).filter(pk=case.pk).exists()


def test_a_superuser_is_not_a_party_and_sees_no_case(
    world: World, visible_to: Callable[[Any], Any]
) -> None:
    difference_at(world, Status.STAGE_2)
    assert not visible_to(world.superuser).exists()


def test_a_person_who_leaves_the_agency_stops_seeing_its_cases(
    world: World, visible_to: Callable[[Any], Any]
) -> None:
    case = difference_at(world, Status.STAGE_2)
    membership = world.b_line_manager.agency_memberships.get()
    agency_membership_revoke(membership=membership)
    assert not visible_to(world.b_line_manager).filter(pk=case.pk).exists()


def test_a_business_manager_of_another_partnership_sees_nothing(
    world: World, visible_to: Callable[[Any], Any]
) -> None:
    difference_at(world, Status.FINAL_REFERRAL)
    assert not visible_to(world.q_business_manager).exists()
    assert not visible_to(world.q_final_body_member).exists()


def test_a_new_business_manager_sees_the_partnerships_existing_cases(
    world: World, visible_to: Callable[[Any], Any]
) -> None:
    case = difference_at(world, Status.STAGE_1)
    partnership_membership_grant(
        user=world.outsider, partnership=world.partnership, role=PartnershipRole.BUSINESS_MANAGER
    )
    assert visible_to(world.outsider).filter(pk=case.pk).exists()


def test_an_inactive_account_sees_nothing(world: World, visible_to: Callable[[Any], Any]) -> None:
    case = difference_at(world, Status.STAGE_2)
    world.raiser.is_active = False
    world.raiser.save()
    assert not visible_to(world.raiser).filter(pk=case.pk).exists()


def test_a_page_walk_is_bounded_to_the_partnerships_the_grants_can_be_in(
    world: World, monkeypatch: Any
) -> None:
    """The list's probe path reads the person's groups, their partnerships and the view
    permission in one query; a grant outside the role groups' partnerships (a case granted by
    name, a group that is no role group's) widens the walk, never hides the case."""
    from django.contrib.auth.models import Group
    from guardian.shortcuts import assign_perm

    monkeypatch.setattr(selectors, "PROBE_FROM_GRANTS", 0)
    here = difference_at(world, Status.STAGE_2)
    elsewhere = _raised_in_q(world)
    manager = world.b_line_manager
    many, bounded, partnerships, groups, permission = selectors._grant_facts(manager)
    assert many and bounded
    assert partnerships == {world.partnership.pk}
    assert groups == sorted(manager.groups.values_list("pk", flat=True))
    assert permission is not None
    visible = set(differences_visible_to_for_pages(manager).values_list("pk", flat=True))
    assert here.pk in visible and elsewhere.pk not in visible

    # Granted by name in the other partnership: the walk takes in that partnership too.
    assign_perm(selectors.VIEW_PERMISSION, manager, elsewhere)
    _, bounded, partnerships, _, _ = selectors._grant_facts(manager)
    assert bounded and partnerships == {world.partnership.pk, elsewhere.partnership_id}
    assert elsewhere.pk in differences_visible_to_for_pages(manager).values_list("pk", flat=True)

    # A group that is no role group's: its grants could be anywhere, so the walk is unbounded.
    plain = Group.objects.create(name="not a role group")
    manager.groups.add(plain)
    third = _raised_in_q(world)
    assign_perm(selectors.VIEW_PERMISSION, plain, third)
    _, bounded, _, groups, _ = selectors._grant_facts(manager)
    assert not bounded and plain.pk in groups
    assert third.pk in differences_visible_to_for_pages(manager).values_list("pk", flat=True)
    assert set(differences_visible_to_for_pages(manager).values_list("pk", flat=True)) == set(
        differences_visible_to(manager).values_list("pk", flat=True)
    )


def _raised_in_q(world: World) -> Any:
    """A case in the other partnership, raised by agency D against its agency E."""
    from agencies.models import Agency, Category
    from tests.factories.differences import raise_difference
    from tests.factories.directory import AgencyFactory

    other = Agency.objects.filter(partnership=world.other_partnership, name="E health").first()
    if other is None:
        other = AgencyFactory(partnership=world.other_partnership, name="E health")
    return raise_difference(
        world,
        actor=world.d_practitioner,
        raiser_agency=world.agency_d,
        other_agencies=[other],
        category=Category.objects.filter(partnership=world.other_partnership).first(),
        named_professionals=[],
    )


def test_the_view_permission_id_is_read_once_and_forgotten_after_migrations(db: None) -> None:
    from django.apps import apps
    from django.contrib.auth.models import Permission
    from django.db import connection
    from django.db.models.signals import post_migrate
    from django.test.utils import CaptureQueriesContext

    from escalations.selectors import _PERMISSION_IDS, view_permission_id

    _PERMISSION_IDS.clear()
    expected = Permission.objects.get(
        content_type__app_label="escalations", codename="view_professionaldifference"
    ).pk
    assert view_permission_id() == expected
    with CaptureQueriesContext(connection) as again:
        assert view_permission_id() == expected
    assert len(again) == 0
    # A flush (between transactional tests) or a migration may make it anew with a new id.
    app = apps.get_app_config("escalations")
    post_migrate.send(
        sender=app, app_config=app, verbosity=0, interactive=False, using="default", apps=apps
    )
    assert _PERMISSION_IDS == {}


def test_a_case_number_beyond_the_database_is_no_case(world: Any) -> None:
    for pk in (0, -1, 2**63, 10**30):
        with pytest.raises(Http404):
            difference_get_for(world.raiser, pk)


def test_whether_a_person_has_many_grants_is_looked_for_once_a_minute_and_changes_no_result(
    world: World, monkeypatch: Any
) -> None:
    """It only chooses the query's form: remembered, the grants are not walked again, and a
    person whose grants grew past the threshold meanwhile still sees exactly their cases."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr(selectors, "PROBE_FROM_GRANTS", 2)
    manager = world.b_line_manager
    first = difference_at(world, Status.STAGE_2)

    def grant_facts_sql(queries: Any) -> str:
        (sql,) = [q["sql"] for q in queries if "auth_user_groups" in q["sql"]]
        return str(sql)

    with CaptureQueriesContext(connection) as queries:
        many, *_ = selectors._grant_facts(manager)
    assert not many and "OFFSET" in grant_facts_sql(queries)
    for _ in range(3):
        difference_at(world, Status.STAGE_2)
    with CaptureQueriesContext(connection) as queries:
        many, bounded, partnerships, groups, _ = selectors._grant_facts(manager)
    assert not many and "OFFSET" not in grant_facts_sql(queries)  # remembered
    assert bounded and partnerships == {world.partnership.pk} and groups
    expected = set(differences_visible_to(manager).values_list("pk", flat=True))
    assert first.pk in expected and len(expected) >= 4
    assert set(differences_visible_to_for_pages(manager).values_list("pk", flat=True)) == expected

    monkeypatch.setattr(selectors.time, "monotonic", lambda: 10.0**9)  # a minute on
    many, *_ = selectors._grant_facts(manager)
    assert many
    assert set(differences_visible_to_for_pages(manager).values_list("pk", flat=True)) == expected
