"""The outcome ledger: every transition entry into an outcome updates ``CaseOutcome``.

It runs inside the service's transaction (the entry is written there), so the ledger commits
or rolls back with the transition.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from escalations.states import OUTCOMES
from records.models import Entry, EntryKind
from reports.models import CaseOutcome


@receiver(post_save, sender=Entry, dispatch_uid="reports.outcome_ledger")
def outcome_ledger_write(sender: Any, instance: Entry, created: bool, **kwargs: Any) -> None:
    """Keep the case's latest outcome (a partial outcome later escalated is overwritten by the
    case's next outcome)."""
    if not created or kwargs.get("raw"):
        return
    if instance.kind != EntryKind.TRANSITION or instance.to_status not in OUTCOMES:
        return
    CaseOutcome.objects.update_or_create(
        difference_id=instance.difference_id,
        defaults={"outcome": instance.to_status, "recorded_at": instance.created_at},
    )
