"""The downloads: the workbook has the page's numbers, formulas are neutralised, the PDF holds
every headline figure, charts carry their values as text, and no child is identifiable."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from datetime import date, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from reports.exports import neutralise
from reports.pdf import (
    ResourceRefused,
    allowed_path,
    fallback_html_to_pdf,
    html_to_pdf,
    static_roots,
)
from reports.report import monitoring_report
from reports.sections import build_sections
from tests.reports.conftest import (
    CHILD_BIRTHS,
    INJECTED_ACTION,
    INJECTED_CATEGORY,
    PERIOD,
    Fixture,
    child_identifiers,
)
from tests.reports.test_views import PERIOD_QUERY
from tests.support.mfa import reauthenticate

pytestmark = pytest.mark.django_db
SVG = "{http://www.w3.org/2000/svg}"


class Tables(HTMLParser):
    """The page's tables, by caption: rows of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._caption: str | None = None
        self._in_caption = False
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag == "caption":
            self._in_caption, self._caption = True, ""
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "caption":
            self._in_caption = False
            self.tables[self._caption or ""] = []
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._caption is not None:
            self.tables[self._caption].append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._in_caption:
            self._caption = (self._caption or "") + data
        elif self._cell is not None:
            self._cell.append(data)


def parse_svg(markup: str) -> ET.Element:
    """Our own chart markup (not untrusted input)."""
    return ET.fromstring(markup)  # noqa: S314


def page_tables(client: Client) -> dict[str, list[list[str]]]:
    response = client.get(reverse("report"), PERIOD_QUERY)
    assert response.status_code == 200
    parser = Tables()
    parser.feed(response.content.decode())
    return {" ".join(k.split()): v for k, v in parser.tables.items()}


def as_page_text(cell: Any) -> str:
    value = cell.value
    if cell.number_format == "0.0":
        return f"{value:.1f}"
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, datetime | date):
        return f"{value.day} {value:%b %Y}"
    return str(value).removeprefix("'")


def download(client: Client, fmt: str, **extra: str) -> bytes:
    response = client.get(reverse("report_download", args=[fmt]), {**PERIOD_QUERY, **extra})
    assert response.status_code == 200, response
    assert response["Cache-Control"] == "no-store"
    return b"".join(response) if response.streaming else response.content


@pytest.fixture
def admin_client(monitoring: Fixture, client: Client) -> Client:
    client.force_login(monitoring.world.administrator)
    reauthenticate(client)
    return client


def test_the_workbook_has_the_same_numbers_as_the_page(admin_client: Client) -> None:
    tables = page_tables(admin_client)
    workbook = load_workbook(io.BytesIO(download(admin_client, "xlsx", exact="on")))
    assert workbook.sheetnames[0] == "About"
    compared = 0
    for sheet in workbook.worksheets[1:]:
        caption = sheet.cell(row=2, column=1).value
        assert caption in tables, caption
        page_rows = tables[caption]
        sheet_rows = [
            [as_page_text(cell) for cell in row]
            for row in sheet.iter_rows(min_row=4, max_row=4 + len(page_rows) - 1)
        ]
        assert [row[: len(page_rows[0])] for row in sheet_rows] == page_rows, caption
        compared += 1
    assert compared == len(tables) == 17
    headline = workbook["Headline figures"]
    assert headline["B5"].value == 4 and headline["C5"].value == 2  # numbers, not text
    assert workbook["Working days"]["C5"].value == 9.0


