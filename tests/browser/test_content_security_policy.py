"""The Content Security Policy is enforced in a real browser, and the pages live within it.

The journey test (test_journey.py) asserts that no page of the whole journey had anything
blocked; this one proves the listener sees a violation when there is one, so that "none" there
means none.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import assert_accessible
from tests.conftest import build_world

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_inline_script_without_the_nonce_is_blocked_and_reported(
    page: Any, csp_violations: list[str]
) -> None:
    page.goto("/sign-in/")
    # Our own inline snippet ran (it carries the nonce) …
    assert page.evaluate("() => document.body.classList.contains('js-enabled')")
    # … an injected one does not.
    from playwright.sync_api import Error as PlaywrightError

    with pytest.raises(PlaywrightError, match="Content Security Policy"):
        page.add_script_tag(content="window.__injected = true;")
    page.wait_for_timeout(200)
    assert page.evaluate("() => window.__injected === undefined")
    assert any("script-src" in text for text in csp_violations), csp_violations


def test_the_sign_in_and_home_pages_have_nothing_blocked(
    page: Any, csp_violations: list[str]
) -> None:
    build_world()
    page.goto("/sign-in/")
    assert_accessible(page)
    page.get_by_label("Username").fill("a_practitioner")
    page.get_by_label("Password").fill("a-test-password-123")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert_accessible(page)
    page.goto("/cases/")
    page.goto("/raise/")
    assert page.evaluate("() => document.body.classList.contains('govuk-frontend-supported')")
    assert csp_violations == []
