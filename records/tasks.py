"""Thin Celery tasks of the records app."""

from __future__ import annotations

from celery import shared_task

from records.retention import retention_scan


@shared_task(name="records.tasks.scan_retention", acks_late=True)
def scan_retention() -> int:
    """List the closed cases past retention for their administrators (runs daily)."""
    return retention_scan()


@shared_task(name="records.tasks.prerender_record", acks_late=True, ignore_result=True)
def prerender_record(case_id: int) -> bool:
    """Render and store the case's Appendix 2 PDF unless the stored one is of its current
    content (queued when a chronology entry commits; ADR 0010)."""
    from records.record_pdf import prerender

    return prerender(case_id)
