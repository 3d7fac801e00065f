"""The "Raise a difference" journey: question per page, answers in the session, check answers."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from agencies.models import AgencyRole, Category
from agencies.services import agency_membership_grant
from escalations import errors
from escalations.errors import DifferenceRefused
from escalations.models import ProfessionalDifference
from escalations.states import Context, Status
from tests.conftest import World
from tests.factories.directory import UserFactory

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"
EMERGENCY_ROUTE = (
    "If a child is at immediate risk of significant harm, call the police on 999 or the "
    "children's social care front door now. This service never replaces an urgent child "
    "protection referral."
)


def text(response: Any) -> str:
    """The page as a reader sees its words: entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(response.content.decode()).split())


def url(step: str, **query: Any) -> str:
    path = reverse("raise_step", kwargs={"step": step})
    if query:
        path += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return path


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post(client: Client, step: str, data: dict[str, Any], **query: Any) -> Any:
    return client.post(url(step, **query), data)


def child_data(name: str, day: str = "", month: str = "", year: str = "", **extra: str) -> dict:
    return {
        "name": name,
        "date_of_birth_day": day,
        "date_of_birth_month": month,
        "date_of_birth_year": year,
        "address": extra.get("address", ""),
        "school": extra.get("school", ""),
        "lead_professional": extra.get("lead_professional", ""),
    }


def assert_redirects_to(response: Any, location: str) -> None:
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == location


def full_answers(world: World, **overrides: Any) -> dict[str, Any]:
    """A completed journey, as the session holds it."""
    answers: dict[str, Any] = {
        "agency": world.agency_a.pk,
        "immediate_risk": "no",
        "complaint": "no",
        "children": [
            {
                "name": "Amira Khan",
                "date_of_birth": "2016-04-03",
                "address": "1 High Street",
                "school": "Hill Primary",
                "lead_professional": "Sam Lead",
            }
        ],
        "children_done": True,
        "other_agencies": [world.agency_b.pk],
        "named": [f"{world.agency_b.pk}-{world.b_named.pk}"],
        "unlisted": {"name": "", "role": "", "agency": None},
        "category": world.category.pk,
        "context": Context.OPEN_CASE.value,
        "issue": "The referral was closed without a strategy discussion.",
    }
    answers.update(overrides)
    return answers


def with_answers(user: Any, answers: dict[str, Any]) -> Client:
    client = signed_in(user)
    session = client.session
    session["raise"] = answers
    session.save()
    return client


def stored(client: Client) -> dict[str, Any]:
    return client.session.get("raise", {})


def assert_form_error(response: Any, message: str) -> None:
    """The GOV.UK error summary and the field's error message, at status 200."""
    assert response.status_code == 200
    content = response.content.decode()
    assert "govuk-error-summary" in content
    assert "There is a problem" in content
    assert "<title>Error: " in content
    assert "govuk-error-message" in content
    assert escape(message) in content, content


# -- the whole journey -----------------------------------------------------------------------


