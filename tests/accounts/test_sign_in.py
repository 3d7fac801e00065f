"""Signing in with a password and a second factor, compulsory enrolment, and lockout."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from agencies.models import AgencyRole
from agencies.services import agency_membership_grant
from escalations.states import Status
from tests.conftest import World
from tests.factories.differences import difference_at
from tests.factories.directory import UserFactory
from tests.support.mfa import totp_code

pytestmark = pytest.mark.django_db

PASSWORD = "a-test-password-123"


def password_step(client: Client, username: str, password: str = PASSWORD, **extra: Any) -> Any:
    return client.post(reverse("sign_in"), {"login": username, "password": password}, **extra)


def test_a_person_signs_in_with_password_then_authenticator_code(world: World) -> None:
    client = Client()
    response = password_step(client, "a_practitioner")
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    # The password alone signs no one in.
    assert client.get(reverse("home")).status_code == 302
    page = client.get(reverse("mfa_authenticate"))
    assert "Enter the code from your authenticator app" in page.content.decode()
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code()})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_a_wrong_code_is_refused_with_an_error(world: World) -> None:
    client = Client()
    password_step(client, "a_practitioner")
    wrong = "000000" if totp_code() != "000000" else "111111"
    response = client.post(reverse("mfa_authenticate"), {"code": wrong})
    assert response.status_code == 200
    assert "govuk-error-summary" in response.content.decode()
    assert client.get(reverse("home")).status_code == 302


def test_five_wrong_codes_stop_even_the_right_one_for_five_minutes(world: World) -> None:
    client = Client()
    password_step(client, "a_practitioner")
    wrong = "000000" if totp_code() != "000000" else "111111"
    for _ in range(5):
        assert client.post(reverse("mfa_authenticate"), {"code": wrong}).status_code == 200
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code()})
    assert response.status_code == 200
    assert "Too many failed" in response.content.decode()
    assert client.get(reverse("home")).status_code == 302


def test_a_code_cannot_be_used_twice(world: World) -> None:
    code = totp_code()
    first = Client()
    password_step(first, "a_practitioner")
    assert first.post(reverse("mfa_authenticate"), {"code": code}).status_code == 302
    second = Client()
    password_step(second, "a_practitioner")
    assert second.post(reverse("mfa_authenticate"), {"code": code}).status_code == 200


def test_a_wrong_password_shows_the_error_summary(world: World) -> None:
    response = password_step(Client(), "a_practitioner", "not-the-password")
    body = response.content.decode()
    assert response.status_code == 200
    assert "govuk-error-summary" in body
    assert "<title>Error: Sign in" in body


def test_there_is_no_sign_up_password_reset_or_email_page(world: World) -> None:
    client = Client()
    for path in (
        "/accounts/signup/",
        "/account/signup/",
        "/accounts/password/reset/",
        "/account/password/reset/",
        "/accounts/email/",
        "/account/email/",
    ):
        assert client.get(path).status_code == 404, path


def test_the_admin_signs_in_through_the_service_sign_in(world: World) -> None:
    response = Client().get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("sign_in"))


# -- compulsory enrolment -------------------------------------------------------------------


@pytest.fixture
def newcomer(world: World) -> Any:
    person = UserFactory(username="newcomer", enrolled=False)
    agency_membership_grant(user=person, agency=world.agency_a, role=AgencyRole.LINE_MANAGER)
    return person


def test_first_sign_in_sends_every_page_to_authenticator_set_up(
    world: World, newcomer: Any
) -> None:
    case = difference_at(world, Status.STAGE_1)
    client = Client()
    response = password_step(client, "newcomer")
    assert response.status_code == 302  # no code asked: they have no authenticator yet
    set_up = reverse("mfa_activate_totp")
    for path in (
        reverse("home"),
        reverse("case_list"),
        reverse("raise_start"),
        reverse("report"),
        reverse("case_detail", kwargs={"pk": case.pk}),
        reverse("case_record_pdf", kwargs={"pk": case.pk}),
        reverse("report_download", args=["csv"]),
        reverse("mfa_view_recovery_codes"),
        reverse("account_reauthenticate"),
        "/admin/",
    ):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == set_up, path
    # Sign-out stays open.
    assert client.post(reverse("sign_out")).status_code == 302
    assert client.get(reverse("home"))["Location"].startswith(reverse("sign_in"))


def test_setting_up_the_authenticator_shows_recovery_codes_then_home(
    world: World, newcomer: Any
) -> None:
    client = Client()
    password_step(client, "newcomer")
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    assert secret in page.content.decode()
    wrong = client.post(reverse("mfa_activate_totp"), {"code": "12345"})
    assert wrong.status_code == 200
    assert "govuk-error-summary" in wrong.content.decode()
    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_view_recovery_codes")
    codes = client.get(reverse("mfa_view_recovery_codes"))
    assert codes.status_code == 200
    body = codes.content.decode()
    assert "Your recovery codes" in body
    assert body.count("<li><code>") == 10
    assert client.get(reverse("home")).status_code == 200
    assert Authenticator.objects.filter(user=newcomer, type=Authenticator.Type.TOTP).exists()


def test_the_next_sign_in_asks_for_the_code(world: World, newcomer: Any) -> None:
    client = Client()
    password_step(client, "newcomer")
    client.get(reverse("mfa_activate_totp"))
    secret = client.session[SECRET_SESSION_KEY]
    client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    client.post(reverse("sign_out"))
    again = Client()
    assert password_step(again, "newcomer")["Location"] == reverse("mfa_authenticate")


def test_two_factor_cannot_be_turned_off(world: World) -> None:
    client = Client()
    client.force_login(world.raiser)
    response = client.get(reverse("mfa_deactivate_totp"))
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_index")
    assert client.post(reverse("mfa_deactivate_totp")).status_code in (302, 405)
    assert Authenticator.objects.filter(user=world.raiser).exists()


# -- django-axes ----------------------------------------------------------------------------


def assert_locked_out(response: Any) -> None:
    assert response.status_code == 429
    body = response.content.decode()
    assert "Sign-in locked for 5 minutes" in body
    assert "govuk-heading-l" in body  # the service's page, not a bare message


def test_ten_failures_for_one_account_lock_it_from_every_address(world: World) -> None:
    client = Client()
    for attempt in range(9):
        response = password_step(
            client, "a_practitioner", "wrong-password", REMOTE_ADDR=f"10.0.0.{attempt + 1}"
        )
        assert response.status_code == 200, attempt
    assert_locked_out(password_step(client, "a_practitioner", "wrong", REMOTE_ADDR="10.0.0.10"))
    # Even the right password, from a new address, is refused during the lock.
    assert_locked_out(password_step(Client(), "a_practitioner", REMOTE_ADDR="10.9.9.9"))
    # Other people are not affected.
    response = password_step(Client(), "b_practitioner", REMOTE_ADDR="10.9.9.9")
    assert response["Location"] == reverse("mfa_authenticate")


def test_ten_failures_from_one_address_lock_that_address(world: World) -> None:
    names = [name for name in world.people if name.startswith(("a_", "b_", "c_"))][:10]
    for name in names[:9]:
        assert password_step(Client(), name, "wrong-password").status_code == 200
    assert_locked_out(password_step(Client(), names[9], "wrong-password"))
    # Someone else, from that address, with the right password: still locked.
    assert_locked_out(password_step(Client(), "business_manager"))
    # From another address they sign in.
    response = password_step(Client(), "business_manager", REMOTE_ADDR="192.0.2.7")
    assert response["Location"] == reverse("mfa_authenticate")


def test_the_lock_lifts_after_five_minutes(world: World) -> None:
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for attempt in range(10):
            password_step(Client(), "a_practitioner", "wrong", REMOTE_ADDR=f"10.1.0.{attempt}")
        assert_locked_out(password_step(Client(), "a_practitioner", REMOTE_ADDR="10.2.0.1"))
        traveller.shift(timedelta(minutes=4))
        assert_locked_out(password_step(Client(), "a_practitioner", REMOTE_ADDR="10.2.0.2"))
        traveller.shift(timedelta(minutes=5, seconds=1))
        response = password_step(Client(), "a_practitioner", REMOTE_ADDR="10.2.0.3")
        assert response["Location"] == reverse("mfa_authenticate")


def test_failures_more_than_five_minutes_apart_do_not_add_up(world: World) -> None:
    """django-axes counts failures until 5 minutes pass without one (stricter than a fixed
    5-minute window: it never allows more than 10 within any 5 minutes)."""
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for attempt in range(12):
            response = password_step(Client(), "a_practitioner", "wrong", REMOTE_ADDR="10.3.0.1")
            assert response.status_code == 200, attempt
            traveller.shift(timedelta(minutes=5, seconds=1))
        response = password_step(Client(), "a_practitioner", REMOTE_ADDR="10.3.0.1")
        assert response["Location"] == reverse("mfa_authenticate")


def test_an_unknown_username_counts_too(world: World) -> None:
    for _ in range(9):
        assert (
            password_step(Client(), "nobody-here", "x", REMOTE_ADDR="10.4.0.1").status_code == 200
        )
    assert_locked_out(password_step(Client(), "nobody-here", "x", REMOTE_ADDR="10.4.0.2"))
    assert get_user_model().objects.filter(username="nobody-here").count() == 0


def test_allauth_applies_the_password_rules(world: World) -> None:
    from allauth.account.adapter import get_adapter
    from django.core.exceptions import ValidationError

    adapter = get_adapter()
    for weak in ("short-pw-11", "123456789012", "password1234"):
        with pytest.raises(ValidationError):
            adapter.clean_password(weak, user=world.raiser)
    assert adapter.clean_password("a-long-enough-passphrase", user=world.raiser)
