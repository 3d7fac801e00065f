"""``manage.py retention_scan``: the daily retention scan, for cron instead of Celery beat."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from records.retention import retention_scan


class Command(BaseCommand):
    help = (
        "List closed cases past their partnership's retention period (and not on legal hold) "
        "as due for anonymisation. Nothing is anonymised until an administrator confirms."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        marked = retention_scan()
        self.stdout.write(f"{marked} case(s) newly due for anonymisation.")
