"""The demo data that make run loads."""

from __future__ import annotations

import io

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from agencies.models import Agency, AgencyMembership, AgencyRole, PartnershipMembership
from escalations.models import ProfessionalDifference, StageEntry
from escalations.states import Status
from tests.support.mfa import totp_code

pytestmark = pytest.mark.django_db


def test_seed_demo_builds_a_partnership_people_in_every_role_and_cases_in_every_state() -> None:
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    agencies = Agency.objects.all()
    assert agencies.count() >= 5
    assert len(set(agencies.values_list("agency_type", flat=True))) >= 5
    for agency in agencies:
        held = set(AgencyMembership.objects.filter(agency=agency).values_list("role", flat=True))
        assert held == set(AgencyRole.values)
    assert PartnershipMembership.objects.count() == 3
    cases = ProfessionalDifference.objects.all()
    assert cases.count() >= 12
    stable_states = {
        Status.IDENTIFIED,
        Status.CLARIFICATION,
        Status.STAGE_1,
        Status.STAGE_2,
        Status.STAGE_3,
        Status.STAGE_4,
        Status.FINAL_REFERRAL,
        Status.PARTIALLY_RESOLVED,
        Status.LEARNING_REVIEW,
        Status.CLOSED,
    }
    assert stable_states <= set(cases.values_list("status", flat=True))
    passed_through = set(
        cases.model.entries.rel.related_model.objects.values_list("to_status", flat=True)
    )
    assert {Status.RESOLVED, Status.NOT_RESOLVED, Status.WITHDRAWN} <= passed_through
    overdue = [e for e in StageEntry.objects.filter(left_at__isnull=True) if e.is_overdue]
    assert len(overdue) >= 2


def test_seed_demo_is_idempotent() -> None:
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    counts = (ProfessionalDifference.objects.count(), AgencyMembership.objects.count())
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert (ProfessionalDifference.objects.count(), AgencyMembership.objects.count()) == counts


def test_the_demo_administrator_can_sign_in_to_the_admin_and_see_the_cases(client: Client) -> None:
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    signed_in = client.post(
        reverse("sign_in"), {"login": "admin", "password": "demo-safeguarding-2026"}
    )
    assert signed_in.status_code == 302
    # No authenticator yet: the first sign-in sets one up before anything else.
    assert client.get("/admin/")["Location"] == reverse("mfa_activate_totp")
    client.get(reverse("mfa_activate_totp"))
    secret = client.session[SECRET_SESSION_KEY]
    client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    for url in (
        "/admin/agencies/partnership/",
        "/admin/agencies/agency/",
        "/admin/agencies/agencymembership/",
        "/admin/escalations/professionaldifference/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    listing = client.get("/admin/escalations/professionaldifference/").content.decode()
    assert ProfessionalDifference.objects.first().reference in listing  # type: ignore[union-attr]


def test_demo_people_have_no_authenticator_and_the_output_says_so() -> None:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert not Authenticator.objects.exists()
    assert "first sign-in asks to set one up" in out.getvalue()
    assert "secret key" in out.getvalue()
