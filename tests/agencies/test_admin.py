"""The Django admin: partnership administrators configure their own partnership only."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from agencies.models import AgencyMembership, AgencyRole
from escalations.states import Status
from tests.conftest import World
from tests.factories.differences import difference_at

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_p(world: World, client: Client) -> Client:
    admin = world.administrator
    admin.is_staff = True
    admin.save()
    admin.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label__in=["agencies", "escalations"],
            codename__startswith="view_",
        ),
        *Permission.objects.filter(content_type__app_label="agencies", codename__startswith="add_"),
    )
    client.force_login(admin)
    return client


def test_an_administrator_sees_their_partnerships_agencies_and_cases_only(
    world: World, admin_client_p: Client
) -> None:
    case = difference_at(world, Status.STAGE_2)
    agencies = admin_client_p.get("/admin/agencies/agency/")
    assert agencies.status_code == 200
    assert b"A social care" in agencies.content
    assert b"D social care" not in agencies.content
    cases = admin_client_p.get("/admin/escalations/professionaldifference/")
    assert cases.status_code == 200
    assert case.reference.encode() in cases.content
    foreign = admin_client_p.get(f"/admin/agencies/agency/{world.agency_d.pk}/change/")
    assert foreign.status_code in (302, 404)


def test_granting_a_role_in_the_admin_puts_the_person_in_the_role_group(
    world: World, admin_client_p: Client
) -> None:
    response = admin_client_p.post(
        "/admin/agencies/agencymembership/add/",
        {
            "user": world.outsider.pk,
            "agency": world.agency_a.pk,
            "role": AgencyRole.LINE_MANAGER,
            "job_title": "Team manager",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    assert AgencyMembership.objects.filter(user=world.outsider, agency=world.agency_a).exists()
    assert world.outsider.groups.filter(agency_role__agency=world.agency_a).exists()


def test_an_administrator_cannot_add_a_role_in_another_partnerships_agency(
    world: World, admin_client_p: Client
) -> None:
    response: Any = admin_client_p.post(
        "/admin/agencies/agencymembership/add/",
        {"user": world.outsider.pk, "agency": world.agency_d.pk, "role": AgencyRole.DIRECTOR},
    )
    assert response.status_code == 200  # the form re-shows with an error
    assert not AgencyMembership.objects.filter(agency=world.agency_d, user=world.outsider).exists()


def test_cases_are_read_only_in_the_admin(world: World, admin_client_p: Client) -> None:
    case = difference_at(world, Status.STAGE_1)
    response = admin_client_p.post(
        f"/admin/escalations/professionaldifference/{case.pk}/change/", {"issue": "changed"}
    )
    assert response.status_code == 403
    assert admin_client_p.get("/admin/escalations/professionaldifference/add/").status_code == 403
