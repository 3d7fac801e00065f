"""Sessions: 30 minutes idle, 12 hours at most, and sign-out or deactivation ends them all."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import SignedInSession
from agencies.models import AgencyMembership
from agencies.services import agency_membership_revoke
from escalations.states import Status
from tests.conftest import World
from tests.factories.differences import difference_at
from tests.support.mfa import forget_used_code, totp_code

pytestmark = pytest.mark.django_db


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def is_signed_in(client: Client) -> bool:
    response = client.get(reverse("home"))
    if response.status_code == 200:
        return True
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("sign_in"))
    return False


def test_sessions_live_in_the_database(world: World) -> None:
    client = signed_in(world.raiser)
    assert Session.objects.filter(session_key=client.session.session_key).exists()


def test_thirty_minutes_idle_ends_the_session(world: World) -> None:
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        client = signed_in(world.raiser)
        assert is_signed_in(client)
        traveller.shift(timedelta(minutes=29))
        assert is_signed_in(client)  # and the request renews the 30 minutes
        traveller.shift(timedelta(minutes=29))
        assert is_signed_in(client)
        traveller.shift(timedelta(minutes=30, seconds=1))
        assert not is_signed_in(client)


def _expiry(client: Client) -> Any:
    return Session.objects.get(session_key=client.cookies["sessionid"].value).expire_date


def test_the_idle_expiry_is_renewed_once_a_minute_not_written_on_every_request(
    world: World,
) -> None:
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        client = signed_in(world.raiser)
        assert is_signed_in(client)
        renewed = _expiry(client)
        assert renewed == timezone.now() + timedelta(minutes=30)
        traveller.shift(timedelta(seconds=59))
        with CaptureQueriesContext(connection) as queries:
            assert is_signed_in(client)
        assert not [q for q in queries if "UPDATE" in q["sql"] and "django_session" in q["sql"]]
        assert _expiry(client) == renewed
        traveller.shift(timedelta(seconds=1))
        assert is_signed_in(client)
        assert _expiry(client) == timezone.now() + timedelta(minutes=30)


def test_requests_within_the_minute_never_stretch_the_idle_limit(world: World) -> None:
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        client = signed_in(world.raiser)
        assert is_signed_in(client)  # renewed: 30 minutes from now
        traveller.shift(timedelta(seconds=50))
        assert is_signed_in(client)  # not renewed
        traveller.shift(timedelta(minutes=29, seconds=10, microseconds=1))
        # 30 minutes after the renewal, 29 min 10 s after the last request: ended.
        assert not is_signed_in(client)


def test_an_anonymous_request_makes_no_session(world: World) -> None:
    client = Client()
    response = client.get(reverse("sign_in"))
    assert response.status_code == 200
    assert "sessionid" not in response.cookies
    assert not Session.objects.exists()


def test_twelve_hours_after_sign_in_the_session_ends_however_active(world: World) -> None:
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        client = signed_in(world.raiser)
        for _ in range(28):  # every 25 minutes: never idle for 30
            traveller.shift(timedelta(minutes=25))
            assert is_signed_in(client)
        # 11 h 40 min so far
        traveller.shift(timedelta(minutes=19))
        assert is_signed_in(client)
        traveller.shift(timedelta(minutes=2))  # 12 h 1 min
        response = client.get(reverse("case_list"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("sign_in"))
        page = client.get(response["Location"])
        assert "a session lasts at most 12 hours" in page.content.decode()
        assert not is_signed_in(client)


def test_a_session_without_a_recorded_sign_in_time_is_ended(world: World) -> None:
    client = signed_in(world.raiser)
    session = client.session
    del session["accounts.signed_in_at"]
    session.save()
    assert not is_signed_in(client)


def test_signing_out_ends_every_session_of_that_person(world: World) -> None:
    laptop = signed_in(world.raiser)
    phone = signed_in(world.raiser)
    colleague = signed_in(world.a_line_manager)
    assert is_signed_in(laptop) and is_signed_in(phone)
    assert SignedInSession.objects.filter(user=world.raiser).count() == 2
    response = laptop.post(reverse("sign_out"))
    assert response.status_code == 302
    assert not is_signed_in(laptop)
    assert not is_signed_in(phone)
    assert is_signed_in(colleague)
    assert not SignedInSession.objects.filter(user=world.raiser).exists()


def test_signing_out_through_the_real_sign_in_ends_every_session(world: World) -> None:
    clients = []
    for _ in range(2):
        client = Client()
        client.post(
            reverse("sign_in"), {"login": "b_practitioner", "password": "a-test-password-123"}
        )
        code = totp_code()
        client.post(reverse("mfa_authenticate"), {"code": code})
        # Each code works once: forget its use so the second device may sign in this window.
        forget_used_code(world.b_practitioner, code)
        assert is_signed_in(client)
        clients.append(client)
    clients[1].post(reverse("sign_out"))
    assert not is_signed_in(clients[0])


def test_sign_out_is_post_only(world: World) -> None:
    client = signed_in(world.raiser)
    page = client.get(reverse("sign_out"))
    assert page.status_code == 200  # a confirmation page, nothing ended
    assert is_signed_in(client)


def test_deactivating_a_person_ends_all_their_sessions_at_once(world: World) -> None:
    laptop = signed_in(world.raiser)
    phone = signed_in(world.raiser)
    keys = [laptop.session.session_key, phone.session.session_key]
    world.raiser.is_active = False
    world.raiser.save()
    assert not Session.objects.filter(session_key__in=keys).exists()
    assert not is_signed_in(laptop)
    assert not is_signed_in(phone)


def test_deactivating_in_the_admin_ends_their_sessions(world: World) -> None:
    victim = signed_in(world.raiser)
    admin = signed_in(world.superuser)
    change = reverse("admin:auth_user_change", args=[world.raiser.pk])
    page = admin.get(change)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {
        key: value
        for key, value in form.initial.items()
        if value is not None and key not in ("password", "groups", "user_permissions")
    }
    # The "Active" box unticked (an unticked box is simply absent from the post).
    del data["is_active"]
    joined = timezone.localtime(data.pop("date_joined"))
    data.pop("last_login", None)
    data.update({"date_joined_0": f"{joined:%Y-%m-%d}", "date_joined_1": f"{joined:%H:%M:%S}"})
    response = admin.post(change, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    world.raiser.refresh_from_db()
    assert not world.raiser.is_active
    assert not is_signed_in(victim)


def test_losing_agency_membership_loses_the_case_on_the_very_next_request(world: World) -> None:
    case = difference_at(world, Status.STAGE_1)
    client = signed_in(world.a_line_manager)
    detail = reverse("case_detail", kwargs={"pk": case.pk})
    assert client.get(detail).status_code == 200
    membership = AgencyMembership.objects.get(user=world.a_line_manager, agency=world.agency_a)
    agency_membership_revoke(membership=membership)
    assert client.get(detail).status_code == 404
    assert client.get(reverse("case_record_pdf", kwargs={"pk": case.pk})).status_code == 404


def test_expired_sessions_are_forgotten_at_the_next_sign_in(world: World) -> None:
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        old = signed_in(world.raiser)
        old_key = old.session.session_key
        traveller.shift(timedelta(minutes=31))
        new = signed_in(world.raiser)
        keys = set(
            SignedInSession.objects.filter(user=world.raiser).values_list("session_key", flat=True)
        )
        assert keys == {new.session.session_key}
        assert old_key not in keys