def test_formulas_are_neutralised_in_the_workbook_and_the_csv(admin_client: Client) -> None:
    workbook = load_workbook(io.BytesIO(download(admin_client, "xlsx")))
    category = next(
        cell
        for row in workbook["By category"].iter_rows()
        for cell in row
        if isinstance(cell.value, str) and "HYPERLINK" in cell.value
    )
    assert category.value == "'" + INJECTED_CATEGORY
    assert category.data_type == "s"
    action = workbook["Actions"]["A5"]
    assert action.value == "'" + INJECTED_ACTION
    assert action.data_type == "s"
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
    text = download(admin_client, "csv").decode("utf-8-sig")
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert "'" + INJECTED_CATEGORY in cells
    assert "'" + INJECTED_ACTION in cells
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "\nx"])
def test_neutralise(value: str) -> None:
    assert neutralise(value) == "'" + value
    assert neutralise("Plain – text") == "Plain – text"


def test_the_pdf_holds_every_headline_figure(monitoring: Fixture, admin_client: Client) -> None:
    pdf = download(admin_client, "pdf", exact="on")
    assert pdf.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    sections = build_sections(monitoring_report(monitoring.world.partnership, PERIOD), exact=True)
    headline = next(s for s in sections if s.key == "headline")
    for row in headline.rows:
        line = " ".join(cell.text for cell in row)
        assert line in text, line
    assert "Opened 4 2 ↑ up 2" in text
    assert "Median working days from raising to outcome 9.0 1.0 ↑ up 8.0" in text
    assert "OFFICIAL-SENSITIVE" in text
    assert re.search(r"Page 1 of \d+", text)
    assert "INTERNAL: exact numbers" in text
    # The charts are in the PDF, their labels as text.
    assert "Final referral" in text
    assert not reader.attachments


def test_the_circulation_pdf_withholds_small_counts(admin_client: Client) -> None:
    reader = PdfReader(io.BytesIO(download(admin_client, "pdf")))
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    assert "Opened fewer than 5 fewer than 5 ↑ up" in text
    assert "INTERNAL" not in text


def test_the_charts_carry_their_values_as_text(monitoring: Fixture) -> None:
    sections = build_sections(monitoring_report(monitoring.world.partnership, PERIOD), exact=True)
    charts = {s.key: s for s in sections if s.chart}
    assert set(charts) == {
        "highest-stage",
        "outcomes",
        "working-days-distribution",
        "breaches-agency",
        "trend",
    }
    for key, section in charts.items():
        svg = parse_svg(section.chart)
        assert svg.get("role") == "img"
        title = svg.find(f"{SVG}title")
        assert title is not None and title.text
        description = svg.find(f"{SVG}desc")
        assert description is not None and description.text
        labelled_by = (svg.get("aria-labelledby") or "").split()
        assert labelled_by == [title.get("id"), description.get("id")]
        texts = [t.text for t in svg.iter(f"{SVG}text")]
        # Every value of the section's table is written in its chart.
        for row in section.rows:
            if row[0].text == "Total":
                continue
            for cell in row[1:]:
                assert cell.text in texts, (key, row[0].text, cell.text)
        for row in section.rows:
            if key != "trend" and row[0].text != "Total":
                assert row[0].text in texts, (key, row[0].text)
    outcome_texts = [t.text for t in parse_svg(charts["outcomes"].chart).iter(f"{SVG}text")]
    assert outcome_texts.count("1") == 4
    trend = parse_svg(charts["trend"].chart)
    assert "Jun 26" in [t.text for t in trend.iter(f"{SVG}text")]


def test_withheld_values_draw_no_bar(monitoring: Fixture) -> None:
    sections = build_sections(monitoring_report(monitoring.world.partnership, PERIOD), exact=False)
    outcomes = parse_svg(next(s for s in sections if s.key == "outcomes").chart)
    assert [t.text for t in outcomes.iter(f"{SVG}text")].count("fewer than 5") == 4
    assert list(outcomes.iter(f"{SVG}rect")) == []


