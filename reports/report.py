"""The monitoring report for a partnership and period: read, then compute."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from agencies.models import Partnership
from reports.figures import MonitoringReport, compute
from reports.periods import Period
from reports.selectors import report_data

# The page lists at most this many actions and amendments, the PDF at most PDF_LIST_LIMIT;
# the CSV and the workbook list them all.
PAGE_LIST_LIMIT = 200
PDF_LIST_LIMIT = 500


def monitoring_report(
    partnership: Partnership,
    period: Period,
    *,
    list_limit: int | None = None,
    now: datetime | None = None,
) -> MonitoringReport:
    """The report over ``period`` compared with the period of the same length before it."""
    data = report_data(partnership, period, list_limit=list_limit)
    return compute(data, generated_at=now or timezone.now())