def test_the_whole_journey_with_two_children_and_a_named_professional_raises_the_case(
    world: World,
) -> None:
    client = signed_in(world.raiser)
    start = client.get(reverse("raise_start"))
    assert start.status_code == 200
    assert "Start now" in start.content.decode()
    assert EMERGENCY_ROUTE in text(start)
    assert url("immediate-risk") in start.content.decode()  # one agency: no agency question

    assert_redirects_to(post(client, "immediate-risk", {"immediate_risk": "no"}), url("complaint"))
    assert_redirects_to(post(client, "complaint", {"complaint": "no"}), url("child"))
    assert_redirects_to(
        post(
            client,
            "child",
            child_data("Amira Khan", "3", "4", "2016", address="1 High Street", school="Hill"),
        ),
        url("children"),
    )
    summary = client.get(url("children"))
    assert "You have added 1 child" in summary.content.decode()
    assert_redirects_to(post(client, "children", {"add_another": "yes"}), url("child"))
    assert_redirects_to(
        post(client, "child", child_data("Zain Khan", lead_professional="Sam Lead")),
        url("children"),
    )
    assert "You have added 2 children" in client.get(url("children")).content.decode()
    assert_redirects_to(post(client, "children", {"add_another": "no"}), url("other-agencies"))
    assert_redirects_to(
        post(client, "other-agencies", {"other_agencies": [world.agency_b.pk]}),
        url("named-professionals"),
    )
    named_page = client.get(url("named-professionals")).content.decode()
    named_label = f"{world.b_named.get_full_name()} — Practitioner, B police"
    assert escape(named_label) in named_page
    assert world.c_practitioner.get_full_name() not in named_page  # C is not a party
    assert_redirects_to(
        post(
            client,
            "named-professionals",
            {
                "named": [f"{world.agency_b.pk}-{world.b_named.pk}"],
                "unlisted_name": "Pat Desk",
                "unlisted_role": "Duty sergeant",
                "unlisted_agency": world.agency_b.pk,
            },
        ),
        url("category"),
    )
    assert_redirects_to(post(client, "category", {"category": world.category.pk}), url("context"))
    assert_redirects_to(post(client, "context", {"context": Context.OPEN_CASE}), url("issue"))
    assert_redirects_to(
        post(client, "issue", {"issue": "The referral was closed without a strategy meeting."}),
        url("check-answers"),
    )

    check = client.get(url("check-answers"))
    assert check.status_code == 200
    page = check.content.decode()
    for expected in ("Amira Khan", "3 April 2016", "Zain Khan", "B police", world.category.name):
        assert escape(expected) in page
    assert escape(named_label) in page
    assert "Pat Desk" in page
    assert "Raise the difference" in page

    response = client.post(url("check-answers"))
    case = ProfessionalDifference.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/cases/{case.pk}/"
    assert case.status == Status.IDENTIFIED
    assert case.raised_by == world.raiser
    assert case.raiser_agency == world.agency_a
    assert case.category == world.category
    assert case.context == Context.OPEN_CASE
    assert case.issue == "The referral was closed without a strategy meeting."
    assert not case.is_urgent
    assert {(p.agency_id, p.is_raising) for p in case.parties.all()} == {
        (world.agency_a.pk, True),
        (world.agency_b.pk, False),
    }
    children = {child.name: child for child in case.children.all()}
    assert set(children) == {"Amira Khan", "Zain Khan"}
    assert str(children["Amira Khan"].date_of_birth) == "2016-04-03"
    assert children["Amira Khan"].address == "1 High Street"
    assert children["Zain Khan"].date_of_birth is None
    assert children["Zain Khan"].lead_professional == "Sam Lead"
    assert {(n.name, n.user_id, n.agency_id, n.role) for n in case.named_professionals.all()} == {
        (world.b_named.get_full_name(), world.b_named.pk, world.agency_b.pk, "Practitioner"),
        ("Pat Desk", None, world.agency_b.pk, "Duty sergeant"),
    }
    assert "raise" not in client.session
    followed = client.get(reverse("home"))
    assert f"Difference {case.reference} raised" in followed.content.decode()


def test_the_urgent_track_opens_the_case_at_stage_2_with_the_named_manager(
    world: World,
) -> None:
    client = with_answers(world.raiser, full_answers(world, immediate_risk="no"))
    assert_redirects_to(post(client, "immediate-risk", {"immediate_risk": "yes"}), url("emergency"))
    emergency = text(client.get(url("emergency")))
    assert EMERGENCY_ROUTE in emergency
    assert "Use the urgent track" in emergency
    assert "Continue on the standard track" in emergency
    assert_redirects_to(post(client, "emergency", {"track": "urgent"}), url("urgent-manager"))
    managers = client.get(url("urgent-manager")).content.decode()
    assert escape(world.a_line_manager.get_full_name()) in managers
    assert escape(world.a_safeguarding_lead.get_full_name()) in managers
    assert escape(world.b_line_manager.get_full_name()) not in managers
    assert_redirects_to(
        post(client, "urgent-manager", {"urgent_manager": world.a_line_manager.pk}),
        url("complaint"),
    )
    check = client.get(url("check-answers")).content.decode()
    assert "Urgent track" in check
    client.post(url("check-answers"))
    case = ProfessionalDifference.objects.get()
    assert case.status == Status.STAGE_2
    assert case.is_urgent
    assert case.urgent_manager == world.a_line_manager


