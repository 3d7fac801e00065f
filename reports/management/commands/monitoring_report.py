"""Write a partnership's monitoring report to a file, for scheduled runs.

    python manage.py monitoring_report --partnership SLUG --from 2026-04-01 --to 2026-09-30 \\
        --format pdf --output report.pdf

Without --from/--to: the last complete half-year. Small counts are withheld ("fewer than 5")
unless --exact is given or REPORTS_EXACT_SMALL_COUNTS is set.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from agencies.models import Partnership
from reports import exports
from reports.access import exact_by_setting
from reports.periods import Period, last_complete_half_year
from reports.report import PDF_LIST_LIMIT, monitoring_report
from reports.sections import build_sections


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date: use YYYY-MM-DD.") from None


class Command(BaseCommand):
    help = "Write a partnership's six-monthly monitoring report as PDF, XLSX or CSV."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--partnership", required=True, help="The partnership's slug.")
        parser.add_argument("--from", dest="first", help="First day (YYYY-MM-DD).")
        parser.add_argument("--to", dest="last", help="Last day (YYYY-MM-DD), included.")
        parser.add_argument("--format", choices=("pdf", "xlsx", "csv"), required=True)
        parser.add_argument("--output", required=True, help="The file to write.")
        parser.add_argument(
            "--exact",
            action="store_true",
            help="Exact small counts (an internal copy, not for circulation).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        partnership = Partnership.objects.filter(slug=options["partnership"]).first()
        if partnership is None:
            raise CommandError(f"No partnership with the slug {options['partnership']!r}.")
        if bool(options["first"]) != bool(options["last"]):
            raise CommandError("Give both --from and --to, or neither.")
        if options["first"]:
            first, last = _date(options["first"]), _date(options["last"])
            if last < first:
                raise CommandError("--to must be the same as or after --from.")
            period = Period(first, last)
        else:
            period = last_complete_half_year(timezone.localdate())
        exact = bool(options["exact"]) or exact_by_setting()
        fmt = options["format"]
        limit = PDF_LIST_LIMIT if fmt == "pdf" else None
        report = monitoring_report(partnership, period, list_limit=limit)
        sections = build_sections(report, exact=exact)
        if fmt == "csv":
            body = exports.report_csv(report, sections, exact=exact)
        elif fmt == "xlsx":
            body = exports.report_xlsx(report, sections, exact=exact)
        else:
            body = exports.report_pdf(report, sections, exact=exact, generated_by="scheduled run")
        output = Path(options["output"])
        output.write_bytes(body)
        self.stdout.write(
            f"Wrote the {fmt.upper()} report for {partnership.name}, {period.label}, to "
            f"{output} ({len(body):,} bytes)."
        )
