"""Each form, submitted empty or wrong once, shows GOV.UK's error pattern and passes axe.

The pattern (see ``tests.browser.pages.assert_error_pattern``): "Error:" in the title; the
error summary (role=alert) first in main, with the focus; each of its links goes to the field,
which shows the same message with a hidden "Error:" prefix and is described by it.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from tests.browser.conftest import assert_accessible, sign_in
from tests.browser.pages import (
    assert_error_pattern,
    choose,
    enter_date,
    heading,
    press,
    switch_to,
)
from tests.conftest import build_world
from tests.factories.differences import difference_at


def test_the_raise_journey_forms_show_the_error_pattern(page: Any) -> None:
    build_world()
    sign_in(page, "a_practitioner")
    page.goto("/raise/")
    press(page, "Start now")

    assert heading(page) == "Is a child at immediate risk of significant harm?"
    press(page, "Continue")
    assert_error_pattern(
        page,
        ["Select yes if a child is at immediate risk of significant harm"],
        "err-01-raise-immediate-risk",
    )
    choose(page, "Yes")
    press(page, "Continue")

    assert heading(page) == "Call 999 or the children's social care front door now"
    press(page, "Continue")
    assert_error_pattern(
        page,
        ["Select whether to use the urgent track or continue on the standard track"],
        "err-02-raise-emergency",
    )
    choose(page, "Use the urgent track")
    press(page, "Continue")

    assert heading(page).startswith("Which line manager or safeguarding lead of A social care")
    press(page, "Continue")
    assert_error_pattern(
        page,
        ["Select the line manager or safeguarding lead who agreed to use the urgent track"],
        "err-03-raise-urgent-manager",
    )
    page.locator("input[type=radio]").first.check()
    press(page, "Continue")

    assert heading(page) == "Is this a complaint about an individual professional?"
    press(page, "Continue")
    assert_error_pattern(
        page,
        ["Select yes if this is a complaint about an individual professional"],
        "err-04-raise-complaint",
    )
    choose(page, "No")
    press(page, "Continue")

    assert heading(page) == "Add a child"
    page.get_by_role("group", name="Date of birth").get_by_label("Day").fill("31")
    page.get_by_role("group", name="Date of birth").get_by_label("Month").fill("2")
    page.get_by_role("group", name="Date of birth").get_by_label("Year").fill("2015")
    press(page, "Continue")
    assert_error_pattern(
        page,
        ["Enter the child's full name", "Date of birth must be a real date"],
        "err-05-raise-child",
    )
    # What was typed is kept.
    assert page.get_by_role("group", name="Date of birth").get_by_label("Day").input_value() == "31"
    page.get_by_label("Full name").fill("Amira Khan")
    enter_date(page, "Date of birth", date(2015, 2, 28))
    press(page, "Continue")

    assert heading(page) == "You have added 1 child"
    press(page, "Continue")
    assert_error_pattern(
        page, ["Select yes if you need to add another child"], "err-06-raise-children"
    )
    choose(page, "No")
    press(page, "Continue")

    assert heading(page) == "Which agency or agencies is the difference with?"
    press(page, "Continue")
    assert_error_pattern(
        page,
        ["Select the agency or agencies the difference is with"],
        "err-07-raise-other-agencies",
    )
    choose(page, "B police")
    press(page, "Continue")

    assert heading(page) == "Named professionals at the other agencies"
    page.get_by_label("Their role").fill("Detective sergeant")
    press(page, "Continue")
    assert_error_pattern(
        page, ["Enter the name of the person not listed"], "err-08-raise-named-professionals"
    )
    page.get_by_label("Their role").fill("")
    press(page, "Continue")

    assert heading(page) == "Which category best describes the difference?"
    press(page, "Continue")
    assert_error_pattern(
        page,
        ["Select the category that best describes the difference"],
        "err-09-raise-category",
    )
    choose(page, "Timeliness or drift")
    press(page, "Continue")

    assert heading(page) == "What was this issue about?"
    press(page, "Continue")
    assert_error_pattern(page, ["Select what the issue was about"], "err-10-raise-context")
    choose(page, "Open case")
    press(page, "Continue")

    assert heading(page) == "Describe the issue in your own words"
    press(page, "Continue")
    assert_error_pattern(page, ["Describe the issue in your own words"], "err-11-raise-issue")
    page.get_by_label("Describe the issue in your own words").fill("No strategy discussion.")
    press(page, "Continue")

    assert heading(page) == "Check your answers before raising the difference"
    assert "Urgent track: opens at Stage 2" in page.locator("main").inner_text()
    assert_accessible(page, "err-12-raise-check-answers-urgent")


def test_the_case_action_forms_show_the_error_pattern(page: Any) -> None:
    world = build_world()
    clarifying = difference_at(world, "clarification")
    stage_2 = difference_at(world, "stage_2")
    learning = difference_at(world, "learning_review")

    sign_in(page, "a_practitioner")

    page.goto(f"/cases/{clarifying.pk}/record/")
    assert heading(page) == "Record a discussion, meeting, call or correspondence"
    assert_accessible(page, "err-20-record-discussion-form")
    page.get_by_label("Time (optional)", exact=True).fill("25:99")
    press(page, "Continue")
    assert_error_pattern(
        page,
        [
            "Choose what you are recording",
            "Enter the date",
            "Enter a real time, using the 24-hour clock, for example, 14:30",
        ],
        "err-21-record-discussion",
    )

    page.goto(f"/cases/{clarifying.pk}/stage-1/")
    press(page, "Move to Stage 1")
    assert_error_pattern(
        page,
        ["Enter who you consulted", "Enter what you learned from the clarification"],
        "err-22-begin-stage-1",
    )

    page.goto(f"/cases/{clarifying.pk}/withdraw/")
    press(page, "Withdraw")
    assert_error_pattern(page, ["Enter why no practice issue remains"], "err-23-withdraw")

    page.goto(f"/cases/{clarifying.pk}/clock/pause/")
    assert heading(page) == "Pause the clock"
    press(page, "Pause the clock")
    assert_error_pattern(page, ["Enter why you are pausing the clock"], "err-24-pause-clock")

    page.goto(f"/cases/{clarifying.pk}/clock/bring-forward/")
    assert heading(page) == "Bring the due date forward"
    press(page, "Bring the due date forward")
    assert_error_pattern(
        page,
        [
            "Enter the new due date",
            "Enter the new due time",
            "Enter why the due date is brought forward",
        ],
        "err-25-bring-due-date-forward",
    )

    switch_to(page, "a_line_manager")
    page.goto(f"/cases/{stage_2.pk}/escalate/")
    assert heading(page) == "Escalate to Stage 3"
    press(page, "Escalate to Stage 3")
    assert_error_pattern(
        page, ["Enter why", "Enter your management oversight note"], "err-26-escalate"
    )

    page.goto(f"/cases/{stage_2.pk}/outcome/")
    assert heading(page) == "Record an outcome"
    page.get_by_label("Action 1: what will be done").fill("Hold a strategy discussion")
    due = page.get_by_role("group", name="Action 1: due date")
    due.get_by_label("Day").fill("32")
    due.get_by_label("Month").fill("1")
    due.get_by_label("Year").fill(str((date.today() + timedelta(days=400)).year))
    press(page, "Record the outcome")
    assert_error_pattern(
        page,
        [
            "Choose the outcome",
            "Enter a summary of the outcome",
            "Enter who owns action 1",
            "Action 1: due date must be a real date",
        ],
        "err-27-record-outcome",
    )

    switch_to(page, "business_manager")
    page.goto(f"/cases/{learning.pk}/close/")
    assert heading(page) == "Close after learning review"
    press(page, "Close the case")
    assert_error_pattern(
        page,
        ["Enter the learning from this difference", "Choose whether the protocol needs amending"],
        "err-28-close",
    )


def test_the_page_not_found_is_accessible(page: Any) -> None:
    build_world()
    sign_in(page, "a_practitioner")
    response = page.goto("/cases/999999/")
    assert response.status == 404
    assert heading(page) == "Page not found"
    assert page.title().startswith("Page not found")
    assert_accessible(page, "err-30-page-not-found")


def test_the_error_pattern_without_javascript(page_without_js: Any) -> None:
    """Without JavaScript the summary is still first in main and announced, with links."""
    page = page_without_js
    build_world()
    sign_in(page, "a_practitioner")
    page.goto("/raise/immediate-risk/")
    press(page, "Continue")
    assert page.title().startswith("Error: ")
    assert page.locator("main .govuk-error-summary [role=alert]").is_visible()
    link = page.locator(".govuk-error-summary__list a")
    assert link.get_attribute("href") == "#id_immediate_risk_0"
    assert page.locator("#id_immediate_risk-error").inner_text().startswith("Error:")


def test_the_time_inputs_are_sized_for_a_time(page: Any) -> None:
    world = build_world()
    clarifying = difference_at(world, "clarification")
    sign_in(page, "a_practitioner")
    page.goto(f"/cases/{clarifying.pk}/record/")
    assert_accessible(page)
    time_box = page.get_by_label("Time (optional)", exact=True)
    assert "govuk-input--width-5" in str(time_box.get_attribute("class")).split()