def test_choosing_the_standard_track_after_a_yes_raises_an_ordinary_case(world: World) -> None:
    client = with_answers(world.raiser, full_answers(world, immediate_risk="yes", track="standard"))
    client.post(url("check-answers"))
    case = ProfessionalDifference.objects.get()
    assert (case.status, case.is_urgent) == (Status.IDENTIFIED, False)


def test_the_complaint_screening_stops_the_journey_with_the_complaints_route(
    world: World,
) -> None:
    client = with_answers(world.raiser, {"immediate_risk": "no"})
    assert_redirects_to(
        post(client, "complaint", {"complaint": "yes"}), url("complaints-procedure")
    )
    page = client.get(url("complaints-procedure"))
    assert page.status_code == 200
    content = text(page)
    assert "complaints procedure" in content
    assert "in writing to the professional's line manager" in content
    assert "lead responsibility for child protection" in content
    assert 'class="govuk-back-link"' in content
    # The journey stops there: later steps lead back to the stop page.
    assert_redirects_to(client.get(url("child")), url("complaints-procedure"))
    assert_redirects_to(client.get(url("check-answers")), url("complaints-procedure"))
    assert not ProfessionalDifference.objects.exists()


def test_choosing_only_your_own_agency_stops_with_the_in_house_procedures_message(
    world: World,
) -> None:
    client = with_answers(world.raiser, full_answers(world))
    assert_redirects_to(
        post(client, "other-agencies", {"other_agencies": [world.agency_a.pk]}),
        url("in-house-procedures"),
    )
    page = client.get(url("in-house-procedures"))
    assert page.status_code == 200
    assert errors.IN_HOUSE_PROCEDURES in text(page)
    assert_redirects_to(client.get(url("check-answers")), url("in-house-procedures"))
    assert_redirects_to(client.post(url("check-answers")), url("in-house-procedures"))
    assert not ProfessionalDifference.objects.exists()


def test_your_own_agency_among_others_is_left_out_with_a_hint(world: World) -> None:
    client = with_answers(world.raiser, full_answers(world))
    page = client.get(url("other-agencies")).content.decode()
    assert "it will be left out" in page
    post(client, "other-agencies", {"other_agencies": [world.agency_a.pk, world.agency_c.pk]})
    assert "has been left out" in client.get(url("named-professionals")).content.decode()
    assert "has been left out" in client.get(url("check-answers")).content.decode()
    client.post(url("check-answers"))
    case = ProfessionalDifference.objects.get()
    assert {(p.agency_id, p.is_raising) for p in case.parties.all()} == {
        (world.agency_a.pk, True),
        (world.agency_c.pk, False),
    }
    # B is no longer a party, so B's named professional was dropped.
    assert not case.named_professionals.exists()


# -- going back and changing -----------------------------------------------------------------


def test_going_back_keeps_the_answers(world: World) -> None:
    client = with_answers(world.raiser, full_answers(world))
    complaint = client.get(url("complaint")).content.decode()
    assert 'value="no" checked' in complaint
    child = client.get(url("child", child=1)).content.decode()
    assert 'value="Amira Khan"' in child
    assert 'name="date_of_birth_year" type="text" inputmode="numeric" value="2016"' in child
    assert "1 High Street" in child
    assert (
        f'value="{world.agency_b.pk}" checked' in client.get(url("other-agencies")).content.decode()
    )
    named = client.get(url("named-professionals")).content.decode()
    assert f'value="{world.agency_b.pk}-{world.b_named.pk}" checked' in named
    category = client.get(url("category")).content.decode()
    assert f'value="{world.category.pk}" checked' in category
    assert 'value="open_case" checked' in client.get(url("context")).content.decode()
    assert "without a strategy discussion" in client.get(url("issue")).content.decode()


def test_every_question_page_has_a_back_link_to_the_previous_question(world: World) -> None:
    client = with_answers(world.raiser, full_answers(world))
    expected = {
        "immediate-risk": reverse("raise_start"),
        "complaint": url("immediate-risk"),
        "child": url("children"),
        "children": url("child", child=1),
        "other-agencies": url("children"),
        "named-professionals": url("other-agencies"),
        "category": url("named-professionals"),
        "context": url("category"),
        "issue": url("context"),
        "check-answers": url("issue"),
    }
    for step, back in expected.items():
        content = client.get(url(step)).content.decode()
        assert f'<a href="{escape(back)}" class="govuk-back-link">Back</a>' in content, step


