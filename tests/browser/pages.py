"""Small page helpers for the browser tests: GOV.UK forms, switching people, the error pattern.

Everything here reads the page as a person would (headings, labels, button names, banners);
nothing reaches into the database.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from tests.browser.conftest import assert_accessible, sign_in

# -- moving around --------------------------------------------------------------------------


def sign_out(page: Any) -> None:
    page.get_by_role("button", name="Sign out").click()
    assert "/sign-in/" in page.url


def switch_to(page: Any, username: str) -> None:
    """Sign out, then sign in as someone else."""
    sign_out(page)
    sign_in(page, username)


def press(page: Any, name: str) -> None:
    """Press a button (a <button>, or a link styled and announced as a button)."""
    page.get_by_role("button", name=name, exact=True).click()
    page.wait_for_load_state()


def choose(page: Any, label: str) -> None:
    """Select a radio or tick a checkbox by its exact label."""
    page.get_by_label(label, exact=True).check()


def enter_date(page: Any, legend: str, day: date) -> None:
    """Fill a GOV.UK date input (the Day, Month and Year boxes inside the fieldset)."""
    group = page.get_by_role("group", name=legend)
    group.get_by_label("Day", exact=True).fill(str(day.day))
    group.get_by_label("Month", exact=True).fill(str(day.month))
    group.get_by_label("Year", exact=True).fill(str(day.year))


# -- what the page shows --------------------------------------------------------------------


def heading(page: Any) -> str:
    return str(page.locator("h1").first.inner_text()).strip()


def status(page: Any) -> str:
    """The status tag under the case's heading."""
    return str(page.locator("main h1 + p .govuk-tag").first.inner_text()).strip()


def success_banner(page: Any) -> str:
    banner = page.locator(".govuk-notification-banner--success")
    assert banner.get_attribute("role") == "alert"
    assert banner.locator(".govuk-notification-banner__title").inner_text().strip() == "Success"
    return str(banner.locator(".govuk-notification-banner__heading").inner_text()).strip()


def timeline(page: Any) -> list[str]:
    """The timeline's entry headings, oldest first ('Discussion by Jo Bloggs, …')."""
    return [
        " ".join(text.split()) for text in page.locator(".app-timeline__item h3").all_inner_texts()
    ]


def timeline_entry(page: Any, starts_with: str) -> Any:
    """The (last) timeline entry whose heading starts with ``starts_with``."""
    items = page.locator(".app-timeline__item").filter(
        has=page.locator("h3", has_text=re.compile(rf"^\s*{re.escape(starts_with)}"))
    )
    assert items.count() >= 1, f"no timeline entry {starts_with!r} in {timeline(page)}"
    return items.last


def block(entry: Any, label: str) -> str:
    """The text under one of a timeline entry's block headings ('Facts', …)."""
    section = entry.locator("div").filter(has=entry.page.get_by_role("heading", name=label))
    return str(section.last.locator("p").inner_text()).strip()


# -- the GOV.UK error pattern ---------------------------------------------------------------

_FIELD_ID = re.compile(r"^(?P<base>.+?)(?:_0|_day)$")


def error_summary_messages(page: Any) -> list[str]:
    return [
        " ".join(t.split()) for t in page.locator(".govuk-error-summary__list a").all_inner_texts()
    ]


def assert_error_pattern(
    page: Any, expected: list[str], name: str, *, javascript: bool = True
) -> None:
    """The page shows GOV.UK's error pattern for exactly ``expected`` (in page order).

    The title starts "Error:"; the error summary (role=alert) is the first thing in main and,
    with JavaScript, has the focus; each summary link targets a field on the page that shows
    the same message with a hidden "Error:" prefix, is described by it, and sits in an
    errored form group; following a link (with JavaScript) moves the focus to that field. Then
    axe checks the error state.
    """
    assert page.title().startswith("Error: "), page.title()
    summary = page.locator(".govuk-error-summary")
    assert summary.count() == 1
    assert summary.get_by_role("alert").count() == 1
    assert summary.get_by_role("heading", name="There is a problem").is_visible()
    first_in_main = page.evaluate(
        "() => document.querySelector('main').querySelector('.govuk-error-summary, h1, form')"
        ".classList.contains('govuk-error-summary')"
    )
    assert first_in_main, "the error summary is not at the top of main"
    if javascript:
        assert page.evaluate(
            "() => document.activeElement.classList.contains('govuk-error-summary')"
        ), "the error summary did not receive the focus"
    assert error_summary_messages(page) == expected

    links = page.locator(".govuk-error-summary__list a")
    targets = [str(href) for href in links.evaluate_all("els => els.map(a => a.hash)")]
    for message, target in zip(expected, targets, strict=True):
        field_id = target.removeprefix("#")
        control = page.locator(f"[id='{field_id}']")
        assert control.count() == 1, f"{message!r} links to {target}, which is not on the page"
        match = _FIELD_ID.match(field_id)
        base = match["base"] if match else field_id
        error = page.locator(f"[id='{base}-error']")
        assert error.count() == 1, f"no error message beside the field of {message!r}"
        assert error.locator(".govuk-visually-hidden").first.inner_text().strip() == "Error:"
        assert message in " ".join(error.inner_text().split())
        assert error.evaluate("e => !!e.closest('.govuk-form-group--error')")
        described = control.evaluate(
            "c => [c, c.closest('fieldset')].filter(Boolean)"
            ".map(e => e.getAttribute('aria-describedby') || '').join(' ')"
        )
        assert f"{base}-error" in str(described).split(), (
            f"{field_id} is not described by its error message"
        )
    if javascript:
        for index, (message, target) in enumerate(zip(expected, targets, strict=True)):
            links.nth(index).click()
            focused = page.evaluate("() => document.activeElement.id")
            assert f"#{focused}" == target, f"{message!r} moved the focus to {focused!r}"
    assert_accessible(page, name)


# -- accessibility of pages shown without JavaScript ----------------------------------------


class NoScriptChecker:
    """axe needs JavaScript, so a page seen with JavaScript off is checked by serving its HTML,
    less every <script>, to a JavaScript-enabled page at the same address (the same DOM a
    browser without JavaScript builds, with the app's own stylesheet)."""

    def __init__(self, page: Any) -> None:
        self.source = page
        self.context: Any = None
        self.checker: Any = None

    def check(self, name: str = "") -> None:
        html = self.source.content()
        url = self.source.url
        if self.checker is None:
            browser = self.source.context.browser
            self.context = browser.new_context(viewport={"width": 1280, "height": 900})
            self.checker = self.context.new_page()
            self.checker.set_default_timeout(10_000)
        stripped = re.sub(r"<script\b.*?</script>", "", html, flags=re.DOTALL | re.IGNORECASE)

        def serve(route: Any) -> None:
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=stripped)

        def same_address(address: str) -> bool:
            return address == url

        self.checker.route(same_address, serve)
        try:
            self.checker.goto(url)
            assert self.checker.evaluate("() => document.scripts.length") == 0
            assert_accessible(self.checker, name)
        finally:
            self.checker.unroute(same_address)

    def close(self) -> None:
        if self.context is not None:
            self.context.close()
