"""Benchmark: one deadline scan over 100,000 open cases with 10,000 due (spec §7: ≤ 2 s).

Run with `make bench` (PostgreSQL; the data is made once in the bench database and reused).
Prints the timings and exits non-zero when the target is missed.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import timedelta

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from agencies.models import AgencyRole, AgencyType, Category, Partnership  # noqa: E402
from agencies.services import (  # noqa: E402
    agency_create,
    agency_membership_grant,
    partnership_create,
)
from escalations.deadlines import deadlines_scan  # noqa: E402
from escalations.models import (  # noqa: E402
    Child,
    ClockEvent,
    Notification,
    Party,
    ProfessionalDifference,
    StageEntry,
)
from escalations.states import Status  # noqa: E402

CASES = int(os.environ.get("BENCH_CASES", 100_000))
DUE = int(os.environ.get("BENCH_DUE", 10_000))
TARGET_SECONDS = 2.0
BATCH = 5_000


def make_data() -> Partnership:
    partnership = Partnership.objects.filter(slug="bench").first()
    if (
        partnership is not None
        and ProfessionalDifference.objects.filter(partnership=partnership).count() >= CASES
    ):
        return partnership
    print(f"making {CASES:,} open cases (once) ...", flush=True)
    with transaction.atomic():
        partnership = partnership or partnership_create(name="Bench Partnership", slug="bench")
        agencies = [
            agency_create(partnership=partnership, name=f"Bench agency {i}", agency_type=kind)
            for i, kind in enumerate(list(AgencyType.values)[:10])
        ]
        raisers = []
        for agency in agencies:
            for role in AgencyRole.values:
                user = User.objects.create(
                    username=f"bench-{agency.pk}-{role}", email=f"{agency.pk}-{role}@bench.invalid"
                )
                agency_membership_grant(user=user, agency=agency, role=role)
                if role == AgencyRole.PRACTITIONER:
                    raisers.append((user, agency))
    category = Category.objects.filter(partnership=partnership).first()
    now = timezone.now()
    for start in range(0, CASES, BATCH):
        with transaction.atomic():
            cases = ProfessionalDifference.objects.bulk_create(
                ProfessionalDifference(
                    partnership=partnership,
                    reference=f"BENCH-{i:07d}",
                    raised_by=raisers[i % len(raisers)][0],
                    raiser_name="Bench Practitioner",
                    raiser_role="Practitioner",
                    raiser_agency=raisers[i % len(raisers)][1],
                    raiser_agency_name=raisers[i % len(raisers)][1].name,
                    category=category,
                    context="open_case",
                    issue="Benchmark case.",
                    status=Status.STAGE_2,
                    stage=Status.STAGE_2,
                    highest_stage=Status.STAGE_2,
                )
                for i in range(start, min(start + BATCH, CASES))
            )
            Party.objects.bulk_create(
                party
                for n, case in enumerate(cases)
                for party in (
                    Party(difference=case, agency=raisers[(start + n) % len(raisers)][1],
                          is_raising=True),
                    Party(difference=case, agency=raisers[(start + n + 1) % len(raisers)][1]),
                )
            )  # fmt: skip
            Child.objects.bulk_create(Child(difference=case, name="Bench Child") for case in cases)
            StageEntry.objects.bulk_create(
                StageEntry(
                    difference=case,
                    stage=Status.STAGE_2,
                    track="standard",
                    entered_at=now - timedelta(days=3),
                    due_at=now + timedelta(days=30),
                    next_check_at=now + timedelta(days=29),
                )
                for case in cases
            )
        print(f"  {min(start + BATCH, CASES):,}", flush=True)
    return partnership


def reset(partnership: Partnership) -> None:
    """Make exactly DUE of the open entries due now, and forget earlier runs' records."""
    now = timezone.now()
    # Fresh planner statistics first: the last run's tens of thousands of notices may be
    # unknown to the planner (autovacuum has not analysed them yet), and the delete below
    # then picks a nested loop that takes minutes instead of a second.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE escalations_notification, escalations_clockevent")
    with transaction.atomic():
        Notification.objects.filter(difference__partnership=partnership).delete()
        ClockEvent.objects.filter(stage_entry__difference__partnership=partnership).delete()
        entries = StageEntry.objects.filter(difference__partnership=partnership, left_at=None)
        entries.update(
            reminded_at=None,
            breached_at=None,
            remind_at=None,
            due_at=now + timedelta(days=30),
            next_check_at=now + timedelta(days=30),
        )
        due_ids = list(entries.order_by("pk").values_list("pk", flat=True)[:DUE])
        StageEntry.objects.filter(pk__in=due_ids).update(
            due_at=now - timedelta(minutes=1), next_check_at=now - timedelta(minutes=1)
        )
    # A live database has planner statistics, and the space of deleted and updated rows
    # reclaimed, by autovacuum; here the reset just deleted the last run's 60,000 notices and
    # 10,000 clock events and rewrote 100,000 stage entries, and a scan straight after would
    # insert into tables and indexes full of dead rows (each run slower than the one before:
    # the notices' table had grown to 176 MB for 60,000 rows). Vacuum them, as autovacuum
    # would between two deadlines, and analyse everything.
    with connection.cursor() as cursor:
        cursor.execute(
            "VACUUM escalations_notification, escalations_clockevent, escalations_stageentry"
        )
        cursor.execute("ANALYZE")


def _as_in_a_worker() -> None:
    """Open the broker connection a scan queues its delivery task on, as the Celery worker that
    runs the scan in production has before its first task: otherwise the first run here would
    time importing the broker's transport (about 0.8 s), which a worker does once at start."""
    from config.celery import app

    with app.producer_or_acquire() as producer:
        producer.connection.ensure_connection(max_retries=1)


def main() -> int:
    if connection.vendor != "postgresql":
        print("The benchmark runs on PostgreSQL: set DATABASE_URL.", file=sys.stderr)
        return 2
    partnership = make_data()
    _as_in_a_worker()
    timings = []
    for run in range(3):
        reset(partnership)
        started = time.perf_counter()
        result = deadlines_scan()
        elapsed = time.perf_counter() - started
        timings.append(elapsed)
        notices = Notification.objects.filter(difference__partnership=partnership).count()
        print(
            f"run {run + 1}: {elapsed:.3f} s — {result.breaches:,} breaches, "
            f"{notices:,} notices, {result.batches} batches over {CASES:,} open cases"
        )
        assert result.breaches == DUE, result
    worst = max(timings)
    print(
        f"deadline scan: median {statistics.median(timings):.3f} s, worst {worst:.3f} s "
        f"(target ≤ {TARGET_SECONDS:.1f} s)"
    )
    return 0 if worst <= TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
