"""Signing in, in a real browser."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import assert_accessible, sign_in
from tests.conftest import build_world


def test_a_person_signs_in_and_sees_their_home_page(page: Any) -> None:
    build_world()
    page.goto("/")
    assert "/sign-in/" in page.url
    assert_accessible(page, "sign-in")
    sign_in(page, "a_practitioner")
    assert page.locator("h1").first.is_visible()
    assert page.url.endswith("/")
    assert_accessible(page, "home")


def test_a_wrong_password_shows_the_error_summary(page: Any) -> None:
    build_world()
    sign_in(page, "a_practitioner", "not-the-password")
    assert page.get_by_role("alert").is_visible()
    assert "Error:" in page.title()
    assert_accessible(page, "sign-in-error")


def test_signing_in_works_without_javascript(page_without_js: Any) -> None:
    build_world()
    sign_in(page_without_js, "a_practitioner")
    assert page_without_js.url.endswith("/")
