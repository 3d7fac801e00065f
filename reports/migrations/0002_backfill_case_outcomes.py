"""Fill the outcome ledger from the chronology for cases that reached an outcome before it
existed (later outcomes are written by reports.signals)."""

from django.db import migrations

OUTCOMES = ("resolved", "partially_resolved", "not_resolved", "withdrawn")


def backfill(apps, schema_editor):
    Entry = apps.get_model("records", "Entry")
    CaseOutcome = apps.get_model("reports", "CaseOutcome")
    latest = {}
    rows = (
        Entry.objects.filter(kind="transition", to_status__in=OUTCOMES)
        .order_by("created_at", "pk")
        .values_list("difference_id", "to_status", "created_at")
        .iterator(chunk_size=5000)
    )
    for difference_id, outcome, at in rows:
        latest[difference_id] = (outcome, at)
    known = set(CaseOutcome.objects.values_list("difference_id", flat=True))
    CaseOutcome.objects.bulk_create(
        (
            CaseOutcome(difference_id=pk, outcome=outcome, recorded_at=at)
            for pk, (outcome, at) in latest.items()
            if pk not in known
        ),
        batch_size=5000,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_initial"),
        ("records", "0004_entry_author_role"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
