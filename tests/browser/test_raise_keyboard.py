"""Raising a difference with the keyboard alone (WCAG 2.1.1 Keyboard, 2.4.1 Bypass Blocks,
2.4.7 Focus Visible, 2.4.11 Focus Not Obscured).

On every page of the journey the first Tab stop is the "Skip to main content" link (followed
once, from the home page, where it moves the focus to main); every Tab stop on the way is on
screen and wears GOV.UK's yellow focus indicator. Only ``page.keyboard`` drives the journey
pages: no clicks, no fills.
"""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import assert_accessible, sign_in
from tests.browser.pages import heading, status, success_banner
from tests.conftest import build_world

FOCUS_COLOUR = "rgb(255, 221, 0)"

# What has the focus, whether it is on screen, and whether it shows the focus colour (for a
# radio or checkbox, GOV.UK draws the focus ring on its label's ::before).
FOCUSED = """() => {
  const el = document.activeElement;
  const ring = (e, pseudo) => {
    const s = getComputedStyle(e, pseudo);
    const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
    return [outline ? s.outlineColor : '', s.boxShadow, s.backgroundColor].join(' ');
  };
  let shown = el;
  let style = ring(el, null);
  const boxed = el.matches('input[type=radio], input[type=checkbox]');
  if (boxed && el.labels && el.labels.length) {
    shown = el.labels[0];
    style = ring(shown, '::before');
  }
  const r = shown.getBoundingClientRect();
  const label = el.labels && el.labels.length ? el.labels[0].innerText : el.innerText || '';
  return {
    tag: el.tagName.toLowerCase(),
    id: el.id,
    type: el.getAttribute('type') || '',
    name: label.trim().replace(/\\s+/g, ' '),
    checked: !!el.checked,
    value: el.value === undefined ? null : el.value,
    on_screen: r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0
      && r.top < window.innerHeight && r.left < window.innerWidth,
    visible: shown.checkVisibility({visibilityProperty: true, opacityProperty: true}),
    style: style,
  };
}"""


def focused(page: Any) -> dict[str, Any]:
    return dict(page.evaluate(FOCUSED))


def _assert_focus_visible(stop: dict[str, Any]) -> None:
    assert stop["tag"] != "body", "the focus was lost"
    assert stop["on_screen"] and stop["visible"], f"the focused element is not visible: {stop}"
    assert FOCUS_COLOUR in stop["style"], f"no focus indicator: {stop}"


def tab_to(page: Any, name: str = "", *, id: str = "", back: bool = False) -> dict[str, Any]:
    """Press Tab (Shift+Tab when ``back``) until the element named ``name`` (or with ``id``)
    has the focus, checking every stop on the way is visible."""
    seen = []
    for _ in range(60):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        stop = focused(page)
        _assert_focus_visible(stop)
        seen.append(stop["name"] or stop["id"])
        if (name and stop["name"] == name) or (id and stop["id"] == id):
            return stop
    raise AssertionError(f"never reached {name or id!r}; Tab stops: {seen}")


def new_page(page: Any, expected_heading: str, screenshot: str, *, skip: bool = False) -> None:
    """A page just loaded: check it, and that the first Tab stop is the skip link (shown when
    focused). With ``skip``, follow it: the focus moves to main."""
    assert heading(page) == expected_heading
    assert_accessible(page, screenshot)
    page.keyboard.press("Tab")
    stop = focused(page)
    assert stop["name"] == "Skip to main content", f"first Tab stop: {stop}"
    _assert_focus_visible(stop)
    if skip:
        page.keyboard.press("Enter")
        assert focused(page)["id"] == "main-content"


def type_into(page: Any, name: str, text: str, *, id: str = "") -> None:
    tab_to(page, name, id=id)
    page.keyboard.type(text)


def choose_radio(page: Any, label: str, *, first: str = "") -> None:
    """Tab into a radio group (at the radio labelled ``first``), then arrow to ``label``."""
    stop = tab_to(page, first) if first else _tab_to_type(page, "radio")
    for _ in range(20):
        if stop["name"] == label:
            if not stop["checked"]:
                page.keyboard.press("Space")
            assert focused(page)["checked"], f"{label!r} is not selected"
            return
        page.keyboard.press("ArrowDown")
        stop = focused(page)
        _assert_focus_visible(stop)
    raise AssertionError(f"no radio {label!r}")


def _tab_to_type(page: Any, input_type: str) -> dict[str, Any]:
    for _ in range(60):
        page.keyboard.press("Tab")
        stop = focused(page)
        _assert_focus_visible(stop)
        if stop["type"] == input_type:
            return stop
    raise AssertionError(f"no {input_type} on the page")


