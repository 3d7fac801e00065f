"""The access audit: who looked at which case, downloaded what, or was refused."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import ProgrammingError, connection, transaction
from django.test import Client, override_settings
from django.urls import reverse

from agencies.models import PartnershipRole
from agencies.services import partnership_membership_grant
from escalations.states import Status
from records.access_log import client_address
from records.models import AccessEvent, AccessOutcome, EntryIsAppendOnly
from tests.conftest import World, build_world
from tests.factories.differences import difference_at, raise_difference
from tests.factories.directory import UserFactory


def signed_in(user: Any) -> Client:
    client = Client(HTTP_USER_AGENT="Mozilla/5.0 " + "x" * 400)
    client.force_login(user)
    return client


def latest() -> AccessEvent:
    return AccessEvent.objects.order_by("-pk").first()  # type: ignore[return-value]


def test_viewing_a_case_page_writes_one_allowed_entry(world: World) -> None:
    case = raise_difference(world)
    client = signed_in(world.raiser)

    response = client.get(reverse("case_detail", args=[case.pk]))

    assert response.status_code == 200
    (event,) = AccessEvent.objects.all()
    assert event.user_id == world.raiser.pk
    assert event.username == world.raiser.get_username()
    assert event.url_name == "case_detail"
    assert event.case_id == case.pk
    assert event.outcome == AccessOutcome.ALLOWED
    assert event.status_code == 200
    assert event.ip_address == "127.0.0.1"
    assert len(event.user_agent) == 200


def test_a_case_the_person_may_not_see_is_recorded_as_denied(world: World) -> None:
    case = raise_difference(world)

    response = signed_in(world.c_practitioner).get(reverse("case_detail", args=[case.pk]))

    assert response.status_code == 404
    event = latest()
    assert (event.user_id, event.case_id, event.outcome, event.status_code) == (
        world.c_practitioner.pk,
        case.pk,
        AccessOutcome.DENIED,
        404,
    )


def test_an_attempt_on_a_case_that_does_not_exist_is_recorded(world: World) -> None:
    response = signed_in(world.outsider).get(reverse("case_record_pdf", args=[987654]))
    assert response.status_code == 404
    event = latest()
    assert (event.url_name, event.case_id, event.outcome) == (
        "case_record_pdf",
        987654,
        AccessOutcome.DENIED,
    )


def test_a_signed_out_visitor_is_recorded_as_denied_with_no_person(world: World) -> None:
    case = raise_difference(world)
    response = Client().get(reverse("case_detail", args=[case.pk]))
    assert response.status_code == 302
    event = latest()
    assert (event.user_id, event.username, event.outcome) == (None, "", AccessOutcome.DENIED)


def test_case_actions_copies_child_chronology_and_pdfs_are_recorded(world: World) -> None:
    case = raise_difference(world)
    entry = case.entries.first()
    child = case.children.first()
    client = signed_in(world.raiser)
    for name, kwargs in (
        ("case_record_entry", {"pk": case.pk}),
        ("case_entry_copy", {"pk": case.pk, "entry_pk": entry.pk}),
        ("child_chronology", {"child_pk": child.pk}),
    ):
        client.get(reverse(name, kwargs=kwargs))
        event = latest()
        assert event.url_name == name
        assert event.outcome == AccessOutcome.ALLOWED
    assert latest().child_id == child.pk
    assert AccessEvent.objects.filter(case_id=case.pk).count() == 2


def test_report_pages_are_recorded_with_their_partnership(world: World) -> None:
    client = signed_in(world.business_manager)
    client.get(reverse("report"))
    event = latest()
    assert (event.url_name, event.partnership_id) == ("report", world.partnership.pk)


def test_pages_about_no_case_are_not_recorded(world: World) -> None:
    signed_in(world.raiser).get(reverse("case_list"))
    signed_in(world.raiser).get("/static/build/app.css")
    assert not AccessEvent.objects.exists()


def test_recording_costs_one_insert_and_no_select(world: World) -> None:
    from django.test.utils import CaptureQueriesContext

    case = raise_difference(world)
    client = signed_in(world.c_practitioner)
    client.get(reverse("case_detail", args=[case.pk]))  # warm the session
    with CaptureQueriesContext(connection) as captured:
        client.get(reverse("case_detail", args=[case.pk]))
    audit = [q["sql"] for q in captured if "records_accessevent" in q["sql"]]
    assert len(audit) == 1 and audit[0].startswith("INSERT")


def test_on_postgresql_an_entry_is_one_round_trip_without_waiting_for_the_disk(
    postgres_transactional: None,
) -> None:
    """Outside any transaction (as under gunicorn), the entry's INSERT goes in one query with
    ``SET LOCAL synchronous_commit TO OFF``: one implicit transaction, which leaves the
    connection's own setting as it was."""
    from django.test.utils import CaptureQueriesContext

    world = build_world()
    case = raise_difference(world)
    client = signed_in(world.raiser)
    client.get(reverse("case_detail", args=[case.pk]))  # warm the session
    before = AccessEvent.objects.count()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("case_detail", args=[case.pk]))
    assert response.status_code == 200
    audit = [q["sql"] for q in captured if "records_accessevent" in q["sql"]]
    assert len(audit) == 1
    assert audit[0].startswith("SET LOCAL synchronous_commit TO OFF; INSERT INTO")
    assert not any(q["sql"] in ("BEGIN", "COMMIT") for q in captured)
    assert AccessEvent.objects.count() == before + 1
    event = latest()
    assert (event.user_id, event.case_id, event.url_name, event.outcome) == (
        world.raiser.pk,
        case.pk,
        "case_detail",
        AccessOutcome.ALLOWED,
    )
    assert event.at is not None and event.ip_address == "127.0.0.1"
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone() == ("on",)


