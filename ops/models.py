"""Facts about the running system that the health check reports."""

from __future__ import annotations

from django.db import models


class Heartbeat(models.Model):
    """When a periodic job last finished: one row per job, updated in place."""

    DEADLINE_SCAN = "deadline_scan"

    name = models.CharField(max_length=50, unique=True)
    at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} at {self.at}"
