"""Thin Celery tasks of the records app."""

from __future__ import annotations

from celery import shared_task

from records.retention import retention_scan


@shared_task(name="records.tasks.scan_retention", acks_late=True)
def scan_retention() -> int:
    """List the closed cases past retention for their administrators (runs daily)."""
    return retention_scan()
