"""The case page and its action pages, through the Django test client."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from escalations import deadlines, errors, services
from escalations.models import Action, Child, NamedProfessional, Party, StageEntry
from escalations.states import Status
from records.models import Entry, EntryKind
from records.services import entry_correct, entry_record
from tests.conftest import World
from tests.factories.differences import difference_at, raise_difference

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
TOO_LONG = "x" * 20_001
SCRIPT = "<script>alert('x')</script>"

# Every action page of a case (the entry pages take an entry too).
CASE_ACTIONS = [
    "case_record_entry",
    "case_start_clarification",
    "case_begin_stage_1",
    "case_withdraw",
    "case_escalate",
    "case_record_outcome",
    "case_accept_partial_outcome",
    "case_close",
    "case_pause_clock",
    "case_resume_clock",
    "case_shorten_clock",
]
ENTRY_PAGES = ["case_correct_entry", "case_entry_copy"]


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(name: str, case: Any, entry: Any = None) -> str:
    kwargs = {"pk": case.pk}
    if entry is not None:
        kwargs["entry_pk"] = entry.pk
    return reverse(name, kwargs=kwargs)


def text(response: Any) -> str:
    return response.content.decode()


def refreshed(case: Any) -> Any:
    return type(case).objects.get(pk=case.pk)


def date_parts(prefix: str, day: date) -> dict[str, str]:
    return {
        f"{prefix}_day": str(day.day),
        f"{prefix}_month": str(day.month),
        f"{prefix}_year": str(day.year),
    }


def state_of(case: Any) -> str:
    return f"{case.status}/{case.stage}"


def record(world: World, case: Any, actor: Any = None, **fields: Any) -> Entry:
    values = {
        "kind": EntryKind.CALL,
        "method": "Telephone",
        "participants": "Me and the named person",
        "facts": "We spoke about the referral.",
        "opinion": "The threshold was met.",
    }
    values.update(fields)
    return entry_record(actor=actor or world.raiser, difference=case, **values)


def assert_error_page(response: Any, *messages: str) -> None:
    assert response.status_code == 200
    body = text(response)
    assert "govuk-error-summary" in body
    assert "<title>Error: " in body
    for message in messages:
        assert message in body, message


def assert_succeeded(response: Any, *shown: str) -> None:
    """A followed redirect: back on the case page with the success banner."""
    assert response.status_code == 200
    assert response.redirect_chain, "expected a redirect to the case page"
    body = text(response)
    assert "govuk-notification-banner--success" in body
    assert 'id="timeline"' in body
    for words in shown:
        assert words in body, words


# -- the case page ---------------------------------------------------------------------------


def test_the_case_page_shows_the_record_the_stage_clock_and_the_timeline(world: World) -> None:
    with time_machine.travel(datetime(2026, 11, 20, 10, 0, tzinfo=LONDON), tick=False):
        case = difference_at(world, Status.STAGE_2)
        response = signed_in(world.a_line_manager).get(url("case_detail", case))
    assert response.status_code == 200
    body = text(response)
    assert case.reference in body
    assert "Stage 2: line managers and safeguarding leads" in body
    assert "Due Friday 27 November 2026 at 10:00" in body
    assert "5 working days left" in body
    assert "Overdue" not in body
    # The record, with the full names this person may see.
    for shown in (
        "Practitioner",
        "A social care",
        "Amira Khan",
        "Zain Khan",
        "B police",
        "Named Person",
        "Open case",
        "The referral was closed without a strategy discussion.",
    ):
        assert shown in body, shown
    # The timeline: every transition, with who and why.
    assert "Escalated to Stage 2" in body
    assert "Why Stage 1 did not resolve it" in body
    assert "Stage 1 did not resolve it." in body
    assert "Moved to clarification" in body


def test_the_case_page_names_who_escalated_with_role_and_agency(world: World) -> None:
    case = difference_at(world, Status.STAGE_3)
    body = text(signed_in(world.raiser).get(url("case_detail", case)))
    name = world.a_line_manager.get_full_name()
    assert "Escalated to Stage 3 <span" in body
    assert f"by {name}, Line manager, A social care" in body
    assert "Management oversight note" in body
    assert "Reviewed." in body


def test_an_overdue_stage_shows_a_red_overdue_tag(world: World) -> None:
    case = difference_at(world, Status.STAGE_2)
    StageEntry.objects.filter(difference=case, left_at=None).update(
        due_at=timezone.now() - timedelta(days=3)
    )
    body = text(signed_in(world.a_line_manager).get(url("case_detail", case)))
    assert 'govuk-tag govuk-tag--red">Overdue' in body
    assert "Overdue by" in body


def test_a_paused_clock_shows_why(world: World) -> None:
    case = difference_at(world, Status.STAGE_2)
    deadlines.stage_clock_pause(
        actor=world.a_line_manager, difference_id=case.pk, reason="Awaiting the core group."
    )
    body = text(signed_in(world.raiser).get(url("case_detail", case)))
    assert "Paused: Awaiting the core group." in body
    assert "Stage clock paused" in body


def test_an_urgent_case_shows_the_urgent_track_tag(world: World) -> None:
    case = raise_difference(world, is_urgent=True, urgent_manager=world.a_line_manager)
    body = text(signed_in(world.raiser).get(url("case_detail", case)))
    assert "Urgent track</strong>" in body
    assert f"agreed with {world.a_line_manager.get_full_name()}" in body


def test_a_closed_case_shows_its_outcome_learning_and_no_actions_to_take(world: World) -> None:
    case = difference_at(world, Status.CLOSED)
    body = text(signed_in(world.business_manager).get(url("case_detail", case)))
    assert "Closed" in body
    assert "Share referral outcomes the same day." in body
    assert "There is nothing for you to do on this case now." in body


def test_the_case_page_shows_the_partial_outcome_and_escalated_to(world: World) -> None:
    case = difference_at(world, Status.PARTIALLY_RESOLVED, partial_at=Status.STAGE_2)
    body = text(signed_in(world.raiser).get(url("case_detail", case)))
    assert "Partly agreed." in body
    assert "Escalated to" in body
    assert "Accept the partial outcome" in body
    assert "Escalate to Stage 3" not in body  # the raiser does not escalate from Stage 2


def test_someone_not_signed_in_is_sent_to_sign_in(world: World) -> None:
    case = difference_at(world, Status.STAGE_1)
    response = Client().get(url("case_detail", case))
    assert response.status_code == 302
    assert reverse("sign_in") in response["Location"]


# -- what you can do now ---------------------------------------------------------------------


def offered(client: Client, case: Any) -> str:
    body = text(client.get(url("case_detail", case)))
    return body.split("What you can do now", 1)[1].split("The record", 1)[0]


def test_at_stage_2_a_line_manager_of_the_raising_agency_may_escalate_or_record_an_outcome(
    world: World,
) -> None:
    case = difference_at(world, Status.STAGE_2)
    offers = offered(signed_in(world.a_line_manager), case)
    assert "Escalate to Stage 3" in offers
    assert url("case_escalate", case) in offers
    assert "Record an outcome" in offers
    assert "Record a discussion" in offers
    assert "Pause the clock" in offers
    assert "Start clarification" not in offers
    assert "Close after learning review" not in offers


def test_at_stage_2_the_other_agencys_practitioner_may_only_record_a_discussion(
    world: World,
) -> None:
    case = difference_at(world, Status.STAGE_2)
    offers = offered(signed_in(world.b_practitioner), case)
    assert "Record a discussion" in offers
    assert "Escalate" not in offers
    assert "Record an outcome" not in offers
    assert "Pause the clock" not in offers


def test_at_stage_2_the_other_agencys_line_manager_may_escalate_but_not_record_an_outcome(
    world: World,
) -> None:
    case = difference_at(world, Status.STAGE_2)
    offers = offered(signed_in(world.b_line_manager), case)
    assert "Escalate to Stage 3" in offers
    assert "Record an outcome" not in offers


def test_the_raiser_is_offered_each_early_step_in_turn(world: World) -> None:
    case = difference_at(world, Status.IDENTIFIED)
    offers = offered(signed_in(world.raiser), case)
    assert "Start clarification" in offers
    assert "Withdraw" not in offers
    case = difference_at(world, Status.CLARIFICATION)
    offers = offered(signed_in(world.raiser), case)
    assert "Record clarification and move to Stage 1" in offers
    assert "Withdraw" in offers
    assert "Start clarification" not in offers


def test_at_stage_4_the_business_manager_is_offered_the_referral_to_the_final_body(
    world: World,
) -> None:
    case = difference_at(world, Status.STAGE_4)
    offers = offered(signed_in(world.business_manager), case)
    assert "Refer to the Practice Review Group" in offers


def test_a_paused_clock_is_offered_to_resume_not_to_pause(world: World) -> None:
    case = difference_at(world, Status.STAGE_2)
    deadlines.stage_clock_pause(actor=world.a_line_manager, difference_id=case.pk, reason="Wait.")
    offers = offered(signed_in(world.a_line_manager), case)
    assert "Resume the clock" in offers
    assert "Pause the clock" not in offers


def test_in_learning_review_only_the_business_manager_is_offered_closing(world: World) -> None:
    case = difference_at(world, Status.LEARNING_REVIEW)
    assert "Close after learning review" in offered(signed_in(world.business_manager), case)
    assert "Close after learning review" not in offered(signed_in(world.raiser), case)


# -- the action pages: the right person moves the case ---------------------------------------


def test_recording_a_meeting_adds_it_to_the_timeline_with_facts_and_opinion_apart(
    world: World,
) -> None:
    case = difference_at(world, Status.STAGE_1)
    client = signed_in(world.b_practitioner)
    page = url("case_record_entry", case)
    assert client.get(page).status_code == 200
    yesterday = timezone.localdate() - timedelta(days=1)
    response = client.post(
        page,
        {
            "kind": EntryKind.MEETING,
            **date_parts("occurred_on", yesterday),
            "occurred_time": "14:30",
            "method": "Face to face",
            "participants": "Both practitioners",
            "facts": "The strategy discussion was not held.",
            "opinion": "A strategy discussion was needed.",
            "outcome": "Hold one by Friday.",
        },
        follow=True,
    )
    assert_succeeded(
        response,
        "Meeting recorded",
        "Face to face",
        "Both practitioners",
        "Hold one by Friday.",
        "at 14:30",
    )
    body = text(response)
    facts_block = body.split('class="app-entry__facts', 1)[1].split("</div>", 1)[0]
    opinion_block = body.split('class="app-entry__opinion', 1)[1].split("</div>", 1)[0]
    assert "The strategy discussion was not held." in facts_block
    assert "A strategy discussion was needed." in opinion_block
    entry = Entry.objects.get(difference=case, kind=EntryKind.MEETING)
    assert timezone.localtime(entry.occurred_at).date() == yesterday
    assert entry.author == world.b_practitioner
    assert entry.author_agency_name == "B police"


def test_starting_clarification_moves_the_case_on(world: World) -> None:
    case = difference_at(world, Status.IDENTIFIED)
    client = signed_in(world.raiser)
    page = url("case_start_clarification", case)
    assert "Start clarification" in text(client.get(page))
    response = client.post(page, {"seen_state": state_of(case)}, follow=True)
    assert_succeeded(response, "moved to clarification", "Moved to clarification")
    assert refreshed(case).status == Status.CLARIFICATION


def test_recording_clarification_moves_the_case_to_stage_1(world: World) -> None:
    case = difference_at(world, Status.CLARIFICATION)
    client = signed_in(world.raiser)
    page = url("case_begin_stage_1", case)
    assert client.get(page).status_code == 200
    response = client.post(
        page,
        {
            "seen_state": state_of(case),
            "consulted": "My line manager",
            "learned": "No action is in hand.",
        },
        follow=True,
    )
    assert_succeeded(response, "is at Stage 1", "Consulted: My line manager", "Clarification done")
    assert refreshed(case).status == Status.STAGE_1


def test_withdrawing_moves_the_case_to_learning_review(world: World) -> None:
    case = difference_at(world, Status.CLARIFICATION)
    client = signed_in(world.raiser)
    page = url("case_withdraw", case)
    assert client.get(page).status_code == 200
    response = client.post(
        page,
        {"seen_state": state_of(case), "reason": "The action is already in hand."},
        follow=True,
    )
    assert_succeeded(response, "withdrawn", "The action is already in hand.", "Withdrawn")
    assert refreshed(case).status == Status.LEARNING_REVIEW


def test_escalating_from_stage_1_needs_no_oversight_note(world: World) -> None:
    case = difference_at(world, Status.STAGE_1)
    client = signed_in(world.raiser)
    page = url("case_escalate", case)
    body = text(client.get(page))
    assert "Why did Stage 1 not resolve it?" in body
    assert "oversight_note" not in body
    response = client.post(
        page, {"seen_state": state_of(case), "reason": "They would not meet."}, follow=True
    )
    assert_succeeded(response, "escalated to Stage 2", "They would not meet.")
    assert refreshed(case).status == Status.STAGE_2


def test_escalating_from_stage_2_records_the_oversight_note_and_to_whom(world: World) -> None:
    case = difference_at(world, Status.STAGE_2)
    client = signed_in(world.a_line_manager)
    page = url("case_escalate", case)
    body = text(client.get(page))
    assert "Management oversight note" in body
    response = client.post(
        page,
        {
            "seen_state": state_of(case),
            "reason": "The managers disagree.",
            "oversight_note": "I reviewed the file.",
            "escalated_to": "Jo Smith, Head of Service",
        },
        follow=True,
    )
    assert_succeeded(
        response,
        "escalated to Stage 3",
        "The managers disagree.",
        "I reviewed the file.",
        "Jo Smith, Head of Service",
    )
    assert refreshed(case).status == Status.STAGE_3


def test_stage_4_is_referred_to_the_final_body(world: World) -> None:
    case = difference_at(world, Status.STAGE_4)
    client = signed_in(world.a_director)
    page = url("case_escalate", case)
    assert "Referral summary" in text(client.get(page))
    response = client.post(
        page, {"seen_state": state_of(case), "reason": "Directors disagree."}, follow=True
    )
    assert_succeeded(response, "Referred to the Practice Review Group")
    assert refreshed(case).status == Status.FINAL_REFERRAL


def test_recording_an_outcome_with_actions(world: World) -> None:
    case = difference_at(world, Status.STAGE_2)
    client = signed_in(world.a_line_manager)
    page = url("case_record_outcome", case)
    body = text(client.get(page))
    assert "Partially resolved" in body
    assert "Not resolved" not in body
    due = timezone.localdate() + timedelta(days=14)
    response = client.post(
        page,
        {
            "seen_state": state_of(case),
            "outcome": Status.RESOLVED,
            "summary": "We agreed a strategy discussion.",
            "action_1_description": "Hold the strategy discussion",
            "action_1_owner": "Team manager, A social care",
            **date_parts("action_1_due", due),
            "action_2_description": "Share the minutes",
            "action_2_owner": "B police",
        },
        follow=True,
    )
    assert_succeeded(
        response,
        "Outcome recorded as resolved",
        "We agreed a strategy discussion.",
        "Hold the strategy discussion",
        "Share the minutes",
        "Recorded as resolved",
    )
    assert refreshed(case).status == Status.LEARNING_REVIEW
    actions = list(Action.objects.filter(difference=case).order_by("pk"))
    assert [(a.description, a.due_date) for a in actions] == [
        ("Hold the strategy discussion", due),
        ("Share the minutes", None),
    ]


def test_the_final_body_may_record_not_resolved(world: World) -> None:
    case = difference_at(world, Status.FINAL_REFERRAL)
    client = signed_in(world.final_body_member)
    page = url("case_record_outcome", case)
    assert "Not resolved" in text(client.get(page))
    response = client.post(
        page,
        {
            "seen_state": state_of(case),
            "outcome": Status.NOT_RESOLVED,
            "summary": "The body upheld the decision.",
        },
        follow=True,
    )
    assert_succeeded(response, "Outcome recorded as not resolved", "Recorded as not resolved")
    assert refreshed(case).status == Status.LEARNING_REVIEW


def test_accepting_a_partial_outcome(world: World) -> None:
    case = difference_at(world, Status.PARTIALLY_RESOLVED, partial_at=Status.STAGE_2)
    client = signed_in(world.raiser)
    page = url("case_accept_partial_outcome", case)
    assert client.get(page).status_code == 200
    response = client.post(
        page, {"seen_state": state_of(case), "reason": "Enough was agreed."}, follow=True
    )
    assert_succeeded(response, "Partial outcome accepted", "Enough was agreed.")
    assert refreshed(case).status == Status.LEARNING_REVIEW


def test_closing_after_learning_review(world: World) -> None:
    case = difference_at(world, Status.LEARNING_REVIEW)
    client = signed_in(world.business_manager)
    page = url("case_close", case)
    assert client.get(page).status_code == 200
    response = client.post(
        page,
        {
            "seen_state": state_of(case),
            "learning": "Check referral outcomes the same day.",
            "protocol_amendment_recommended": "yes",
            "protocol_amendment_note": "Add a same-day check to section 4.",
        },
        follow=True,
    )
    assert_succeeded(
        response, "closed", "Closed after learning review", "Add a same-day check to section 4."
    )
    case = refreshed(case)
    assert case.status == Status.CLOSED
    assert case.protocol_amendment_recommended is True


def test_pausing_and_resuming_the_clock(world: World) -> None:
    case = difference_at(world, Status.STAGE_2)
    client = signed_in(world.a_line_manager)
    page = url("case_pause_clock", case)
    assert client.get(page).status_code == 200
    response = client.post(
        page,
        {"seen_state": state_of(case), "reason": "Awaiting a core group meeting."},
        follow=True,
    )
    assert_succeeded(response, "Clock paused", "Paused: Awaiting a core group meeting.")
    assert StageEntry.objects.get(difference=case, left_at=None).paused_at is not None

    page = url("case_resume_clock", case)
    assert "Resume the clock" in text(client.get(page))
    response = client.post(page, {"seen_state": state_of(case)}, follow=True)
    assert_succeeded(response, "Clock resumed: now due", "Stage clock resumed")
    assert StageEntry.objects.get(difference=case, left_at=None).paused_at is None


def test_bringing_the_due_date_forward(world: World) -> None:
    case = difference_at(world, Status.STAGE_2)
    running = StageEntry.objects.get(difference=case, left_at=None)
    wanted = timezone.localtime(running.due_at - timedelta(hours=2)).replace(
        second=0, microsecond=0
    )
    client = signed_in(world.a_line_manager)
    page = url("case_shorten_clock", case)
    assert client.get(page).status_code == 200
    response = client.post(
        page,
        {
            "seen_state": state_of(case),
            **date_parts("due_at", wanted.date()),
            "due_time": f"{wanted:%H:%M}",
            "reason": "The child needs it sooner.",
        },
        follow=True,
    )
    assert_succeeded(response, "Due date brought forward to", "The child needs it sooner.")
    assert StageEntry.objects.get(difference=case, left_at=None).due_at == wanted


def test_recording_a_correction_marks_the_entry_corrected(world: World) -> None:
    case = difference_at(world, Status.STAGE_1)
    wrong = record(world, case, facts="We spoke on Monday.")
    client = signed_in(world.raiser)
    page = url("case_correct_entry", case, wrong)
    body = text(client.get(page))
    assert "We spoke on Monday." in body  # shown, and offered to correct
    response = client.post(
        page,
        {
            "reason": "The day was wrong.",
            "facts": "We spoke on Tuesday.",
            "opinion": "The threshold was met.",
            "outcome": "",
        },
        follow=True,
    )
    assert_succeeded(response, "Correction recorded", "Corrected below", "The day was wrong.")
    correction = Entry.objects.get(difference=case, kind=EntryKind.CORRECTION)
    assert correction.corrects == wrong
    assert f'href="#entry-{wrong.pk}"' in text(response)


def test_an_entry_can_be_copied_as_plain_text_for_the_agencys_record(world: World) -> None:
    case = difference_at(world, Status.STAGE_1)
    entry = record(world, case, facts=f"Facts {SCRIPT}", outcome="Meet again.")
    client = signed_in(world.b_practitioner)
    case_page = text(client.get(url("case_detail", case)))
    assert url("case_entry_copy", case, entry) in case_page
    assert url("case_correct_entry", case, entry) in case_page
    body = text(client.get(url("case_entry_copy", case, entry)))
    copy = body.split('<pre class="app-copy-text"', 1)[1].split("</pre>", 1)[0]
    for shown in (
        case.reference,
        "Amira Khan",
        "Telephone call",
        "Method: Telephone",
        "Facts:",
        "Professional opinion:",
        "The threshold was met.",
        "Outcome agreed:",
        "Meet again.",
        "OFFICIAL-SENSITIVE",
    ):
        assert shown in copy, shown
    assert "&lt;script&gt;" in copy
    assert SCRIPT not in body


# -- people who may see the case but not take the action ------------------------------------


def test_someone_who_may_not_escalate_is_told_so_instead_of_the_form(world: World) -> None:
    case = difference_at(world, Status.STAGE_2)
    client = signed_in(world.b_practitioner)
    response = client.get(url("case_escalate", case))
    assert response.status_code == 200
    assert errors.NOT_PERMITTED in text(response)
    assert 'name="reason"' not in text(response)
    response = client.post(
        url("case_escalate", case),
        {"seen_state": state_of(case), "reason": "I disagree.", "oversight_note": "Mine."},
    )
    assert_error_page(response, errors.NOT_PERMITTED)
    assert "I disagree." in text(response)
    assert refreshed(case).status == Status.STAGE_2


@pytest.mark.parametrize("name", CASE_ACTIONS)
def test_every_action_page_answers_someone_who_may_not_take_it_without_a_server_error(
    world: World, name: str
) -> None:
    case = difference_at(world, Status.CLOSED)
    client = signed_in(world.raiser)
    response = client.get(url(name, case))
    assert response.status_code == 200
    assert "govuk-warning-text" in text(response)
    response = client.post(url(name, case), {"reason": "Something."})
    assert response.status_code == 200
    assert refreshed(case).status == Status.CLOSED


# -- people who may not see the case ---------------------------------------------------------


@pytest.mark.parametrize("persona", ["c_line_manager", "q_business_manager", "outsider"])
def test_people_who_may_not_see_the_case_get_404_on_every_page_of_it(
    world: World, persona: str
) -> None:
    case = difference_at(world, Status.STAGE_2)
    entry = record(world, case)
    client = signed_in(world.people[persona])
    pages = [url("case_detail", case)]
    pages += [url(name, case) for name in CASE_ACTIONS]
    pages += [url(name, case, entry) for name in ENTRY_PAGES]
    for page in pages:
        assert client.get(page).status_code == 404, page
        posted = client.post(
            page, {"seen_state": state_of(case), "reason": "Let me in.", "kind": "call"}
        )
        assert posted.status_code == 404, page
    assert refreshed(case).status == Status.STAGE_2
    assert Entry.objects.filter(difference=case).count() == 5


def test_an_entry_of_another_case_is_404(world: World) -> None:
    case = difference_at(world, Status.STAGE_1)
    other = difference_at(world, Status.STAGE_1)
    entry = record(world, other)
    client = signed_in(world.raiser)
    assert client.get(url("case_entry_copy", case, entry)).status_code == 404
    assert client.get(url("case_correct_entry", case, entry)).status_code == 404


# -- someone else acted first ----------------------------------------------------------------


def test_escalating_a_case_someone_else_escalated_first_keeps_what_was_typed(
    world: World,
) -> None:
    case = difference_at(world, Status.STAGE_2)
    client = signed_in(world.a_line_manager)
    form_page = text(client.get(url("case_escalate", case)))
    seen = form_page.split('name="seen_state" value="', 1)[1].split('"', 1)[0]
    assert seen == "stage_2/stage_2"
    services.difference_escalate(
        actor=world.b_line_manager,
        difference_id=case.pk,
        reason="B escalated first.",
        oversight_note="B's note.",
    )
    response = client.post(
        url("case_escalate", case),
        {
            "seen_state": seen,
            "reason": "My reason, typed carefully.",
            "oversight_note": "My oversight note.",
        },
    )
    assert_error_page(
        response, "This case is now at stage 3: senior managers, so it cannot be escalated."
    )
    body = text(response)
    assert "\nMy reason, typed carefully.</textarea>" in body
    assert "\nMy oversight note.</textarea>" in body
    assert refreshed(case).status == Status.STAGE_3
    assert Entry.objects.filter(difference=case, to_status=Status.STAGE_3).count() == 1


def test_recording_an_outcome_after_the_case_moved_on_keeps_the_choice(world: World) -> None:
    case = difference_at(world, Status.STAGE_2)
    seen = state_of(case)
    services.difference_escalate(
        actor=world.b_line_manager, difference_id=case.pk, reason="B first.", oversight_note="."
    )
    response = signed_in(world.a_line_manager).post(
        url("case_record_outcome", case),
        {"seen_state": seen, "outcome": Status.RESOLVED, "summary": "Agreed."},
    )
    assert_error_page(response, "This case is now at stage 3: senior managers")
    assert 'value="resolved" checked' in text(response)
    assert refreshed(case).status == Status.STAGE_3


# -- bad input -------------------------------------------------------------------------------

# (page, state, persona, a long text field, the message when sent empty)
FORMS: list[tuple[str, str, str, str, str]] = [
    ("case_record_entry", Status.STAGE_1, "raiser", "facts", "Choose what you are recording"),
    ("case_begin_stage_1", Status.CLARIFICATION, "raiser", "learned", "Enter who you consulted"),
    ("case_withdraw", Status.CLARIFICATION, "raiser", "reason", "Enter why no practice issue"),
    ("case_escalate", Status.STAGE_2, "a_line_manager", "reason", "Enter why"),
    ("case_record_outcome", Status.STAGE_2, "a_line_manager", "summary", "Choose the outcome"),
    ("case_pause_clock", Status.STAGE_2, "a_line_manager", "reason", "Enter why you are pausing"),
    ("case_shorten_clock", Status.STAGE_2, "a_line_manager", "reason", "Enter the new due date"),
    ("case_close", Status.LEARNING_REVIEW, "business_manager", "learning", "Enter the learning"),
    (
        "case_accept_partial_outcome",
        Status.PARTIALLY_RESOLVED,
        "raiser",
        "reason",
        "Enter why your agency is accepting the partial outcome",
    ),
]


def _case_at(world: World, state: str) -> Any:
    if state == Status.PARTIALLY_RESOLVED:
        return difference_at(world, state, partial_at=Status.STAGE_2)
    return difference_at(world, state)


@pytest.mark.parametrize(("name", "state", "persona", "long_field", "required"), FORMS)
def test_a_form_sent_empty_shows_the_error_summary_and_changes_nothing(
    world: World, name: str, state: str, persona: str, long_field: str, required: str
) -> None:
    case = _case_at(world, state)
    before = Entry.objects.filter(difference=case).count()
    response = signed_in(world.people[persona]).post(url(name, case), {})
    assert_error_page(response, required)
    assert refreshed(case).status == state
    assert Entry.objects.filter(difference=case).count() == before


@pytest.mark.parametrize(("name", "state", "persona", "long_field", "required"), FORMS)
def test_a_text_of_20001_characters_is_a_field_error_not_a_server_error(
    world: World, name: str, state: str, persona: str, long_field: str, required: str
) -> None:
    case = _case_at(world, state)
    response = signed_in(world.people[persona]).post(
        url(name, case), {"seen_state": state_of(case), long_field: TOO_LONG}
    )
    assert_error_page(response, "must be 20,000 characters or fewer")
    assert refreshed(case).status == state


def test_a_correction_sent_empty_or_too_long_is_a_field_error(world: World) -> None:
    case = difference_at(world, Status.STAGE_1)
    entry = record(world, case)
    client = signed_in(world.raiser)
    page = url("case_correct_entry", case, entry)
    assert_error_page(client.post(page, {}), "Enter what was wrong with the entry")
    assert_error_page(
        client.post(page, {"reason": "Typo.", "facts": TOO_LONG}),
        "Corrected facts must be 20,000 characters or fewer",
    )
    assert_error_page(client.post(page, {"reason": "Typo."}), errors.ENTRY_NEEDS_CONTENT)
    assert not Entry.objects.filter(kind=EntryKind.CORRECTION).exists()


def test_a_short_text_of_201_characters_is_a_field_error(world: World) -> None:
    case = difference_at(world, Status.STAGE_1)
    response = signed_in(world.raiser).post(
        url("case_record_entry", case),
        {
            "kind": EntryKind.CALL,
            **date_parts("occurred_on", timezone.localdate()),
            "method": "m" * 201,
            "facts": "Facts.",
        },
    )
    assert_error_page(response, "Method must be 200 characters or fewer")


def entry_post(day: date, **fields: str) -> dict[str, str]:
    return {
        "kind": EntryKind.DISCUSSION,
        **date_parts("occurred_on", day),
        "facts": "Facts.",
        **fields,
    }


def test_a_discussion_dated_in_the_future_or_before_2000_is_refused(world: World) -> None:
    case = difference_at(world, Status.STAGE_1)
    client = signed_in(world.raiser)
    page = url("case_record_entry", case)
    tomorrow = timezone.localdate() + timedelta(days=1)
    assert_error_page(client.post(page, entry_post(tomorrow)), "must be today or in the past")
    assert_error_page(client.post(page, entry_post(date(1999, 12, 31))), "must be 2000 or later")
    assert_error_page(
        client.post(
            page, {**entry_post(tomorrow), "occurred_on_day": "31", "occurred_on_month": "2"}
        ),
        "must be a real date",
    )
    assert_error_page(
        client.post(page, entry_post(timezone.localdate(), occurred_time="25:99")),
        "Enter a real time",
    )
    assert not Entry.objects.filter(difference=case, kind=EntryKind.DISCUSSION).exists()


def test_a_discussion_with_no_facts_opinion_or_outcome_is_refused_keeping_what_was_typed(
    world: World,
) -> None:
    case = difference_at(world, Status.STAGE_1)
    response = signed_in(world.raiser).post(
        url("case_record_entry", case),
        entry_post(timezone.localdate(), facts="", participants="Ann and Bob"),
    )
    assert_error_page(response, errors.ENTRY_NEEDS_CONTENT)
    assert "\nAnn and Bob</textarea>" in text(response)


def test_script_typed_into_an_entry_is_shown_as_text_on_the_timeline(world: World) -> None:
    case = difference_at(world, Status.STAGE_1)
    client = signed_in(world.raiser)
    response = client.post(
        url("case_record_entry", case),
        entry_post(
            timezone.localdate(),
            facts=SCRIPT,
            opinion=SCRIPT,
            method=SCRIPT,
            participants=SCRIPT,
        ),
        follow=True,
    )
    assert_succeeded(response)
    body = text(response)
    assert SCRIPT not in body
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in body


def test_script_typed_into_a_refused_form_is_escaped_when_shown_again(world: World) -> None:
    case = difference_at(world, Status.STAGE_2)
    response = signed_in(world.a_line_manager).post(
        url("case_escalate", case), {"seen_state": state_of(case), "reason": SCRIPT}
    )
    assert_error_page(response, "Enter your management oversight note")
    assert SCRIPT not in text(response)


def test_an_action_with_no_owner_is_a_field_error(world: World) -> None:
    case = difference_at(world, Status.STAGE_2)
    response = signed_in(world.a_line_manager).post(
        url("case_record_outcome", case),
        {
            "seen_state": state_of(case),
            "outcome": Status.RESOLVED,
            "summary": "Agreed.",
            "action_3_description": "Share the minutes",
        },
    )
    assert_error_page(response, "Enter who owns action 3")
    assert "\nShare the minutes</textarea>" in text(response)
    assert refreshed(case).status == Status.STAGE_2


def test_not_resolved_is_refused_below_the_final_referral(world: World) -> None:
    case = difference_at(world, Status.STAGE_2)
    response = signed_in(world.a_line_manager).post(
        url("case_record_outcome", case),
        {"seen_state": state_of(case), "outcome": Status.NOT_RESOLVED, "summary": "No."},
    )
    assert_error_page(response, "Choose the outcome")
    assert refreshed(case).status == Status.STAGE_2


def test_recommending_an_amendment_without_saying_which_is_refused(world: World) -> None:
    case = difference_at(world, Status.LEARNING_REVIEW)
    response = signed_in(world.business_manager).post(
        url("case_close", case),
        {
            "seen_state": state_of(case),
            "learning": "Something learned.",
            "protocol_amendment_recommended": "yes",
        },
    )
    assert_error_page(response, "Say which amendment to the protocol is recommended.")
    assert "\nSomething learned.</textarea>" in text(response)
    assert refreshed(case).status == Status.LEARNING_REVIEW


def test_a_due_date_later_than_the_current_one_is_refused(world: World) -> None:
    case = difference_at(world, Status.STAGE_2)
    running = StageEntry.objects.get(difference=case, left_at=None)
    later = timezone.localtime(running.due_at + timedelta(days=3))
    response = signed_in(world.a_line_manager).post(
        url("case_shorten_clock", case),
        {
            "seen_state": state_of(case),
            **date_parts("due_at", later.date()),
            "due_time": "10:00",
            "reason": "Because.",
        },
    )
    assert_error_page(response, deadlines.SHORTER_ONLY)
    assert "\nBecause.</textarea>" in text(response)
    past = timezone.localdate() - timedelta(days=1)
    response = signed_in(world.a_line_manager).post(
        url("case_shorten_clock", case),
        {"seen_state": state_of(case), **date_parts("due_at", past), "due_time": "1000"},
    )
    assert_error_page(response, "must be today or in the future", "Enter a real time")


def test_a_state_that_is_not_a_state_is_ignored_and_the_service_decides(world: World) -> None:
    case = difference_at(world, Status.STAGE_1)
    response = signed_in(world.raiser).post(
        url("case_escalate", case), {"seen_state": "nonsense", "reason": "Not resolved."}
    )
    assert response.status_code == 302
    assert refreshed(case).status == Status.STAGE_2


# -- a constant number of queries ------------------------------------------------------------


def _grow(world: World, case: Any, *, entries: int, children: int) -> None:
    for number in range(entries):
        entry = record(world, case, facts=f"Entry {number}.")
        if number % 10 == 0:
            entry_correct(
                actor=world.raiser,
                difference=case,
                corrects=entry,
                facts="Corrected.",
                reason="Typo.",
            )
    for number in range(children):
        Child.objects.create(difference=case, name=f"Child Number{number}", address="1 Road")
    Party.objects.get_or_create(difference=case, agency=world.agency_c)
    for number in range(children):
        NamedProfessional.objects.create(
            difference=case, agency=world.agency_c, name=f"Person {number}"
        )
        Action.objects.create(
            difference=case, description=f"Action {number}", owner="Me", recorded_by=world.raiser
        )


def _queries_for_case_page(user: Any, case: Any) -> int:
    client = signed_in(user)
    client.get(url("case_detail", case))  # warm the session and caches alike for both
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url("case_detail", case))
    assert response.status_code == 200
    return len(captured)


def test_the_case_page_runs_the_same_number_of_queries_for_2_or_40_entries(world: World) -> None:
    small = difference_at(world, Status.STAGE_2)
    _grow(world, small, entries=2, children=1)
    large = difference_at(world, Status.STAGE_2)
    _grow(world, large, entries=40, children=8)
    assert Entry.objects.filter(difference=large).count() > 40
    small_count = _queries_for_case_page(world.a_line_manager, small)
    large_count = _queries_for_case_page(world.a_line_manager, large)
    assert small_count == large_count
    assert small_count <= 25


def test_a_case_number_too_big_for_the_database_is_404_not_a_server_error(world: World) -> None:
    client = signed_in(world.raiser)
    huge = "9" * 30
    assert client.get(f"/cases/{huge}/").status_code == 404
    assert client.post(f"/cases/{huge}/escalate/", {"reason": "x"}).status_code == 404
    case = difference_at(world, Status.STAGE_1)
    assert client.get(f"/cases/{case.pk}/entries/{huge}/copy/").status_code == 404


def test_a_withdrawn_case_shows_why_as_its_outcome(world: World) -> None:
    case = difference_at(world, Status.WITHDRAWN)
    body = text(signed_in(world.raiser).get(url("case_detail", case)))
    record_part = body.split("The record", 1)[1].split('id="timeline"', 1)[0]
    assert "Withdrawn" in record_part
    assert "Action already in hand." in record_part


def test_the_timeline_is_in_the_order_things_happened_not_the_order_recorded(
    world: World,
) -> None:
    case = difference_at(world, Status.STAGE_1)
    client = signed_in(world.raiser)
    earlier = timezone.localdate() - timedelta(days=3)
    client.post(
        url("case_record_entry", case),
        entry_post(earlier, kind=EntryKind.CORRESPONDENCE, facts="The letter we sent."),
    )
    body = text(client.get(url("case_detail", case)))
    timeline = body.split('id="timeline"', 1)[1]
    assert timeline.index("The letter we sent.") < timeline.index("Raised <span")
    assert earlier.strftime("%Y") in timeline
    # A date given without a time shows as the date alone.
    letter = timeline.split("Correspondence <span", 1)[1].split("</time>", 1)[0]
    assert " at " not in letter.split("<time", 1)[1]


def test_the_case_page_lists_linked_cases_both_ways_but_only_those_the_person_sees(
    world: World,
) -> None:
    case = raise_difference(world)
    onward = raise_difference(world)
    earlier = raise_difference(world)
    hidden = raise_difference(
        world,
        actor=world.c_practitioner,
        raiser_agency=world.agency_c,
        other_agencies=[world.agency_b],
    )
    case.linked_cases.add(onward)
    earlier.linked_cases.add(case)
    hidden.linked_cases.add(case)
    body = text(signed_in(world.raiser).get(url("case_detail", case)))
    assert "Linked cases" in body
    assert onward.reference in body
    assert earlier.reference in body
    assert hidden.reference not in body
    seen_by_c = text(signed_in(world.c_practitioner).get(url("case_detail", hidden)))
    assert case.reference not in seen_by_c  # C is no party to ``case``