def activate(page: Any, name: str) -> None:
    """Tab to a button or link that loads a page, press Enter, and wait for the page."""
    tab_to(page, name)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_the_raise_journey_can_be_completed_with_the_keyboard_alone(page: Any) -> None:
    world = build_world()
    sign_in(page, "a_practitioner")

    new_page(page, "Your cases", "kb-01-home", skip=True)
    # The service navigation sits before main: go back up to it.
    tab_to(page, "Raise a difference", back=True)
    with page.expect_navigation():
        page.keyboard.press("Enter")

    new_page(page, "Raise a professional difference", "kb-02-raise-start")
    activate(page, "Start now")

    # An error on the way: the summary takes the focus; its link takes it to the radios.
    new_page(page, "Is a child at immediate risk of significant harm?", "kb-03-immediate-risk")
    activate(page, "Continue")
    assert heading(page) == "Is a child at immediate risk of significant harm?"
    assert page.title().startswith("Error: ")
    # The summary is the first thing in main, announced (role=alert), and has the focus (but
    # also after the skip link was used on the page before: see the test below).
    summary = page.locator("main > :first-child .govuk-error-summary")
    assert summary.get_by_role("alert").is_visible()
    assert page.evaluate("() => document.activeElement.classList.contains('govuk-error-summary')")
    assert_accessible(page, "kb-04-immediate-risk-error")
    tab_to(page, "Select yes if a child is at immediate risk of significant harm")
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "id_immediate_risk_0"
    page.keyboard.press("ArrowRight")
    assert focused(page)["name"] == "No" and focused(page)["checked"]
    activate(page, "Continue")

    new_page(page, "Is this a complaint about an individual professional?", "kb-05-complaint")
    choose_radio(page, "No")
    activate(page, "Continue")

    new_page(page, "Add a child", "kb-06-child")
    type_into(page, "Full name", "Amira Khan")
    type_into(page, "Day", "27")
    type_into(page, "Month", "3")
    type_into(page, "Year", "2015")
    type_into(page, "Address (optional)", "1 High Street")
    page.keyboard.press("Enter")  # a new line in the address
    page.keyboard.type("Rotherham")
    type_into(page, "Early years placement or school (optional)", "Oakwood Primary School")
    # Back up to check what was typed is kept.
    stop = tab_to(page, "Full name", back=True)
    assert stop["value"] == "Amira Khan"
    activate(page, "Continue")

    new_page(page, "You have added 1 child", "kb-07-children")
    choose_radio(page, "No", first="Yes")
    activate(page, "Continue")

    new_page(page, "Which agency or agencies is the difference with?", "kb-08-other-agencies")
    tab_to(page, "B police")
    page.keyboard.press("Space")
    assert focused(page)["checked"]
    activate(page, "Continue")

    new_page(page, "Named professionals at the other agencies", "kb-09-named")
    b_label = f"{world.b_practitioner.get_full_name()} — Practitioner, B police"
    tab_to(page, b_label)
    page.keyboard.press("Space")
    assert focused(page)["checked"]
    activate(page, "Continue")

    new_page(page, "Which category best describes the difference?", "kb-10-category")
    choose_radio(page, "Timeliness or drift")
    activate(page, "Continue")

    new_page(page, "What was this issue about?", "kb-11-context")
    choose_radio(page, "Open case")
    activate(page, "Continue")

    new_page(page, "Describe the issue in your own words", "kb-12-issue")
    type_into(page, "Describe the issue in your own words", "No strategy discussion was held.")
    activate(page, "Continue")

    new_page(page, "Check your answers before raising the difference", "kb-13-check")
    main = page.locator("main").inner_text()
    for text in ("Amira Khan", "27 March 2015", "B police", b_label, "Timeliness or drift"):
        assert text in main, text
    activate(page, "Raise the difference")

    reference = heading(page)
    assert success_banner(page) == f"Difference {reference} raised"
    assert status(page) == "Identified"
    assert "No strategy discussion was held." in page.locator("main").inner_text()
    assert_accessible(page, "kb-14-case-raised")


def test_the_error_summary_takes_the_focus_after_the_skip_link_was_used(page: Any) -> None:
    build_world()
    sign_in(page, "a_practitioner")
    page.goto("/raise/immediate-risk/")
    page.keyboard.press("Tab")
    assert focused(page)["name"] == "Skip to main content"
    page.keyboard.press("Enter")
    activate(page, "Continue")
    assert page.title().startswith("Error: ")
    assert page.evaluate("() => document.activeElement.classList.contains('govuk-error-summary')")