def test_a_change_link_returns_to_check_your_answers_after_saving(world: World) -> None:
    client = with_answers(world.raiser, full_answers(world))
    check = client.get(url("check-answers")).content.decode()
    assert escape(url("category", change=1)) in check
    other = Category.objects.filter(partnership=world.partnership).exclude(pk=world.category.pk)[0]
    assert_redirects_to(
        post(client, "category", {"category": other.pk}, change=1), url("check-answers")
    )
    assert stored(client)["category"] == other.pk
    assert_redirects_to(
        post(client, "child", child_data("Amira Q Khan"), child=1, change=1), url("check-answers")
    )
    assert stored(client)["children"][0]["name"] == "Amira Q Khan"
    # Adding a child from check your answers goes through the children summary.
    assert_redirects_to(
        post(client, "children", {"add_another": "yes"}, change=1), url("child", change=1)
    )
    assert_redirects_to(
        post(client, "child", child_data("Zain Khan"), change=1), url("children", change=1)
    )
    assert_redirects_to(
        post(client, "children", {"add_another": "no"}, change=1), url("check-answers")
    )
    assert [c["name"] for c in stored(client)["children"]] == ["Amira Q Khan", "Zain Khan"]
    # Saying a child is at immediate risk always shows the emergency route.
    assert_redirects_to(
        post(client, "immediate-risk", {"immediate_risk": "yes"}, change=1),
        url("emergency", change=1),
    )


def test_a_child_can_be_removed_after_confirming(world: World) -> None:
    answers = full_answers(world)
    answers["children"].append({"name": "Zain Khan", "date_of_birth": None})
    client = with_answers(world.raiser, answers)
    page = client.get(url("remove-child", child=2))
    assert "Are you sure you want to remove Zain Khan?" in page.content.decode()
    assert_redirects_to(post(client, "remove-child", {"remove": "yes"}, child=2), url("children"))
    assert [c["name"] for c in stored(client)["children"]] == ["Amira Khan"]
    assert_redirects_to(client.get(url("remove-child", child=7)), url("children"))


def test_later_steps_reached_directly_redirect_to_the_first_unanswered_step(
    world: World,
) -> None:
    client = signed_in(world.raiser)
    assert_redirects_to(client.get(url("issue")), url("immediate-risk"))
    assert_redirects_to(client.get(url("check-answers")), url("immediate-risk"))
    assert_redirects_to(client.post(url("check-answers")), url("immediate-risk"))
    assert_redirects_to(client.get(url("agency")), url("immediate-risk"))  # only one agency
    client = with_answers(world.raiser, {"immediate_risk": "no", "complaint": "no"})
    assert_redirects_to(client.get(url("other-agencies")), url("child"))
    assert_redirects_to(client.get(url("children")), url("child"))
    assert client.get(url("no-such-step")).status_code == 404
    assert not ProfessionalDifference.objects.exists()


def test_someone_holding_roles_in_two_agencies_chooses_the_agency_first(world: World) -> None:
    nurse = UserFactory(username="nurse")
    agency_membership_grant(user=nurse, agency=world.agency_a, role=AgencyRole.PRACTITIONER)
    agency_membership_grant(user=nurse, agency=world.agency_c, role=AgencyRole.SAFEGUARDING_LEAD)
    client = signed_in(nurse)
    assert url("agency") in client.get(reverse("raise_start")).content.decode()
    assert_redirects_to(client.get(url("complaint")), url("agency"))
    response = post(client, "agency", {"agency": world.agency_d.pk})
    assert_form_error(response, "Select the agency you are raising this for")
    assert_redirects_to(
        post(client, "agency", {"agency": world.agency_c.pk}), url("immediate-risk")
    )
    assert stored(client)["agency"] == world.agency_c.pk


# -- bad input -------------------------------------------------------------------------------


