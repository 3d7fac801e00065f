"""Re-authentication before a case record PDF or a report download, after the visibility
check: someone who may not see the case (or the reports) still gets 404, never the prompt."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from escalations.states import Status
from tests.conftest import World
from tests.factories.differences import difference_at
from tests.support.mfa import totp_code

pytestmark = pytest.mark.django_db

PASSWORD = "a-test-password-123"
PERIOD = {"period": "custom", "start_day": "1", "start_month": "4", "start_year": "2026",
          "end_day": "30", "end_month": "9", "end_year": "2026"}  # fmt: skip


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def assert_asks_to_reauthenticate(response: Any, then: str) -> str:
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == reverse("account_reauthenticate")
    assert parse_qs(location.query)["next"] == [then]
    return response["Location"]


def test_the_case_record_pdf_asks_for_the_password_then_downloads(world: World) -> None:
    case = difference_at(world, Status.STAGE_2)
    url = reverse("case_record_pdf", kwargs={"pk": case.pk})
    client = signed_in(world.a_line_manager)
    prompt = assert_asks_to_reauthenticate(client.get(url), url)
    page = client.get(prompt)
    assert page.status_code == 200
    assert "Confirm it is you" in page.content.decode()
    wrong = client.post(prompt, {"password": "not-my-password", "next": url})
    assert wrong.status_code == 200
    assert "govuk-error-summary" in wrong.content.decode()
    response = client.post(prompt, {"password": PASSWORD, "next": url})
    assert response.status_code == 302
    assert response["Location"] == url
    download = client.get(url)
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"


def test_an_authenticator_code_also_reauthenticates(world: World) -> None:
    case = difference_at(world, Status.STAGE_2)
    url = reverse("case_record_pdf", kwargs={"pk": case.pk})
    client = signed_in(world.a_line_manager)
    prompt = f"{reverse('mfa_reauthenticate')}?next={url}"
    response = client.post(prompt, {"code": totp_code(), "next": url})
    assert response.status_code == 302
    assert response["Location"] == url
    assert client.get(url).status_code == 200


def test_the_reauthentication_lasts_ten_minutes(world: World) -> None:
    case = difference_at(world, Status.STAGE_2)
    url = reverse("case_record_pdf", kwargs={"pk": case.pk})
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        client = signed_in(world.a_line_manager)
        client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
        traveller.shift(timedelta(minutes=9))
        assert client.get(url).status_code == 200
        traveller.shift(timedelta(minutes=1, seconds=1))
        assert_asks_to_reauthenticate(client.get(url), url)


@pytest.mark.parametrize("person", ["a_other_practitioner", "c_practitioner", "d_director"])
def test_a_case_they_may_not_see_is_404_not_a_prompt(world: World, person: str) -> None:
    case = difference_at(world, Status.STAGE_2)
    client = signed_in(world.people[person])
    assert client.get(reverse("case_record_pdf", kwargs={"pk": case.pk})).status_code == 404
    assert client.get(reverse("case_record_pdf", kwargs={"pk": 999_999})).status_code == 404


def test_the_blank_form_needs_no_reauthentication(world: World) -> None:
    assert signed_in(world.raiser).get(reverse("blank_record_pdf")).status_code == 200


def test_a_report_download_asks_for_the_password_then_downloads(world: World) -> None:
    client = signed_in(world.business_manager)
    url = reverse("report_download", args=["csv"])
    response = client.get(url, PERIOD)
    full = f"{url}?{response.wsgi_request.GET.urlencode()}"
    prompt = assert_asks_to_reauthenticate(response, full)
    back = client.post(prompt, {"password": PASSWORD, "next": full})
    assert back["Location"] == full
    download = client.get(back["Location"])
    assert download.status_code == 200
    assert download["Content-Type"].startswith("text/csv")


@pytest.mark.parametrize("person", ["a_practitioner", "q_final_body_member", "outsider"])
def test_reports_they_may_not_read_are_404_not_a_prompt(world: World, person: str) -> None:
    client = signed_in(world.people[person])
    for fmt in ("csv", "xlsx", "pdf"):
        assert client.get(reverse("report_download", args=[fmt]), PERIOD).status_code == 404


def test_another_partnerships_report_is_404_not_a_prompt(world: World) -> None:
    client = signed_in(world.q_business_manager)
    query = {**PERIOD, "partnership": world.partnership.pk}
    assert client.get(reverse("report_download", args=["csv"]), query).status_code == 404
