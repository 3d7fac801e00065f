"""Run one deadline scan now (for operators, and for cron where Celery is not wanted)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from escalations.deadlines import deadlines_scan, outbox_deliver


class Command(BaseCommand):
    help = "Record due reminders and breaches once each, then e-mail the outbox."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--no-deliver", action="store_true", help="Only scan; leave e-mail to the worker."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        result = deadlines_scan()
        self.stdout.write(f"Reminders recorded: {result.reminders}")
        self.stdout.write(f"Breaches recorded: {result.breaches}")
        if not options["no_deliver"]:
            self.stdout.write(f"E-mails sent: {outbox_deliver()}")
