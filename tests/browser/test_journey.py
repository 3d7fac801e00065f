"""A difference from raising to closure, in a real browser, by the people spec §3 names.

a_practitioner (A social care) raises it against B police, naming B's practitioner; moves it
to clarification and Stage 1; b_practitioner records their response; a_practitioner takes it
to Stage 2; a_line_manager to Stage 3; a_senior_manager records it resolved with an action;
business_manager records the learning and closes it. Every page visited is checked with axe.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from django.utils import timezone

from tests.browser.conftest import assert_accessible, sign_in
from tests.browser.pages import (
    NoScriptChecker,
    block,
    choose,
    enter_date,
    heading,
    press,
    status,
    success_banner,
    switch_to,
    timeline,
    timeline_entry,
)
from tests.conftest import World, build_world

Check = Callable[[str], None]

CHILD = "Amira Khan"
BORN = date(2015, 3, 27)
ISSUE = "Police closed the referral without a strategy discussion; the child is still at risk."
FACTS = "On the call B police said the referral did not meet their threshold."
OPINION = "In my professional opinion a strategy discussion is still needed."


def _open_waiting_case(page: Any, reference: str, check: Check, name: str) -> None:
    """From the home page, open the case from the 'Waiting for you' table."""
    assert heading(page) == "Your cases"
    waiting = page.get_by_role("table", name="Cases waiting for you")
    check(name)
    waiting.get_by_role("link", name=reference).click()
    assert heading(page) == reference


def raise_the_difference(page: Any, world: World, check: Check, prefix: str) -> str:
    """a_practitioner's raise journey from the home page; returns the new case's reference."""
    sign_in(page, "a_practitioner")
    assert heading(page) == "Your cases"
    check(f"{prefix}01-home")

    page.get_by_role("navigation", name="Menu").get_by_role(
        "link", name="Raise a difference"
    ).click()
    assert heading(page) == "Raise a professional difference"
    check(f"{prefix}02-raise-start")
    press(page, "Start now")

    assert heading(page) == "Is a child at immediate risk of significant harm?"
    check(f"{prefix}03-raise-immediate-risk")
    choose(page, "No")
    press(page, "Continue")

    assert heading(page) == "Is this a complaint about an individual professional?"
    check(f"{prefix}04-raise-complaint")
    choose(page, "No")
    press(page, "Continue")

    assert heading(page) == "Add a child"
    check(f"{prefix}05-raise-child")
    page.get_by_label("Full name").fill(CHILD)
    enter_date(page, "Date of birth", BORN)
    page.get_by_label("Address").fill("1 High Street\nRotherham\nS60 1AA")
    page.get_by_label("Early years placement or school").fill("Oakwood Primary School")
    press(page, "Continue")

    assert heading(page) == "You have added 1 child"
    assert page.get_by_role("term").all_inner_texts() == [CHILD]
    assert page.get_by_text("Born 27 March 2015").is_visible()
    check(f"{prefix}06-raise-children")
    choose(page, "No")
    press(page, "Continue")

    assert heading(page) == "Which agency or agencies is the difference with?"
    check(f"{prefix}07-raise-other-agencies")
    choose(page, "B police")
    press(page, "Continue")

    assert heading(page) == "Named professionals at the other agencies"
    check(f"{prefix}08-raise-named-professionals")
    b_name = world.b_practitioner.get_full_name()
    b_label = f"{b_name} — Practitioner, B police"
    listed = page.get_by_label(b_label, exact=True)
    named = listed.count() == 1
    if named:
        listed.check()
    press(page, "Continue")

    assert heading(page) == "Which category best describes the difference?"
    check(f"{prefix}09-raise-category")
    choose(page, world.category.name)
    press(page, "Continue")

    assert heading(page) == "What was this issue about?"
    check(f"{prefix}10-raise-context")
    choose(page, "Open case")
    press(page, "Continue")

    assert heading(page) == "Describe the issue in your own words"
    check(f"{prefix}11-raise-issue")
    page.get_by_label("Describe the issue in your own words").fill(ISSUE)
    press(page, "Continue")

    assert heading(page) == "Check your answers before raising the difference"
    main = page.locator("main")
    for text in (CHILD, "Date of birth: 27 March 2015", "B police", world.category.name, ISSUE):
        assert text in main.inner_text(), text
    if named:
        assert b_label in main.inner_text()
    check(f"{prefix}12-raise-check-answers")
    press(page, "Raise the difference")

    reference = heading(page)
    assert success_banner(page) == f"Difference {reference} raised"
    assert status(page) == "Identified"
    assert CHILD in page.locator(".govuk-summary-list__row", has_text="Child").first.inner_text()
    if named:
        assert f"{b_name}, Practitioner, B police" in page.locator("main").inner_text()
    assert timeline(page)[0].startswith("Raised by ")
    check(f"{prefix}13-case-raised")
    return reference


def take_it_to_closure(page: Any, world: World, reference: str, check: Check, prefix: str) -> None:
    """From the raised case page (as a_practitioner) to Closed."""
    # Clarification, then Stage 1 recording the clarification.
    press(page, "Start clarification")
    assert heading(page) == "Start clarification"
    check(f"{prefix}14-start-clarification")
    press(page, "Start clarification")
    assert success_banner(page) == f"{reference} moved to clarification"
    assert status(page) == "Clarification"

    press(page, "Record clarification and move to Stage 1")
    assert heading(page) == "Record clarification and move to Stage 1"
    check(f"{prefix}15-begin-stage-1")
    page.get_by_label("Who did you consult?").fill("My line manager, Sam Patel")
    page.get_by_label("What did you learn from the clarification?").fill(
        "B police had the referral but did not hold a strategy discussion."
    )
    press(page, "Move to Stage 1")
    assert success_banner(page) == f"Clarification recorded: {reference} is at Stage 1"
    assert status(page) == "Stage 1: practitioners"
    entry = timeline_entry(page, "Clarification recorded and moved to Stage 1")
    assert "Sam Patel" in block(entry, "Clarification done")
    check(f"{prefix}16-case-stage-1")

    # B's practitioner opens it from their home page and records their response.
    switch_to(page, "b_practitioner")
    _open_waiting_case(page, reference, check, f"{prefix}17-home-b-practitioner")
    assert status(page) == "Stage 1: practitioners"
    check(f"{prefix}18-case-b-practitioner")
    press(page, "Record a discussion, meeting, call or correspondence")
    assert heading(page) == "Record a discussion, meeting, call or correspondence"
    check(f"{prefix}19-record-discussion")
    choose(page, "Discussion")
    now = timezone.localtime()
    enter_date(page, "Date", now.date())
    page.get_by_label("Time (optional)", exact=True).fill(f"{now:%H:%M}")
    page.get_by_label("Method").fill("Telephone")
    page.get_by_label("Participants").fill("Both practitioners")
    page.get_by_label("Facts (optional)", exact=True).fill(FACTS)
    page.get_by_label("Professional opinion").fill(OPINION)
    page.get_by_label("Outcome agreed").fill("No agreement reached.")
    press(page, "Continue")
    assert success_banner(page) == "Discussion recorded"
    b_by = f"by {world.b_practitioner.get_full_name()}"
    entry = timeline_entry(page, "Discussion")
    assert b_by in " ".join(entry.locator("h3").inner_text().split())
    assert block(entry, "Facts") == FACTS
    assert block(entry, "Professional opinion") == OPINION
    check(f"{prefix}20-case-discussion-recorded")

    # The raiser takes Stage 1 to Stage 2.
    switch_to(page, "a_practitioner")
    _open_waiting_case(page, reference, check, f"{prefix}21-home-a-practitioner")
    press(page, "Escalate to Stage 2")
    assert heading(page) == "Escalate to Stage 2"
    check(f"{prefix}22-escalate-to-stage-2")
    page.get_by_label("Why did Stage 1 not resolve it?").fill("B police still decline.")
    press(page, "Escalate to Stage 2")
    assert success_banner(page) == f"{reference} escalated to Stage 2"
    assert status(page) == "Stage 2: line managers and safeguarding leads"
    check(f"{prefix}23-case-stage-2")

    # A's line manager takes it to Stage 3 with the oversight note.
    switch_to(page, "a_line_manager")
    _open_waiting_case(page, reference, check, f"{prefix}24-home-a-line-manager")
    press(page, "Escalate to Stage 3")
    assert heading(page) == "Escalate to Stage 3"
    check(f"{prefix}25-escalate-to-stage-3")
    page.get_by_label("Why did Stage 2 not resolve it?").fill("The managers did not agree.")
    page.get_by_label("Management oversight note").fill("I reviewed the case file and agree.")
    press(page, "Escalate to Stage 3")
    assert success_banner(page) == f"{reference} escalated to Stage 3"
    assert status(page) == "Stage 3: senior managers"
    entry = timeline_entry(page, "Escalated to Stage 3")
    assert block(entry, "Why Stage 2 did not resolve it") == "The managers did not agree."
    assert block(entry, "Management oversight note") == "I reviewed the case file and agree."
    check(f"{prefix}26-case-stage-3")

    # A's senior manager records it resolved, with one action.
    switch_to(page, "a_senior_manager")
    _open_waiting_case(page, reference, check, f"{prefix}27-home-a-senior-manager")
    press(page, "Record an outcome")
    assert heading(page) == "Record an outcome"
    check(f"{prefix}28-record-outcome")
    choose(page, "Resolved")
    page.get_by_label("Summary of the outcome").fill("A strategy discussion will be held.")
    page.get_by_label("Action 1: what will be done").fill("Hold a strategy discussion")
    page.get_by_label("Action 1: who owns it").fill("DI Jones, B police")
    due = date.today() + timedelta(days=14)
    enter_date(page, "Action 1: due date", due)
    press(page, "Record the outcome")
    assert success_banner(page) == (
        f"Outcome recorded as resolved: {reference} moved to learning review"
    )
    assert status(page) == "Learning review"
    actions = page.locator(".govuk-summary-list__row", has_text="Actions agreed").inner_text()
    assert "Hold a strategy discussion" in actions
    assert "DI Jones, B police" in actions
    assert f"{due.day} {due:%B %Y}" in actions
    headings = timeline(page)
    assert any(h.startswith("Recorded as resolved") for h in headings), headings
    assert any(h.startswith("Moved to learning review") for h in headings), headings
    check(f"{prefix}29-case-learning-review")

    # The business manager records the learning and closes it.
    switch_to(page, "business_manager")
    _open_waiting_case(page, reference, check, f"{prefix}30-home-business-manager")
    press(page, "Close after learning review")
    assert heading(page) == "Close after learning review"
    check(f"{prefix}31-close")
    page.get_by_label("What is the learning from this difference?").fill(
        "Share referral outcomes the same day."
    )
    choose(page, "No")
    press(page, "Close the case")
    assert success_banner(page) == f"{reference} closed"
    assert status(page) == "Closed"
    assert page.get_by_text("There is nothing for you to do on this case now.").is_visible()
    entry = timeline_entry(page, "Closed after learning review")
    assert block(entry, "Learning") == "Share referral outcomes the same day."
    check(f"{prefix}32-case-closed")


def test_a_difference_goes_from_raising_to_closure_in_the_browser(
    page: Any, csp_violations: list[str]
) -> None:
    """The whole journey, axe on every page, and the Content Security Policy blocks nothing
    the pages need (the inline scripts carry the response's nonce)."""
    world = build_world()

    def check(name: str) -> None:
        assert_accessible(page, name)

    reference = raise_the_difference(page, world, check, "")
    # Both the raiser's first block and B's response stay on the timeline to the end.
    take_it_to_closure(page, world, reference, check, "")
    headings = timeline(page)
    # (B's discussion is dated to the minute, so it may sort just before the raising.)
    assert any(h.startswith("Raised by ") for h in headings), headings
    assert any(h.startswith("Discussion by ") for h in headings), headings
    assert headings[-1].startswith("Closed after learning review"), headings
    # The nonce let GOV.UK Frontend's inline snippet run, under the enforced policy.
    assert page.evaluate("() => document.body.classList.contains('govuk-frontend-supported')")
    assert csp_violations == []


def test_the_journey_completes_with_javascript_switched_off(page_without_js: Any) -> None:
    page = page_without_js
    world = build_world()
    checker = NoScriptChecker(page)
    try:
        reference = raise_the_difference(page, world, checker.check, "nojs-")
        assert not page.evaluate("() => document.body.classList.contains('js-enabled')")
        take_it_to_closure(page, world, reference, checker.check, "nojs-")
    finally:
        checker.close()
