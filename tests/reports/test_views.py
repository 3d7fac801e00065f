"""The report page and its downloads: who may see them, bad input, constant queries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from escalations.models import Action, Party, StageEntry
from escalations.states import Status
from records.models import AuditEvent
from reports.models import CaseLearningTheme, CaseOutcome
from tests.conftest import World
from tests.factories.differences import DifferenceFactory
from tests.reports.conftest import Fixture, at
from tests.support.mfa import reauthenticate

pytestmark = pytest.mark.django_db

PERIOD_QUERY = {"period": "custom", "start_day": "1", "start_month": "4", "start_year": "2026",
                "end_day": "30", "end_month": "9", "end_year": "2026"}  # fmt: skip


def signed_in(client: Client, user: Any) -> Client:
    """Signed in and freshly re-authenticated, as a download needs."""
    client.force_login(user)
    reauthenticate(client)
    return client


@pytest.mark.parametrize(
    "person",
    [
        "a_practitioner",
        "a_line_manager",
        "a_safeguarding_lead",
        "a_senior_manager",
        "a_director",
        "b_line_manager",
        "final_body_member",
        "q_final_body_member",
        "outsider",
    ],
)
def test_everyone_but_the_business_manager_and_administrator_gets_404(
    world: World, client: Client, person: str
) -> None:
    signed_in(client, getattr(world, person))
    assert client.get(reverse("report")).status_code == 404
    for fmt in ("csv", "xlsx", "pdf"):
        assert client.get(reverse("report_download", args=[fmt])).status_code == 404


def test_another_partnerships_business_manager_cannot_ask_for_this_one(
    world: World, client: Client
) -> None:
    signed_in(client, world.q_business_manager)
    own = client.get(reverse("report"))
    assert own.status_code == 200
    assert own.context["partnership"] == world.other_partnership
    query = {"partnership": world.partnership.pk}
    assert client.get(reverse("report"), query).status_code == 404
    assert client.get(reverse("report_download", args=["csv"]), query).status_code == 404
    signed_in(client, world.business_manager)
    query = {"partnership": world.other_partnership.pk}
    assert client.get(reverse("report"), query).status_code == 404
    assert client.get(reverse("report"), {"partnership": "abc"}).status_code == 404


def test_signed_out_people_are_sent_to_sign_in(client: Client) -> None:
    response = client.get(reverse("report"))
    assert response.status_code == 302
    assert "/sign-in/" in response["Location"]


@pytest.mark.parametrize("person", ["business_manager", "administrator"])
def test_the_business_manager_and_the_administrator_see_the_report(
    world: World, client: Client, person: str
) -> None:
    signed_in(client, getattr(world, person))
    with time_machine.travel(at(2026, 11, 21, 12), tick=False):
        response = client.get(reverse("report"))
    assert response.status_code == 200
    html = response.content.decode()
    # The default: the last complete half-year.
    assert "1 April 2026 to 30 September 2026" in html
    assert "Compared with 1 October 2025 to 31 March 2026" in html
    assert "Headline figures" in html


def test_the_exact_numbers_box_is_for_administrators_only(world: World, client: Client) -> None:
    signed_in(client, world.business_manager)
    assert 'name="exact"' not in client.get(reverse("report")).content.decode()
    signed_in(client, world.administrator)
    assert 'name="exact"' in client.get(reverse("report")).content.decode()


def test_someone_in_two_partnerships_chooses_which(world: World, client: Client) -> None:
    from agencies.models import PartnershipRole
    from agencies.services import partnership_membership_grant

    partnership_membership_grant(
        user=world.business_manager,
        partnership=world.other_partnership,
        role=PartnershipRole.BUSINESS_MANAGER,
    )
    signed_in(client, world.business_manager)
    html = client.get(reverse("report")).content.decode()
    assert 'name="partnership"' in html and "Partnership Q" in html
    response = client.get(reverse("report"), {"partnership": world.other_partnership.pk})
    assert response.status_code == 200
    assert response.context["partnership"] == world.other_partnership


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"period": "custom"}, "Enter the date the period starts"),
        (
            {"period": "custom", "start_day": "31", "start_month": "2", "start_year": "2026",
             "end_day": "1", "end_month": "3", "end_year": "2026"},
            "Start date must be a real date",
        ),
        (
            {"period": "custom", "start_day": "1", "start_month": "4", "start_year": "2026",
             "end_day": "1", "end_month": "3", "end_year": "2026"},
            "The date the period ends must be the same as or after the date it starts",
        ),
        (
            {"period": "custom", "start_day": "x", "start_month": "4", "start_year": "2026",
             "end_day": "1", "end_month": "", "end_year": "2026"},
            "End date must include a month",
        ),
        (
            {"period": "custom", "start_day": "1", "start_month": "1", "start_year": "2000",
             "end_day": "1", "end_month": "1", "end_year": "2026"},
            "The period must be 5 years or shorter",
        ),
        ({"period": "1999"}, "Select a valid choice"),
    ],
)  # fmt: skip
def test_bad_period_input_shows_the_error_summary(
    world: World, client: Client, query: dict[str, str], message: str
) -> None:
    signed_in(client, world.business_manager)
    response = client.get(reverse("report"), query)
    assert response.status_code == 200
    html = response.content.decode()
    assert "govuk-error-summary" in html
    assert message in html
    assert "<title>Error: " in html
    assert "Headline figures" not in html
    # A download with the same bad input goes back to the page (which shows the errors).
    download = client.get(reverse("report_download", args=["csv"]), query)
    assert download.status_code == 302


def test_a_custom_period_keeps_what_was_typed(world: World, client: Client) -> None:
    signed_in(client, world.business_manager)
    response = client.get(reverse("report"), PERIOD_QUERY)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="start_year" type="text" inputmode="numeric" value="2026"' in html
    assert "1 April 2026 to 30 September 2026" in html


def _more_cases(world: World, n: int) -> None:
    """``n`` more cases of every kind in the period (rows written directly: fast)."""
    for i in range(n):
        raised = at(2026, 4, 6, 9) + timedelta(days=i % 150, hours=i % 7)
        concluded = i % 3 == 0
        case = DifferenceFactory(
            raised_by=world.raiser,
            raiser_agency=world.agency_a,
            raised_at=raised,
            status=Status.CLOSED if concluded else Status.STAGE_2,
            stage=Status.STAGE_2,
            highest_stage=Status.STAGE_2,
            outcome_at=raised + timedelta(days=9) if concluded else None,
            closed_at=raised + timedelta(days=12) if concluded else None,
            is_urgent=i % 5 == 0,
            protocol_amendment_recommended=concluded,
            protocol_amendment_note=f"Amendment {i}" if concluded else "",
            other_agencies=[world.agency_b, world.agency_c][: 1 + i % 2],
        )
        StageEntry.objects.create(
            difference=case,
            stage=Status.STAGE_2,
            track="standard",
            entered_at=raised,
            due_at=raised + timedelta(days=7),
            left_at=raised + timedelta(days=9) if concluded else None,
            breached_at=raised + timedelta(days=8) if i % 2 else None,
        )
        if concluded:
            CaseOutcome.objects.create(
                difference=case, outcome=Status.RESOLVED, recorded_at=raised + timedelta(days=9)
            )
            Action.objects.create(
                difference=case,
                description=f"Action {i}",
                owner="Owner",
                recorded_by=world.raiser,
                recorded_at=raised + timedelta(days=9),
            )
    assert Party.objects.count() > n


def _queries(client: Client, url: str, query: dict[str, str]) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, query)
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_the_report_runs_a_constant_number_of_queries(monitoring: Fixture, client: Client) -> None:
    world = monitoring.world
    signed_in(client, world.business_manager)
    url = reverse("report")
    _queries(client, url, PERIOD_QUERY)  # warm caches (content types, sessions)
    small = _queries(client, url, PERIOD_QUERY)
    small_csv = _queries(client, reverse("report_download", args=["csv"]), PERIOD_QUERY)
    small_xlsx = _queries(client, reverse("report_download", args=["xlsx"]), PERIOD_QUERY)
    small_pdf = _queries(client, reverse("report_download", args=["pdf"]), PERIOD_QUERY)
    _more_cases(world, 60)
    theme = next(iter(monitoring.themes.values()))
    for case in world.partnership.differences.filter(status=Status.CLOSED)[:10]:
        CaseLearningTheme.objects.get_or_create(difference=case, theme=theme)
    large = _queries(client, url, PERIOD_QUERY)
    large_csv = _queries(client, reverse("report_download", args=["csv"]), PERIOD_QUERY)
    large_xlsx = _queries(client, reverse("report_download", args=["xlsx"]), PERIOD_QUERY)
    large_pdf = _queries(client, reverse("report_download", args=["pdf"]), PERIOD_QUERY)
    assert small == large
    assert small_csv == large_csv
    assert small_xlsx == large_xlsx
    assert small_pdf == large_pdf
    assert large <= 33  # with the session and access-audit bookkeeping of every request


def test_downloads_are_recorded_in_the_audit_trail(monitoring: Fixture, client: Client) -> None:
    signed_in(client, monitoring.world.business_manager)
    response = client.get(reverse("report_download", args=["csv"]), PERIOD_QUERY)
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="monitoring-report-2026-04-01-to-2026-09-30.csv"'
    )
    event = AuditEvent.objects.get(action="monitoring report downloaded")
    assert event.actor == monitoring.world.business_manager
    assert event.difference is None
    assert "CSV" in event.detail


def test_an_unknown_format_is_404(world: World, client: Client) -> None:
    signed_in(client, world.business_manager)
    assert client.get(reverse("report_download", args=["docx"])).status_code == 404


def test_names_are_escaped_in_the_page_and_the_charts(monitoring: Fixture, client: Client) -> None:
    world = monitoring.world
    world.agency_b.name = '<script>alert("b")</script>'
    world.agency_b.save()
    signed_in(client, world.business_manager)
    html = client.get(reverse("report"), PERIOD_QUERY).content.decode()
    assert '<script>alert("b")' not in html
    assert "&lt;script&gt;alert(" in html