def test_no_child_identifier_in_any_output(monitoring: Fixture, admin_client: Client) -> None:
    identifiers = child_identifiers()
    page = admin_client.get(reverse("report"), PERIOD_QUERY).content.decode()
    csv_text = download(admin_client, "csv", exact="on").decode("utf-8-sig")
    workbook = load_workbook(io.BytesIO(download(admin_client, "xlsx", exact="on")))
    cells = [
        cell.value for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row
    ]
    xlsx_text = "\n".join(str(v) for v in cells if v is not None)
    pdf = PdfReader(io.BytesIO(download(admin_client, "pdf", exact="on")))
    pdf_text = "\n".join(page.extract_text() for page in pdf.pages)
    for name, output in (("page", page), ("CSV", csv_text), ("XLSX", xlsx_text), ("PDF", pdf_text)):
        assert "Headline figures" in output, name
        for identifier in identifiers:
            assert identifier not in output, (name, identifier)
    for born in CHILD_BIRTHS:
        assert born not in cells
        assert datetime(born.year, born.month, born.day) not in cells


def test_the_management_command_writes_each_format(monitoring: Fixture, tmp_path: Path) -> None:
    for fmt in ("pdf", "xlsx", "csv"):
        output = tmp_path / f"report.{fmt}"
        call_command(
            "monitoring_report",
            "--partnership", "p", "--from", "2026-04-01", "--to", "2026-09-30",
            "--format", fmt, "--output", str(output), stdout=io.StringIO(),
        )  # fmt: skip
        assert output.stat().st_size > 1000
    text = (tmp_path / "report.csv").read_text("utf-8-sig")
    assert "Headline figures,data,Opened,fewer than 5,fewer than 5,↑ up" in text
    call_command(
        "monitoring_report",
        "--partnership", "p", "--from", "2026-04-01", "--to", "2026-09-30",
        "--format", "csv", "--output", str(tmp_path / "exact.csv"), "--exact",
        stdout=io.StringIO(),
    )  # fmt: skip
    assert "Headline figures,data,Opened,4,2,↑ up 2" in (tmp_path / "exact.csv").read_text(
        "utf-8-sig"
    )


@override_settings(REPORTS_EXACT_SMALL_COUNTS=True)
def test_the_setting_makes_every_download_exact(monitoring: Fixture, client: Client) -> None:
    client.force_login(monitoring.world.business_manager)
    reauthenticate(client)
    text = download(client, "csv").decode("utf-8-sig")
    assert "Headline figures,data,Opened,4,2,↑ up 2" in text


def test_only_administrators_get_exact_numbers_by_asking(
    monitoring: Fixture, client: Client
) -> None:
    client.force_login(monitoring.world.business_manager)
    reauthenticate(client)
    text = download(client, "csv", exact="on").decode("utf-8-sig")
    assert "Headline figures,data,Opened,fewer than 5" in text


def test_the_pdf_renderer_fetches_only_static_files(tmp_path: Path) -> None:
    for url in (
        "file:///etc/passwd",
        "http://127.0.0.1:9/x.css",
        "https://example.org/x.png",
        "data:text/plain,secret",
        "file://evil.example/x.css",
    ):
        with pytest.raises(ResourceRefused):
            allowed_path(url)
    secret = tmp_path / "secret.css"
    secret.write_text("body{}")
    with pytest.raises(ResourceRefused):
        allowed_path(secret.as_uri())
    css = next(root / "build" / "app.css" for root in static_roots() if (root / "build").is_dir())
    assert allowed_path(css.as_uri()) == css.resolve()
    with pytest.raises(ResourceRefused):
        allowed_path((css.parent / ".." / ".." / ".." / "pyproject.toml").as_uri())
    hostile = (
        '<html><body><p>Hello</p><link rel="attachment" href="file:///etc/passwd">'
        '<img src="file:///etc/hostname"><img src="http://127.0.0.1:9/x.png"></body></html>'
    )
    for render in (html_to_pdf, fallback_html_to_pdf):
        pdf = render(hostile)
        reader = PdfReader(io.BytesIO(pdf))
        assert "Hello" in reader.pages[0].extract_text()
        assert not reader.attachments
        assert b"root:" not in pdf