def _bad_inputs(world: World) -> list[tuple[str, dict[str, Any], dict[str, Any], str]]:
    """(step, query, data, message) for every form."""
    too_long = "x" * 201
    return [
        (
            "immediate-risk",
            {},
            {},
            "Select yes if a child is at immediate risk of significant harm",
        ),
        (
            "immediate-risk",
            {},
            {"immediate_risk": "perhaps"},
            "Select yes if a child is at immediate",
        ),
        ("complaint", {}, {}, "Select yes if this is a complaint about an individual professional"),
        ("child", {}, child_data(""), "Enter the child's full name"),
        ("child", {}, child_data(too_long), "The child's name must be 200 characters or fewer"),
        (
            "child",
            {},
            child_data("Amira", "1", "1", "2999"),
            "Date of birth must be today or in the past",
        ),
        ("child", {}, child_data("Amira", "1", "1", "1880"), "Date of birth must be 1990 or later"),
        ("child", {}, child_data("Amira", "31", "2", "2016"), "Date of birth must be a real date"),
        ("child", {}, child_data("Amira", "1", "", "2016"), "Date of birth must include a month"),
        (
            "child",
            {},
            child_data("Amira", school=too_long),
            "Early years placement or school must be 200",
        ),
        (
            "child",
            {},
            child_data("Amira", address="x" * 501),
            "Address must be 500 characters or fewer",
        ),
        ("children", {}, {}, "Select yes if you need to add another child"),
        ("remove-child", {"child": 1}, {}, "Select yes if you want to remove Amira Khan"),
        ("other-agencies", {}, {}, "Select the agency or agencies the difference is with"),
        (
            "other-agencies",
            {},
            {"other_agencies": [world.agency_d.pk]},
            "Select the agency or agencies the difference is with",
        ),
        ("other-agencies", {}, {"other_agencies": ["abc"]}, "Select the agency or agencies"),
        (
            "other-agencies",
            {},
            {"other_agencies": ["99999999999999999999999"]},
            "Select the agency or agencies",
        ),
        (
            "named-professionals",
            {},
            {"named": [f"{world.agency_d.pk}-{world.d_practitioner.pk}"]},
            "Select people from the list",
        ),
        (
            "named-professionals",
            {},
            {"named": [f"{world.agency_a.pk}-{world.a_line_manager.pk}"]},
            "Select people from the list",
        ),
        (
            "named-professionals",
            {},
            {"unlisted_name": "Pat Desk", "unlisted_agency": ""},
            "Select the agency of the person not listed",
        ),
        (
            "named-professionals",
            {},
            {"unlisted_name": "Pat Desk", "unlisted_agency": world.agency_d.pk},
            "Select the agency of the person not listed",
        ),
        (
            "named-professionals",
            {},
            {"unlisted_name": too_long, "unlisted_agency": world.agency_b.pk},
            "The name must be 200 characters or fewer",
        ),
        ("category", {}, {}, "Select the category that best describes the difference"),
        (
            "category",
            {},
            {"category": Category.objects.filter(partnership=world.other_partnership)[0].pk},
            "Select the category that best describes the difference",
        ),
        ("category", {}, {"category": "1 OR 1=1"}, "Select the category"),
        ("context", {}, {}, "Select what the issue was about"),
        ("context", {}, {"context": "gossip"}, "Select what the issue was about"),
        ("issue", {}, {"issue": "   "}, "Describe the issue in your own words"),
        ("issue", {}, {"issue": "x" * 20_001}, "The issue must be 20,000 characters or fewer"),
        ("emergency", {}, {"track": "fast"}, "Select whether to use the urgent track"),
        (
            "urgent-manager",
            {},
            {"urgent_manager": world.a_other_practitioner.pk},
            "Select the line manager or safeguarding lead who agreed to use the urgent track",
        ),
        (
            "urgent-manager",
            {},
            {"urgent_manager": world.b_line_manager.pk},
            "Select the line manager or safeguarding lead who agreed",
        ),
    ]


def test_bad_input_on_every_form_gives_the_error_summary_and_keeps_the_other_answers(
    world: World,
) -> None:
    answers = full_answers(
        world, immediate_risk="yes", track="urgent", urgent_manager=world.a_line_manager.pk
    )
    for step, query, data, message in _bad_inputs(world):
        client = with_answers(world.raiser, answers)
        response = post(client, step, data, **query)
        assert_form_error(response, message)
        assert stored(client) == answers, step


