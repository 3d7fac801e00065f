"""The report page in a real browser: accessible (axe), usable without JavaScript."""

from __future__ import annotations

import os
from typing import Any

from tests.browser.conftest import assert_accessible, sign_in
from tests.conftest import build_world
from tests.reports.conftest import build_fixture

QUERY = (
    "?period=custom&start_day=1&start_month=4&start_year=2026&end_day=30&end_month=9&end_year=2026"
)


def test_the_report_page_is_accessible(page: Any) -> None:
    build_fixture(build_world())
    sign_in(page, "business_manager")
    page.goto("/reports/" + QUERY)
    assert page.locator("h1").inner_text() == "Monitoring report"
    assert page.get_by_role("heading", name="Headline figures").is_visible()
    charts = page.locator("svg[role=img]")
    assert charts.count() == 5
    assert_accessible(page, "monitoring-report")
    if os.environ.get("REPORT_SCREENSHOT"):
        page.screenshot(path=os.environ["REPORT_SCREENSHOT"], full_page=True)
    # Another period without its dates: the error summary.
    page.goto("/reports/")
    page.get_by_label("Another period").check()
    page.get_by_role("button", name="Show the report").click()
    assert page.get_by_role("alert").is_visible()
    assert "Enter the date the period starts" in page.get_by_role("alert").inner_text()
    assert_accessible(page, "monitoring-report-error")


def test_the_period_form_works_without_javascript(page_without_js: Any) -> None:
    build_fixture(build_world())
    page = page_without_js
    sign_in(page, "administrator")
    page.goto("/reports/")
    page.get_by_label("Another period").check()
    start = page.get_by_role("group", name="Start date")
    start.get_by_label("Day").fill("1")
    start.get_by_label("Month").fill("4")
    start.get_by_label("Year").fill("2026")
    end = page.get_by_role("group", name="End date")
    end.get_by_label("Day").fill("30")
    end.get_by_label("Month").fill("9")
    end.get_by_label("Year").fill("2026")
    page.get_by_role("button", name="Show the report").click()
    assert page.get_by_role("heading", name="1 April 2026 to 30 September 2026").is_visible()
    assert page.get_by_role("link", name="Download as PDF").is_visible()
