"""Signing in, in a real browser."""

from __future__ import annotations

from typing import Any

from agencies.models import AgencyRole
from agencies.services import agency_membership_grant
from tests.browser.conftest import assert_accessible, sign_in
from tests.conftest import build_world
from tests.factories.directory import UserFactory
from tests.support.mfa import totp_code


def test_a_person_signs_in_and_sees_their_home_page(page: Any) -> None:
    build_world()
    page.goto("/")
    assert "/sign-in/" in page.url
    assert_accessible(page, "sign-in")
    sign_in(page, "a_practitioner", check=True)
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


def test_a_new_person_sets_up_their_authenticator_on_first_sign_in(page: Any) -> None:
    world = build_world()
    newcomer = UserFactory(username="newcomer", enrolled=False)
    agency_membership_grant(user=newcomer, agency=world.agency_a, role=AgencyRole.PRACTITIONER)
    sign_in(page, "newcomer")
    assert "/account/two-factor/set-up/" in page.url
    assert page.get_by_role("heading", name="Set up your authenticator app").is_visible()
    assert_accessible(page, "mfa-set-up")
    # Anywhere else still leads back here.
    page.goto("/cases/")
    assert "/account/two-factor/set-up/" in page.url
    page.get_by_label("Authenticator code").fill("000000" if totp_code() != "000000" else "1")
    page.get_by_role("button", name="Continue").click()
    assert page.get_by_role("alert").is_visible()
    assert_accessible(page, "mfa-set-up-error")
    secret = page.locator("code.app-secret").inner_text().strip()
    page.get_by_label("Authenticator code").fill(totp_code(secret))
    page.get_by_role("button", name="Continue").click()
    assert page.get_by_role("heading", name="Your recovery codes").is_visible()
    assert page.locator("ul.app-recovery-codes li").count() == 10
    assert_accessible(page, "mfa-recovery-codes")
    page.get_by_role("button", name="Continue to the service").click()
    assert page.url.endswith("/")
    assert_accessible(page, "home-after-set-up")


def test_the_lockout_page_is_the_services_own(page: Any) -> None:
    build_world()
    for _ in range(10):
        sign_in(page, "a_practitioner", "not-the-password")
    assert page.get_by_role("heading", name="Sign-in locked for 5 minutes").is_visible()
    assert_accessible(page, "sign-in-locked")


def test_a_download_asks_for_the_password_again_then_downloads(page: Any) -> None:
    from tests.reports.conftest import build_fixture

    build_fixture(build_world())
    sign_in(page, "business_manager")
    page.goto("/reports/")
    page.get_by_role("link", name="Download as CSV").click()
    assert page.get_by_role("heading", name="Confirm it is you").is_visible()
    assert_accessible(page, "reauthenticate")
    page.get_by_label("Password").fill("not-my-password")
    page.get_by_role("button", name="Continue").click()
    assert page.get_by_role("alert").is_visible()
    assert_accessible(page, "reauthenticate-error")
    page.get_by_label("Password").fill("a-test-password-123")
    with page.expect_download() as download:
        page.get_by_role("button", name="Continue").click()
    assert download.value.suggested_filename.endswith(".csv")
    # Within ten minutes the next download asks nothing.
    page.goto("/reports/")
    with page.expect_download() as again:
        page.get_by_role("link", name="Download as PDF").click()
    assert again.value.suggested_filename.endswith(".pdf")


def test_the_other_account_pages_are_accessible(page: Any) -> None:
    build_world()
    sign_in(page, "a_practitioner")
    page.goto("/account/two-factor/reauthenticate/")
    assert page.get_by_role("heading", name="Confirm it is you").is_visible()
    assert_accessible(page, "reauthenticate-code")
    page.goto("/account/two-factor/")
    assert page.get_by_role("heading", name="Two-factor authentication").is_visible()
    assert_accessible(page, "mfa-index")
    page.goto("/sign-out/")
    assert page.get_by_role("heading", name="Sign out").is_visible()
    assert_accessible(page, "sign-out")
    page.get_by_role("main").get_by_role("button", name="Sign out").click()
    assert "/sign-in/" in page.url
    assert page.get_by_text("You have signed out on every device.").is_visible()
    assert_accessible(page, "signed-out")