def test_text_fields_come_back_escaped(world: World) -> None:
    client = with_answers(world.raiser, full_answers(world))
    response = post(
        client,
        "child",
        child_data(
            SCRIPT, "1", "1", "2999", address=SCRIPT, school=SCRIPT, lead_professional=SCRIPT
        ),
    )
    assert_form_error(response, "Date of birth must be today or in the past")
    content = response.content.decode()
    assert SCRIPT not in content
    assert content.count(ESCAPED_SCRIPT) == 4
    # Typed values come back in the fields: nothing is lost.
    assert 'name="date_of_birth_year" type="text" inputmode="numeric" value="2999"' in content

    response = post(client, "issue", {"issue": SCRIPT + "x" * 20_001})
    assert_form_error(response, "The issue must be 20,000 characters or fewer")
    assert SCRIPT not in response.content.decode()

    post(client, "child", child_data(SCRIPT), child=1)
    post(client, "issue", {"issue": SCRIPT})
    post(
        client,
        "named-professionals",
        {"unlisted_name": SCRIPT, "unlisted_role": SCRIPT, "unlisted_agency": world.agency_b.pk},
    )
    check = client.get(url("check-answers")).content.decode()
    assert SCRIPT not in check
    assert ESCAPED_SCRIPT in check
    client.post(url("check-answers"))
    case = ProfessionalDifference.objects.get()
    assert case.issue == SCRIPT  # stored as typed, escaped on output


def test_a_refusal_from_the_service_shows_on_the_check_page_and_keeps_the_answers(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(**kwargs: Any) -> None:
        raise DifferenceRefused(errors.NO_OTHER_AGENCY, field="other_agencies")

    monkeypatch.setattr("escalations.views.raise_journey.difference_raise", refuse)
    answers = full_answers(world)
    client = with_answers(world.raiser, answers)
    response = client.post(url("check-answers"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "There is a problem" in content
    assert escape(errors.NO_OTHER_AGENCY) in content
    assert "Amira Khan" in content
    assert stored(client) == answers


def test_an_answer_that_is_no_longer_available_is_asked_again(world: World) -> None:
    client = with_answers(world.raiser, full_answers(world))
    Category.objects.filter(pk=world.category.pk).update(active=False)
    assert_redirects_to(client.get(url("check-answers")), url("category", change=1))
    assert "category" not in stored(client)


def test_a_tampered_session_never_gives_a_server_error(world: World) -> None:
    answers = full_answers(
        world,
        agency=world.agency_d.pk,
        other_agencies=[world.agency_d.pk],
        named=["not-a-key"],
        category=world.category.pk + 10_000,
    )
    client = with_answers(world.raiser, answers)
    # The foreign agency is dropped: the raiser's own agency stands.
    response = client.get(url("check-answers"))
    assert response.status_code == 302
    assert not ProfessionalDifference.objects.exists()


# -- who may raise ---------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["outsider", "business_manager", "final_body_member"])
def test_someone_with_no_agency_role_cannot_raise(world: World, persona: str) -> None:
    client = signed_in(getattr(world, persona))
    for response in (
        client.get(reverse("raise_start")),
        client.get(url("immediate-risk")),
        client.post(url("immediate-risk"), {"immediate_risk": "no"}),
        client.post(url("check-answers")),
    ):
        assert response.status_code == 200
        assert "You cannot raise a difference" in response.content.decode()
    assert not ProfessionalDifference.objects.exists()


def test_anonymous_people_are_sent_to_sign_in(world: World) -> None:
    client = Client()
    for path in (reverse("raise_start"), url("check-answers")):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("sign_in"))
    assert client.post(url("check-answers")).status_code == 302
    assert not ProfessionalDifference.objects.exists()


def test_changing_to_an_agency_of_another_partnership_asks_the_partnership_questions_again(
    world: World,
) -> None:
    nurse = UserFactory(username="nurse")
    agency_membership_grant(user=nurse, agency=world.agency_a, role=AgencyRole.PRACTITIONER)
    agency_membership_grant(user=nurse, agency=world.agency_d, role=AgencyRole.PRACTITIONER)
    client = with_answers(nurse, full_answers(world))
    assert_redirects_to(
        post(client, "agency", {"agency": world.agency_d.pk}, change=1),
        url("other-agencies", change=1),
    )
    answers = stored(client)
    assert "other_agencies" not in answers and "category" not in answers
    assert answers["children"][0]["name"] == "Amira Khan"
