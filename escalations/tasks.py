"""Thin Celery tasks: each calls one function of escalations.deadlines."""

from __future__ import annotations

from celery import shared_task

from escalations.deadlines import deadlines_scan, outbox_deliver


@shared_task(name="escalations.tasks.scan_deadlines", acks_late=True)
def scan_deadlines() -> dict[str, int]:
    """Record the reminders and breaches that have come (runs every minute)."""
    result = deadlines_scan()
    return {"reminders": result.reminders, "breaches": result.breaches}


@shared_task(name="escalations.tasks.deliver_outbox", acks_late=True)
def deliver_outbox() -> int:
    """E-mail the notices waiting in the outbox."""
    return outbox_deliver()
