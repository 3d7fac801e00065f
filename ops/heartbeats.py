"""Recording and reading when periodic jobs last finished (one UPDATE, one SELECT)."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from ops.models import Heartbeat


def heartbeat_record(name: str, at: datetime | None = None) -> None:
    """Record that the job ``name`` has just finished.

    One UPDATE of a row the migration made; the INSERT only happens if someone deleted it.
    """
    at = at or timezone.now()
    if not Heartbeat.objects.filter(name=name).update(at=at):
        Heartbeat.objects.update_or_create(name=name, defaults={"at": at})


def heartbeat_last(name: str) -> datetime | None:
    """When the job ``name`` last finished, or None if never."""
    return Heartbeat.objects.filter(name=name).values_list("at", flat=True).first()
