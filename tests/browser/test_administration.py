"""The administrator's pages in a real browser: the access log and the anonymisation
confirmation pass axe, and the confirmation's error follows the GOV.UK pattern."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from escalations.models import ProfessionalDifference
from records.retention import retention_scan
from tests.browser.conftest import assert_accessible, sign_in
from tests.conftest import build_world
from tests.records.retention_world import closed_case


def test_the_access_log_page_is_accessible(page: Any) -> None:
    world = build_world()
    case = closed_case(world)
    sign_in(page, "business_manager")
    page.goto(f"/cases/{case.pk}/")
    page.context.clear_cookies()
    sign_in(page, "c_practitioner")
    page.goto(f"/cases/{case.pk}/")  # refused (404): recorded as denied
    page.context.clear_cookies()
    sign_in(page, "administrator")

    page.goto("/administration/access-log/")

    assert page.locator("h1").inner_text() == "Access log"
    assert page.get_by_role("table").is_visible()
    assert page.get_by_text("Denied").first.is_visible()
    assert_accessible(page, "access-log")
    page.get_by_label("Case reference").fill("not a reference")
    page.get_by_role("button", name="Apply filters").click()
    assert "Enter a case reference like PD-2026-12" in page.get_by_role("alert").inner_text()
    assert_accessible(page, "access-log-error")


def test_the_anonymisation_confirmation_page_is_accessible(page: Any) -> None:
    world = build_world()
    case = closed_case(world)
    ProfessionalDifference.objects.filter(pk=case.pk).update(
        closed_at=timezone.now() - timedelta(days=8 * 366)
    )
    retention_scan()
    sign_in(page, "administrator")

    page.goto("/administration/retention/")
    assert_accessible(page, "retention")
    page.get_by_role("link", name=f"Anonymise {case.reference}").click()
    assert page.locator("h1").inner_text() == "Anonymise this case"
    assert_accessible(page, "anonymise-confirm")
    page.get_by_role("button", name=f"Anonymise {case.reference}").click()
    assert "Confirm that this case should be anonymised" in page.get_by_role("alert").inner_text()
    assert_accessible(page, "anonymise-confirm-error")
    page.get_by_role("checkbox").check()
    page.get_by_role("button", name=f"Anonymise {case.reference}").click()
    assert f"{case.reference} has been anonymised" in page.content()
    assert ProfessionalDifference.objects.get(pk=case.pk).anonymised_at is not None


def test_the_subject_access_search_is_accessible(page: Any) -> None:
    world = build_world()
    closed_case(world)
    sign_in(page, "administrator")
    page.goto("/administration/subject-access/")
    page.get_by_label("Child's name").fill("Amira")
    page.get_by_role("button", name="Search").click()
    assert_accessible(page, "subject-access-search")
    page.get_by_role("link", name="Amira Khan").click()
    assert page.get_by_role("link", name="Download JSON").is_visible()
    assert_accessible(page, "subject-access-child")
