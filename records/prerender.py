"""Queueing the background render of a case's record PDF when its record changes (ADR 0010).

Kept apart from ``records.record_pdf`` (which imports the record and WeasyPrint) so the
chronology's writers (``records.services``) can call it without an import cycle.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)


def _queue_prerender(difference_id: int) -> None:
    # After commit: a broker that is down loses only the warm-up (the download renders cold).
    try:
        from records.tasks import prerender_record

        prerender_record.apply_async(args=(difference_id,), retry=False)
    except Exception:
        logger.warning("could not queue the record PDF render of case %s", difference_id)


def prerender_on_commit(difference_id: int) -> None:
    """Queue the background render of the case's record once its transaction commits (once
    per case per transaction; nothing on rollback). Off with ``RECORD_PDF_PRERENDER=False``
    (the test settings: eager Celery would render a PDF inline on every entry)."""
    if not getattr(settings, "RECORD_PDF_PRERENDER", True):
        return
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(
        getattr(pending[1], "record_pdf_case", None) == difference_id
        for pending in connection.run_on_commit
    ):
        return
    callback: Any = partial(_queue_prerender, difference_id)
    callback.record_pdf_case = difference_id
    transaction.on_commit(callback)
