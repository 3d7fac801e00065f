"""Downloads of the report: one CSV of every table, an XLSX workbook (a sheet per table) and a
PDF of the whole report.

Spreadsheet formula injection: any text cell that starts with ``=``, ``+``, ``-``, ``@``, a
tab, a carriage return or a line feed is written with a leading apostrophe, as text, in both
the CSV and the workbook, so no spreadsheet evaluates it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from reports.figures import MonitoringReport
from reports.periods import LONDON
from reports.sections import Section

MARKING = "OFFICIAL-SENSITIVE"
# The full-width forms too: some spreadsheet locales read "＝" as "=".
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
CIRCULATION_NOTE = (
    "Counts from 1 to 4 are shown as “fewer than 5”, and statistics resting on fewer than 5 "
    "cases are not shown."
)
EXACT_NOTE = "INTERNAL: exact numbers, small counts included. Not for circulation."


def neutralise(value: str) -> str:
    """Text a spreadsheet will not evaluate as a formula."""
    if value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def preamble(report: MonitoringReport, *, exact: bool) -> list[tuple[str, str]]:
    """What every download says about itself."""
    generated = timezone.localtime(report.generated_at, LONDON)
    return [
        ("Report", "Six-monthly monitoring report: resolving professional differences"),
        ("Partnership", report.partnership_name),
        ("Period", report.period.label),
        ("Compared with", report.previous.label),
        ("Generated", f"{generated:%d %B %Y %H:%M}"),
        ("Small counts", EXACT_NOTE if exact else CIRCULATION_NOTE),
        ("Marking", MARKING),
        ("Content", "Aggregate figures only: no child's name, date of birth or address."),
    ]


def filename(report: MonitoringReport, extension: str, *, exact: bool) -> str:
    suffix = "-internal" if exact else ""
    return f"monitoring-report-{report.period.slug}{suffix}.{extension}"


# -- CSV ------------------------------------------------------------------------------------


def report_csv(report: MonitoringReport, sections: Sequence[Section], *, exact: bool) -> bytes:
    """One CSV: a ``section`` column, a ``row`` column (header or data), then the cells."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["section", "row", "column 1", "column 2", "column 3", "column 4"])
    for label, value in preamble(report, exact=exact):
        writer.writerow(["About this report", "data", neutralise(label), neutralise(value)])
    for section in sections:
        writer.writerow([section.title, "header", *[neutralise(h) for h in section.headers]])
        for row in section.rows:
            writer.writerow([section.title, "data", *[neutralise(cell.text) for cell in row]])
        for note in section.notes:
            writer.writerow([section.title, "note", neutralise(note)])
    # A byte-order mark so Excel reads the UTF-8 (arrows, en dashes) correctly.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


# -- XLSX -----------------------------------------------------------------------------------


def _sheet_value(value: Any) -> Any:
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return value


def _write(sheet: Any, row: int, column: int, value: Any, *, bold: bool = False) -> None:
    cell = sheet.cell(row=row, column=column)
    cell.value = _sheet_value(value)
    if isinstance(cell.value, str):
        cell.data_type = "s"  # never a formula, whatever the text
    if isinstance(value, date):
        cell.number_format = "d mmm yyyy"
    elif isinstance(value, float):
        cell.number_format = "0.0"  # working days, as the page shows them
    if bold:
        cell.font = Font(bold=True)


def report_xlsx(report: MonitoringReport, sections: Sequence[Section], *, exact: bool) -> bytes:
    """A workbook: "About" first, then one sheet per table, numbers stored as numbers."""
    workbook = Workbook()
    about = workbook.active
    about.title = "About"
    for index, (label, value) in enumerate(preamble(report, exact=exact), start=1):
        _write(about, index, 1, label, bold=True)
        _write(about, index, 2, value)
    about.column_dimensions["A"].width = 18
    about.column_dimensions["B"].width = 90
    used: set[str] = {"About"}
    for section in sections:
        name = _sheet_name(section.sheet, used)
        sheet = workbook.create_sheet(name)
        _write(sheet, 1, 1, section.title, bold=True)
        _write(sheet, 2, 1, section.caption)
        for column, header in enumerate(section.headers, start=1):
            _write(sheet, 4, column, header, bold=True)
        for r, row in enumerate(section.rows, start=5):
            for column, cell in enumerate(row, start=1):
                _write(sheet, r, column, cell.sheet_value, bold=cell.header and column == 1)
                if section.key in ("actions", "amendments"):
                    sheet.cell(row=r, column=column).alignment = Alignment(wrap_text=True)
        if not section.rows and section.empty_text:
            _write(sheet, 5, 1, section.empty_text)
        note_row = 6 + max(len(section.rows), 1)
        for offset, note in enumerate(section.notes):
            _write(sheet, note_row + offset, 1, note)
        for column in range(1, len(section.headers) + 1):
            width = 60 if section.key in ("actions", "amendments") and column <= 2 else 22
            sheet.column_dimensions[get_column_letter(column)].width = width if column > 1 else 45
        sheet.freeze_panes = "A5"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _sheet_name(wanted: str, used: set[str]) -> str:
    cleaned = "".join(ch for ch in wanted if ch not in "[]:*?/\\")[:31] or "Sheet"
    name, n = cleaned, 2
    while name in used:
        name = f"{cleaned[:28]} {n}"
        n += 1
    used.add(name)
    return name


# -- PDF ------------------------------------------------------------------------------------


def css_string(value: str) -> str:
    """Text safe inside a double-quoted CSS string in a ``<style>`` element (every character
    but letters, digits, spaces and plain punctuation as a CSS escape)."""
    safe = "".join(
        ch if ch.isascii() and (ch.isalnum() or ch in " .,:-()'/") else f"\\{ord(ch):x} "
        for ch in value
    )
    return mark_safe(safe)  # noqa: S308 (escaped above: no quote, backslash or "<" survives)


def report_html(
    report: MonitoringReport, sections: Sequence[Section], *, exact: bool, generated_by: str
) -> str:
    """The whole report as one HTML document for the PDF (inline CSS and SVG: nothing to
    fetch)."""
    generated_at = timezone.localtime(report.generated_at, LONDON)
    return render_to_string(
        "reports/report_pdf.html",
        {
            "css_title": css_string(f"{report.partnership_name}: monitoring report"),
            "css_generated": css_string(
                f"Generated {generated_at:%d %B %Y %H:%M} by {generated_by or 'the system'}"
            ),
            "report": report,
            "sections": sections,
            "exact": exact,
            "about": preamble(report, exact=exact),
            "marking": MARKING,
            "generated_by": generated_by,
            "generated_at": generated_at,
        },
    )


def report_pdf(
    report: MonitoringReport, sections: Sequence[Section], *, exact: bool, generated_by: str
) -> bytes:
    from reports.pdf import html_to_pdf

    return html_to_pdf(report_html(report, sections, exact=exact, generated_by=generated_by))
