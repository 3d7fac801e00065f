"""Subject access: an administrator exports everything held about one named child."""

from __future__ import annotations

import json
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.test import Client
from django.urls import reverse

from agencies.models import PartnershipRole
from agencies.services import partnership_membership_grant
from escalations.services import ChildDetails
from records.models import AccessEvent, AuditEvent
from tests.conftest import World
from tests.factories.directory import UserFactory
from tests.records.retention_world import CHILD, PROFESSIONAL, closed_case
from tests.support.mfa import reauthenticate


def signed_in(user: Any, *, reauthenticated: bool = True) -> Client:
    """Signed in and, as an export needs, freshly re-authenticated (unless told not)."""
    client = Client()
    client.force_login(user)
    if reauthenticated:
        reauthenticate(client)
    return client


def _amira(world: World) -> Any:
    case = closed_case(world)
    return case, case.children.get(name="Amira Khan")


def test_the_administrator_finds_the_child_by_name_and_date_of_birth(world: World) -> None:
    _, amira = _amira(world)
    client = signed_in(world.administrator)

    by_name = client.get(reverse("subject_access_search"), {"name": "amira"})
    by_both = client.get(
        reverse("subject_access_search"),
        {
            "name": "Khan",
            "date_of_birth_day": "4",
            "date_of_birth_month": "3",
            "date_of_birth_year": "2015",
        },
    )
    empty = client.get(reverse("subject_access_search"), {"name": "  "})
    bad_date = client.get(
        reverse("subject_access_search"),
        {
            "name": "Khan",
            "date_of_birth_day": "31",
            "date_of_birth_month": "2",
            "date_of_birth_year": "2015",
        },
    )

    assert [c.pk for c in by_name.context["results"]] == [amira.pk]
    assert [c.pk for c in by_both.context["results"]] == [amira.pk]
    assert "Enter the child&#x27;s name" in empty.content.decode()
    assert "must be a real date" in bad_date.content.decode()


def test_the_json_export_holds_everything_about_the_child_and_withholds_the_sibling(
    world: World,
) -> None:
    case, amira = _amira(world)
    # The same child on a second case (same name and date of birth) is found too.
    second = closed_case(world, children=(CHILD,))

    response = signed_in(world.administrator).get(reverse("subject_access_json", args=[amira.pk]))

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.content)
    text = response.content.decode()
    assert [c["reference"] for c in data["cases"]] == [case.reference, second.reference]
    first = data["cases"][0]
    assert first["child_records"][0]["name"] == "Amira Khan"
    assert first["child_records"][0]["date_of_birth"] == "2015-03-04"
    assert first["child_records"][0]["address"] == "1 Elm Road, Portsmouth"
    assert first["other_children_on_case"] == 1
    assert PROFESSIONAL in text
    assert any("Amira Khan was seen" in e["facts"] for e in first["chronology"])
    assert first["actions"] and first["notifications"]
    assert first["outcome"] == "Withdrawn"
    # Nothing about the sibling: not their name, date of birth or school.
    for withheld in ("Zain", "2017-06-09", "Elm Nursery"):
        assert withheld not in text, withheld
    assert "[another child] needs a referral." in text


def test_every_export_is_audited_without_the_childs_name(world: World) -> None:
    case, amira = _amira(world)
    client = signed_in(world.administrator)
    client.get(reverse("subject_access_json", args=[amira.pk]))

    event = AuditEvent.objects.filter(action="subject_access_export").get()
    access = AccessEvent.objects.filter(url_name="subject_access_json").get()

    assert event.actor == world.administrator
    assert "Amira" not in event.detail and case.reference in event.detail
    assert access.child_id == amira.pk


def test_the_pdf_export_renders(world: World) -> None:
    _, amira = _amira(world)
    response = signed_in(world.administrator).get(reverse("subject_access_pdf", args=[amira.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert AuditEvent.objects.filter(action="subject_access_export").count() == 1


def test_a_child_without_a_date_of_birth_is_only_their_own_record(world: World) -> None:
    undated = ChildDetails(name="Amira Khan")
    first = closed_case(world, children=(undated,))
    closed_case(world, children=(undated,))
    child = first.children.get()
    response = signed_in(world.administrator).get(reverse("subject_access_json", args=[child.pk]))
    assert [c["reference"] for c in json.loads(response.content)["cases"]] == [first.reference]


def test_an_administrator_of_another_partnership_gets_404(world: World) -> None:
    _, amira = _amira(world)
    q_admin = UserFactory(username="q_administrator")
    partnership_membership_grant(
        user=q_admin, partnership=world.other_partnership, role=PartnershipRole.ADMINISTRATOR
    )
    for fresh in (True, False):
        client = signed_in(q_admin, reauthenticated=fresh)
        for name in ("subject_access_child", "subject_access_json", "subject_access_pdf"):
            assert client.get(reverse(name, args=[amira.pk])).status_code == 404
    found = client.get(reverse("subject_access_search"), {"name": "Amira"})
    assert found.context["results"] == []
    assert date(2015, 3, 4)  # the child exists, but not in Q


def test_the_exports_ask_for_the_password_again_and_export_nothing_until_given(
    world: World,
) -> None:
    """Like the case record PDF: unless re-authenticated in the last 10 minutes, the JSON and
    the PDF send the administrator to "Confirm it is you" and back, and nothing is exported
    (or audited as exported) before that."""
    _, amira = _amira(world)
    client = signed_in(world.administrator, reauthenticated=False)
    for name in ("subject_access_json", "subject_access_pdf"):
        url = reverse(name, args=[amira.pk])
        response = client.get(url)
        assert response.status_code == 302
        location = urlsplit(response["Location"])
        assert location.path == reverse("account_reauthenticate")
        assert parse_qs(location.query)["next"] == [url]
    assert not AuditEvent.objects.filter(action="subject_access_export").exists()

    url = reverse("subject_access_json", args=[amira.pk])
    back = client.post(
        f"{reverse('account_reauthenticate')}?next={url}",
        {"password": "a-test-password-123", "next": url},
    )
    assert back.status_code == 302 and back["Location"] == url
    response = client.get(url)
    assert response.status_code == 200
    assert json.loads(response.content)["cases"]
    assert AuditEvent.objects.filter(action="subject_access_export").count() == 1
