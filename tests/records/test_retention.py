"""Retention: the daily scan lists closed cases past retention; an administrator confirms;
anonymising leaves no identifying detail and keeps the report's figures."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import ProgrammingError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from agencies.models import PartnershipRole
from agencies.services import partnership_membership_grant
from escalations.errors import DifferenceRefused
from escalations.models import (
    Action,
    Child,
    NamedProfessional,
    Notification,
    ProfessionalDifference,
    StageEntry,
)
from escalations.states import Status
from records import retention
from records.models import AuditEvent, Entry
from reports.periods import Period
from reports.report import monitoring_report
from tests.conftest import World, build_world
from tests.factories.differences import difference_at, raise_difference
from tests.factories.directory import UserFactory
from tests.records.retention_world import IDENTIFYING, closed_case

LATER = timedelta(days=8 * 366)  # past the default 7 years


def later() -> Any:
    return timezone.now() + LATER


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _due_pks(world: World, now: Any) -> set[int]:
    return {c.pk for c in retention.differences_due_for_anonymisation(world.administrator, now=now)}


def test_a_closed_case_past_retention_is_listed_by_the_scan(world: World) -> None:
    case = closed_case(world)
    now = later()

    assert retention.retention_scan(now=now) == 1
    assert retention.retention_scan(now=now) == 0  # nothing is marked twice

    assert _due_pks(world, now) == {case.pk}


def test_open_recent_and_held_cases_are_not_listed(world: World) -> None:
    open_case = raise_difference(world)
    recent = difference_at(world, Status.CLOSED)
    held = difference_at(world, Status.CLOSED)
    retention.difference_legal_hold_set(
        actor=world.administrator, difference_id=held.pk, on_hold=True, reason="Litigation."
    )
    now = later()
    ProfessionalDifference.objects.filter(pk=recent.pk).update(closed_at=now - LATER / 2)

    retention.retention_scan(now=now)

    due = _due_pks(world, now)
    assert open_case.pk not in due and recent.pk not in due and held.pk not in due


def test_a_case_is_listed_only_after_the_scan_and_only_for_its_own_administrators(
    world: World,
) -> None:
    case = closed_case(world)
    now = later()
    assert _due_pks(world, now) == set()
    retention.retention_scan(now=now)
    q_admin = UserFactory(username="q_administrator")
    partnership_membership_grant(
        user=q_admin, partnership=world.other_partnership, role=PartnershipRole.ADMINISTRATOR
    )
    assert retention.differences_due_for_anonymisation(q_admin, now=now) == []
    with pytest.raises(DifferenceRefused):
        retention.difference_anonymise(actor=q_admin, difference_id=case.pk, now=now)


def test_a_shorter_retention_period_lists_sooner(world: World) -> None:
    case = closed_case(world)
    world.partnership.retention_years = 1
    world.partnership.save()
    now = timezone.now() + timedelta(days=400)
    retention.retention_scan(now=now)
    assert _due_pks(world, now) == {case.pk}


def _everything_text(case: ProfessionalDifference) -> str:
    """Every stored value about the case, as one string."""
    rows: list[Any] = [
        list(ProfessionalDifference.objects.filter(pk=case.pk).values()),
        list(Child.objects.filter(difference=case).values()),
        list(NamedProfessional.objects.filter(difference=case).values()),
        list(Action.objects.filter(difference=case).values()),
        list(StageEntry.objects.filter(difference=case).values()),
        list(Entry.objects.filter(difference=case).values()),
        list(Notification.objects.filter(difference=case).values()),
        list(AuditEvent.objects.filter(difference=case).values()),
    ]
    return json.dumps(rows, default=str)


def _report_figures(world: World) -> dict[str, Any]:
    today = timezone.localdate()
    period = Period(first_day=today - timedelta(days=60), last_day=today + timedelta(days=1))
    report = dataclasses.asdict(monitoring_report(world.partnership, period))
    report.pop("generated_at")
    # Lists of free text: their number is a figure, their words are not kept.
    for key in ("actions", "amendments"):
        report[key] = [
            tuple(value for value in row if not isinstance(value, str)) for row in report[key]
        ]
    return report


def _anonymise_everywhere(world: World) -> ProfessionalDifference:
    case = closed_case(world)
    for name in IDENTIFYING[:3]:
        assert name in _everything_text(case)
    now = later()
    retention.retention_scan(now=now)
    return retention.difference_anonymise(actor=world.administrator, difference_id=case.pk, now=now)


def test_anonymising_leaves_no_name_date_of_birth_or_free_text(world: World) -> None:
    case = closed_case(world)
    assert all(text in _everything_text(case) for text in ("Amira", "Dana Officer", "Elm Road"))
    before = _report_figures(world)
    entries = Entry.objects.filter(difference=case).count()
    now = later()
    retention.retention_scan(now=now)

    done = retention.difference_anonymise(actor=world.administrator, difference_id=case.pk, now=now)

    stored = _everything_text(case)
    for identifying in IDENTIFYING:
        assert identifying not in stored, identifying
    assert done.anonymised_at == now and done.anonymised_by == world.administrator
    assert set(Child.objects.filter(difference=case).values_list("date_of_birth", flat=True)) == {
        None
    }
    assert (
        not Entry.objects.filter(difference=case).exclude(facts="", opinion="", reason="").exists()
    )
    assert not NamedProfessional.objects.filter(difference=case, user__isnull=False).exists()
    assert AuditEvent.objects.filter(difference=case, action="case_anonymised").exists()
    # The rows the report counts are all still there, and it gives the same figures.
    assert _report_figures(world) == before
    assert Entry.objects.filter(difference=case).count() == entries


def test_legal_hold_stops_anonymisation(world: World) -> None:
    case = closed_case(world)
    now = later()
    retention.retention_scan(now=now)
    retention.difference_legal_hold_set(
        actor=world.administrator, difference_id=case.pk, on_hold=True, reason="Civil claim."
    )

    with pytest.raises(DifferenceRefused, match="legal hold"):
        retention.difference_anonymise(actor=world.administrator, difference_id=case.pk, now=now)
    assert "Amira" in _everything_text(case)
    assert _due_pks(world, now) == set()

    held = ProfessionalDifference.objects.get(pk=case.pk)
    assert (held.legal_hold_set_by, held.legal_hold_reason) == (world.administrator, "Civil claim.")
    # Lifted, the next scan lists it again.
    retention.difference_legal_hold_set(
        actor=world.administrator, difference_id=case.pk, on_hold=False, reason="Claim settled."
    )
    retention.retention_scan(now=now)
    assert _due_pks(world, now) == {case.pk}


def test_a_case_not_listed_cannot_be_anonymised(world: World) -> None:
    case = closed_case(world)
    with pytest.raises(DifferenceRefused, match="not due"):
        retention.difference_anonymise(actor=world.administrator, difference_id=case.pk)


def test_anonymising_works_with_the_chronology_trigger_on_postgresql(postgres: None) -> None:
    world = build_world()
    case = _anonymise_everywhere(world)
    for identifying in IDENTIFYING:
        assert identifying not in _everything_text(case)
    # The switch ended with the anonymisation: the chronology is append-only again.
    entry = Entry.objects.filter(difference=case).first()
    assert entry is not None
    with pytest.raises(ProgrammingError, match="append-only"), transaction.atomic():
        Entry.objects.filter(pk=entry.pk).update(facts="")


def test_the_trigger_allows_only_blanking_text_when_anonymising(postgres: None) -> None:
    world = build_world()
    case = closed_case(world)
    entry = Entry.objects.filter(difference=case).exclude(facts="").first()
    assert entry is not None
    for change in (
        {"facts": "Rewritten history."},
        {"kind": "meeting", "facts": ""},
        {"occurred_at": timezone.now(), "facts": ""},
        {"author_name": "Someone else"},
    ):
        with pytest.raises(ProgrammingError), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL records.anonymising = 'on'")
            Entry.objects.filter(pk=entry.pk).update(**change)
    with pytest.raises(ProgrammingError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL records.anonymising = 'on'")
        Entry.objects.filter(pk=entry.pk).delete()
    assert Entry.objects.get(pk=entry.pk).facts == entry.facts


def test_the_daily_task_is_scheduled_and_has_a_command_twin(world: World) -> None:
    schedule = settings.CELERY_BEAT_SCHEDULE["scan-retention"]
    assert schedule["task"] == "records.tasks.scan_retention"
    from records.tasks import scan_retention

    closed_case(world)
    ProfessionalDifference.objects.update(closed_at=timezone.now() - LATER)
    assert scan_retention.delay().get() == 1
    ProfessionalDifference.objects.update(anonymisation_due_at=None)
    from io import StringIO

    out = StringIO()
    call_command("retention_scan", stdout=out)
    assert "1 case(s)" in out.getvalue()


# -- the pages -----------------------------------------------------------------------------


def _due_case(world: World) -> ProfessionalDifference:
    case = closed_case(world)
    ProfessionalDifference.objects.filter(pk=case.pk).update(closed_at=timezone.now() - LATER)
    retention.retention_scan()
    return case


def test_the_administrator_confirms_on_the_page_and_the_case_is_anonymised(world: World) -> None:
    case = _due_case(world)
    client = signed_in(world.administrator)

    listed = client.get(reverse("retention_due"))
    unconfirmed = client.post(reverse("retention_anonymise", args=[case.pk]), {})
    confirmed = client.post(reverse("retention_anonymise", args=[case.pk]), {"confirm": "on"})

    assert case.reference in listed.content.decode()
    assert unconfirmed.status_code == 200
    assert "Confirm that this case should be anonymised" in unconfirmed.content.decode()
    assert confirmed.status_code == 302
    assert ProfessionalDifference.objects.get(pk=case.pk).anonymised_at is not None
    assert "Amira" not in _everything_text(case)
    again = client.get(reverse("retention_anonymise", args=[case.pk]))
    assert retention.ALREADY_ANONYMISED in again.content.decode()


def test_the_administrator_sets_a_legal_hold_on_the_page_with_a_reason(world: World) -> None:
    case = _due_case(world)
    client = signed_in(world.administrator)
    url = reverse("retention_legal_hold", args=[case.pk])

    missing = client.post(url, {"on_hold": "yes", "reason": ""})
    too_long = client.post(url, {"on_hold": "yes", "reason": "x" * 2001})
    saved = client.post(url, {"on_hold": "yes", "reason": "Inquiry."})

    assert "Enter why the case is on legal hold" in missing.content.decode()
    assert "2000 characters or fewer" in too_long.content.decode()
    assert saved.status_code == 302
    assert ProfessionalDifference.objects.get(pk=case.pk).legal_hold
    found = client.get(reverse("retention_due"), {"reference": case.reference})
    assert found.status_code == 302
    unknown = client.get(reverse("retention_due"), {"reference": "PD-1999-1"})
    assert "No case in your partnership has that reference" in unknown.content.decode()


# -- fuzz: no input gives a server error or a partial write --------------------------------

FUZZ = hypothesis_settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(
    on_hold=st.one_of(st.sampled_from(["yes", "no", "", "maybe"]), st.text(max_size=5)),
    reason=st.text(max_size=2100),
)
def test_any_legal_hold_input_is_saved_whole_or_refused_with_nothing_written(
    world: World, on_hold: str, reason: str
) -> None:
    case = ProfessionalDifference.objects.order_by("pk").first() or difference_at(
        world, Status.CLOSED
    )
    audits = AuditEvent.objects.filter(action__startswith="legal_hold").count()
    client = signed_in(world.administrator)

    response = client.post(
        reverse("retention_legal_hold", args=[case.pk]), {"on_hold": on_hold, "reason": reason}
    )

    after = ProfessionalDifference.objects.get(pk=case.pk)
    if response.status_code == 302:
        assert after.legal_hold == (on_hold == "yes")
        assert after.legal_hold_reason == reason.strip()
        assert AuditEvent.objects.filter(action__startswith="legal_hold").count() == audits + 1
    else:
        assert response.status_code == 200
        assert AuditEvent.objects.filter(action__startswith="legal_hold").count() == audits


@FUZZ
@given(
    name=st.text(max_size=250),
    day=st.text(max_size=4),
    month=st.text(max_size=4),
    year=st.text(max_size=6),
    person=st.text(max_size=200),
    case=st.text(max_size=30),
)
def test_any_search_or_filter_input_answers_without_a_server_error(
    world: World, name: str, day: str, month: str, year: str, person: str, case: str
) -> None:
    client = signed_in(world.administrator)
    search = client.get(
        reverse("subject_access_search"),
        {
            "name": name,
            "date_of_birth_day": day,
            "date_of_birth_month": month,
            "date_of_birth_year": year,
        },
    )
    log = client.get(reverse("access_log"), {"person": person, "case": case})
    found = client.get(reverse("retention_due"), {"reference": case})
    assert search.status_code == 200
    assert log.status_code == 200
    assert found.status_code in (200, 302)


def test_the_case_page_says_when_a_case_was_anonymised(world: World) -> None:
    case = _anonymise_everywhere(world)
    response = signed_in(world.business_manager).get(reverse("case_detail", args=[case.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Anonymised on" in page
    assert "Amira" not in page and "Dana Officer" not in page
