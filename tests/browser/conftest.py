"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server.

Without Chromium these tests skip on a laptop, and fail when CI is set.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

# The live server runs in a thread of this process; Playwright's sync API looks async to
# Django's safety check.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "ui" / "static" / "build" / "axe.min.js"
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
PASSWORD = "a-test-password-123"


def _missing(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} is required in CI but is not available.")
    pytest.skip(f"needs {what}")


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        _missing(f"Chromium at {CHROMIUM} (apt-get install chromium)")
    if not AXE.exists():
        _missing("built assets (make assets)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any, live_server: Any, transactional_db: Any) -> Iterator[Any]:
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    # The browser logs each thing the Content Security Policy blocks to the console ("Refused
    # to … because it violates the following Content Security Policy directive …").
    found: list[str] = []
    page._csp_violations = found
    page.on(
        "console",
        lambda message: (
            found.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    yield page
    context.close()
    if not getattr(page, "_csp_checked_by_test", False):
        assert found == [], f"the Content Security Policy blocked something: {found}"


@pytest.fixture
def csp_violations(page: Any) -> list[str]:
    """What the browser reported as blocked by the Content Security Policy on ``page``; a
    test that asks for it checks the list itself (else the ``page`` fixture fails at teardown
    on any violation)."""
    page._csp_checked_by_test = True
    return page._csp_violations  # type: ignore[no-any-return]


@pytest.fixture
def page_without_js(chromium: Any, live_server: Any, transactional_db: Any) -> Iterator[Any]:
    context = chromium.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def sign_in(page: Any, username: str, password: str = PASSWORD, check: bool = False) -> None:
    """Sign in through the sign-in page, then type the authenticator code (every test person
    has a TOTP authenticator with the known secret); ``check`` runs axe on the code page."""
    page.goto("/sign-in/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    if "/account/two-factor/code/" not in page.url:
        return  # a wrong password, a lockout, or someone still to set up an authenticator
    if check:
        assert_accessible(page, "sign-in-code")
    from django.contrib.auth import get_user_model

    from tests.support.mfa import forget_used_code, totp_code

    code = totp_code()
    # The same person may sign in twice within one 30-second window of a test.
    forget_used_code(get_user_model().objects.get(username=username), code)
    page.get_by_label("Code", exact=True).fill(code)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state()


def assert_accessible(page: Any, name: str = "") -> None:
    """axe-core finds no WCAG 2.2 A/AA violation on the page (and, when asked, a screenshot
    is kept in docs/screenshots/)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # By URL from this origin, as a <script src>: the page's Content Security Policy
        # (script-src 'self' plus a nonce) allows it, so axe runs under the real policy.
        page.add_script_tag(url=f"{settings.STATIC_URL}build/axe.min.js")
    result = page.evaluate(
        """async () => await axe.run(document, {runOnly: {type: 'tag', values:
        ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})"""
    )
    violations = [
        (v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]
    ]
    assert violations == [], f"{page.url}: {violations}"
    # Only the main journey's pages ("NN-…") are kept; the keyboard, no-JavaScript and error
    # runs are checked the same way but would only repeat them.
    if name and name[:2].isdigit() and os.environ.get("SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