@override_settings(ACCESS_AUDIT_TRUSTED_PROXIES=0)
def test_x_forwarded_for_is_ignored_without_a_trusted_proxy(rf: Any) -> None:
    request = rf.get("/", HTTP_X_FORWARDED_FOR="203.0.113.9", REMOTE_ADDR="10.0.0.5")
    assert client_address(request) == "10.0.0.5"


@override_settings(ACCESS_AUDIT_TRUSTED_PROXIES=1)
def test_behind_one_trusted_proxy_the_address_it_saw_is_recorded(rf: Any) -> None:
    request = rf.get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9", REMOTE_ADDR="10.0.0.5")
    assert client_address(request) == "203.0.113.9"
    forged = rf.get("/", HTTP_X_FORWARDED_FOR="not-an-address", REMOTE_ADDR="10.0.0.5")
    assert client_address(forged) == "10.0.0.5"


def test_an_access_entry_cannot_be_changed_or_deleted_through_the_model(world: World) -> None:
    case = raise_difference(world)
    signed_in(world.raiser).get(reverse("case_detail", args=[case.pk]))
    event = latest()
    with pytest.raises(EntryIsAppendOnly):
        event.save()
    with pytest.raises(EntryIsAppendOnly):
        event.delete()


def test_the_database_refuses_to_update_or_delete_an_access_entry(postgres: None) -> None:
    world = build_world()
    case = raise_difference(world)
    signed_in(world.raiser).get(reverse("case_detail", args=[case.pk]))
    event = latest()
    for attempt in (
        lambda: AccessEvent.objects.filter(pk=event.pk).update(username="someone else"),
        lambda: AccessEvent.objects.filter(pk=event.pk).delete(),
    ):
        with pytest.raises(ProgrammingError, match="append-only"), transaction.atomic():
            attempt()
    with pytest.raises(ProgrammingError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM records_accessevent")
    assert AccessEvent.objects.get(pk=event.pk).username == world.raiser.get_username()


# -- the access log page -----------------------------------------------------------------------


def _q_administrator(world: World) -> Any:
    user = UserFactory(username="q_administrator")
    partnership_membership_grant(
        user=user, partnership=world.other_partnership, role=PartnershipRole.ADMINISTRATOR
    )
    return user


def test_the_administrator_reads_the_log_filtered_by_person_and_case(world: World) -> None:
    case = raise_difference(world)
    other = raise_difference(world)
    signed_in(world.raiser).get(reverse("case_detail", args=[case.pk]))
    signed_in(world.c_practitioner).get(reverse("case_detail", args=[case.pk]))
    signed_in(world.raiser).get(reverse("case_detail", args=[other.pk]))
    admin = signed_in(world.administrator)

    everyone = admin.get(reverse("access_log"), {"case": case.reference})
    person = admin.get(reverse("access_log"), {"person": "c_practitioner"})

    assert everyone.status_code == 200
    rows = [row for row, _ in everyone.context["rows"]]
    assert {row.username for row in rows} == {"a_practitioner", "c_practitioner"}
    assert {row.case_id for row in rows} == {case.pk}
    assert [row.username for row, _ in person.context["rows"]] == ["c_practitioner"]
    assert "Denied" in person.content.decode()


def test_an_unknown_case_reference_is_a_field_error_not_a_500(world: World) -> None:
    response = signed_in(world.administrator).get(reverse("access_log"), {"case": "nonsense"})
    assert response.status_code == 200
    assert "Enter a case reference like PD-2026-12" in response.content.decode()
    too_long = signed_in(world.administrator).get(reverse("access_log"), {"person": "x" * 151})
    assert "150 characters or fewer" in too_long.content.decode()


def test_the_log_pages_by_keyset(world: World) -> None:
    case = raise_difference(world)
    client = signed_in(world.raiser)
    for _ in range(55):
        client.get(reverse("case_detail", args=[case.pk]))
    admin = signed_in(world.administrator)
    first = admin.get(reverse("access_log"))
    assert len(first.context["rows"]) == 50
    second = admin.get(f"{reverse('access_log')}?{first.context['older_query']}")
    first_ids = {row.pk for row, _ in first.context["rows"]}
    second_ids = {row.pk for row, _ in second.context["rows"]}
    assert len(second_ids) == 5 and not first_ids & second_ids


def test_an_administrator_of_q_cannot_see_p_entries(world: World) -> None:
    case = raise_difference(world)
    signed_in(world.raiser).get(reverse("case_detail", args=[case.pk]))
    q_admin = _q_administrator(world)

    response = signed_in(q_admin).get(reverse("access_log"))
    by_case = signed_in(q_admin).get(reverse("access_log"), {"case": case.reference})

    assert response.status_code == 200
    assert all(row.case_id != case.pk for row, _ in response.context["rows"])
    assert by_case.context["rows"] == []


@pytest.mark.parametrize(
    "persona", ["raiser", "a_line_manager", "business_manager", "q_business_manager", "outsider"]
)
def test_people_who_are_not_administrators_get_404_on_the_administration_pages(
    world: World, persona: str
) -> None:
    case = difference_at(world, Status.CLOSED)
    child = case.children.first()
    client = signed_in(getattr(world, persona))
    for name, kwargs in (
        ("access_log", {}),
        ("retention_due", {}),
        ("retention_legal_hold", {"pk": case.pk}),
        ("retention_anonymise", {"pk": case.pk}),
        ("subject_access_search", {}),
        ("subject_access_child", {"child_pk": child.pk}),
        ("subject_access_json", {"child_pk": child.pk}),
        ("subject_access_pdf", {"child_pk": child.pk}),
    ):
        assert client.get(reverse(name, kwargs=kwargs)).status_code == 404, name


def test_a_case_number_too_big_for_the_database_is_recorded_without_it(world: World) -> None:
    response = signed_in(world.outsider).get(f"/cases/{'9' * 30}/")
    assert response.status_code == 404
    event = latest()
    assert (event.url_name, event.case_id, event.outcome) == (
        "case_detail",
        None,
        AccessOutcome.DENIED,
    )


def test_the_django_admin_shows_an_administrator_their_partnerships_entries_read_only(
    world: World,
) -> None:
    p_case = raise_difference(world)
    signed_in(world.raiser).get(reverse("case_detail", args=[p_case.pk]))
    q_admin = _q_administrator(world)
    for user in (world.administrator, q_admin):
        user.is_staff = True
        user.save()

    p_page = signed_in(world.administrator).get("/admin/records/accessevent/")
    q_page = signed_in(q_admin).get("/admin/records/accessevent/")
    event = latest()
    change = signed_in(world.administrator).get(f"/admin/records/accessevent/{event.pk}/change/")
    delete = signed_in(world.administrator).post(
        f"/admin/records/accessevent/{event.pk}/delete/", {"post": "yes"}
    )

    assert p_page.status_code == 200 and q_page.status_code == 200
    assert [e.pk for e in p_page.context["cl"].result_list] == [event.pk]
    assert list(q_page.context["cl"].result_list) == []
    assert change.status_code == 200 and b'name="_save"' not in change.content
    assert delete.status_code == 403
    assert AccessEvent.objects.filter(pk=event.pk).exists()
