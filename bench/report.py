"""Benchmark: the six-monthly monitoring report over 100,000 cases and 1,000,000 chronology
entries on PostgreSQL (spec §7: ≤ 1 s).

Run with `make bench`. The data is made once, with COPY, in its own database (the bench
database's name + "_report", or BENCH_REPORT_DATABASE_URL), so that it holds exactly the
spec's 100,000 cases and 1,000,000 chronology entries: two years of cases at every stage and
outcome, with their stage clocks (some breached), parties, outcome ledger, actions, learning
themes, a child each, and ten chronology entries each. Each run then asks for the report page
(the last complete half-year of the data, through the whole Django stack: middleware, access
check, queries, figures, charts, template) and prints the timings; it exits non-zero when the
worst run misses the target.
"""

from __future__ import annotations

import bisect
import os
import random
import statistics
import sys
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")


def _use_own_database() -> None:
    """Point DATABASE_URL at the report benchmark's own database, creating it if need be."""
    base = os.environ.get("DATABASE_URL", "")
    url = os.environ.get("BENCH_REPORT_DATABASE_URL") or (
        f"{base}_report" if base.startswith("postgres") else base
    )
    os.environ["DATABASE_URL"] = url
    if not url.startswith("postgres"):
        return
    import psycopg

    server, name = url.rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if exists.fetchone() is None:
            connection.execute(f'CREATE DATABASE "{name}"')


_use_own_database()
django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Max  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from agencies.models import (  # noqa: E402
    AgencyRole,
    AgencyType,
    Category,
    Partnership,
    PartnershipRole,
)
from agencies.services import (  # noqa: E402
    agency_create,
    agency_membership_grant,
    partnership_create,
    partnership_membership_grant,
)
from bench.bulk import case_ending, copy_rows, reserve_ids  # noqa: E402
from escalations.models import (  # noqa: E402
    Action,
    Child,
    Party,
    ProfessionalDifference,
    StageEntry,
)
from escalations.states import Status  # noqa: E402
from records.models import Entry  # noqa: E402
from reports.models import CaseLearningTheme, CaseOutcome, LearningTheme  # noqa: E402
from reports.periods import LONDON, last_complete_half_year  # noqa: E402
from reports.report import monitoring_report  # noqa: E402

CASES = int(os.environ.get("BENCH_REPORT_CASES", 100_000))
ENTRIES = int(os.environ.get("BENCH_REPORT_ENTRIES", 1_000_000))
RUNS = 5
TARGET_SECONDS = 1.0
SLUG = "bench-report"
STAGES = (
    Status.CLARIFICATION,
    Status.STAGE_1,
    Status.STAGE_2,
    Status.STAGE_3,
    Status.STAGE_4,
    Status.FINAL_REFERRAL,
)
# Cumulative shares of the cases stopping at each stage (the rest reach the final referral).
DEPTH_SHARES = (0.10, 0.50, 0.75, 0.87, 0.95)
THEMES = (
    "Thresholds",
    "Information sharing",
    "Roles and responsibilities",
    "Drift and delay",
    "Escalation culture",
    "Recording",
)


def make_data() -> Partnership:
    partnership = Partnership.objects.filter(slug=SLUG).first()
    if (
        partnership is not None
        and ProfessionalDifference.objects.filter(partnership=partnership).count() >= CASES
    ):
        return partnership
    if partnership is not None:
        sys.exit(f"The {SLUG!r} partnership is incomplete: drop the bench database and rerun.")
    print(f"making {CASES:,} cases and {ENTRIES:,} chronology entries (once) ...", flush=True)
    started = time.perf_counter()
    rng = random.Random(20261121)  # noqa: S311 (benchmark data, not secrets)
    now = timezone.now()
    with transaction.atomic():
        partnership = partnership_create(name="Bench Report Partnership", slug=SLUG)
        manager = User.objects.create(username="bench-report-manager")
        partnership_membership_grant(
            user=manager, partnership=partnership, role=PartnershipRole.BUSINESS_MANAGER
        )
        agencies = []
        for index, kind in enumerate(list(AgencyType.values)[:10]):
            agency = agency_create(
                partnership=partnership, name=f"Report agency {index}", agency_type=kind
            )
            user = User.objects.create(username=f"bench-report-{agency.pk}")
            agency_membership_grant(user=user, agency=agency, role=AgencyRole.PRACTITIONER)
            agencies.append((agency, user))
        categories = list(Category.objects.filter(partnership=partnership))
        themes = [
            LearningTheme.objects.create(partnership=partnership, name=name, position=i)
            for i, name in enumerate(THEMES)
        ]

        ids = reserve_ids(ProfessionalDifference, CASES)
        cases, entries, parties, outcomes, actions, tags, children = [], [], [], [], [], [], []
        per_case_entries = max(ENTRIES // CASES, 1)
        for n, pk in enumerate(ids):
            agency, user = agencies[n % len(agencies)]
            raised = now - timedelta(days=730) + timedelta(seconds=rng.uniform(0, 725 * 86400))
            urgent = rng.random() < 0.05
            # How far up the process the case goes: 1 = clarification (then withdrawn) …
            # 6 = final referral.
            depth = 1 + bisect.bisect(DEPTH_SHARES, rng.random())
            path = list(STAGES[2 if urgent else 0 : max(depth, 3 if urgent else 1)])
            moment = raised + timedelta(hours=2)
            case_entries = []
            status = stage = path[-1]
            outcome: str | None = None
            outcome_at: datetime | None = None
            closed_at: datetime | None = None
            for index, stage_name in enumerate(path):
                entered = moment
                left = entered + timedelta(days=rng.uniform(0.2, 9))
                breached = (
                    entered + timedelta(days=5) if left > entered + timedelta(days=5) else None
                )
                last = index == len(path) - 1
                open_now = left > now
                case_entries.append(
                    (pk, stage_name, "urgent" if urgent else "standard", entered,
                     entered + timedelta(days=5), None if open_now else left,
                     breached if breached is None or breached < now else None)
                )  # fmt: skip
                moment = left
                if open_now:
                    break
                if last:
                    stage = stage_name
                    ending = case_ending(rng, stage_name, left, now, closed_share=0.85)
                    outcome, outcome_at = ending.outcome, ending.outcome_at
                    status, closed_at = ending.status, ending.closed_at
            stage = case_entries[-1][1]
            if outcome is None:
                status = stage
            category = categories[n % len(categories)]
            amendment = closed_at is not None and rng.random() < 0.03
            cases.append(
                (pk, partnership.pk, f"BREP-{n:07d}", user.pk, "Bench Practitioner",
                 "Practitioner", agency.pk, agency.name, category.pk,
                 rng.choice(["open_case", "early_help", "child_in_need",
                             "child_protection_referral"]),
                 "Benchmark case.", urgent, status, stage, stage, case_entries[-1][3], raised,
                 outcome_at, closed_at, amendment,
                 "Amend the escalation timeframes." if amendment else "", now, now)
            )  # fmt: skip
            entries.extend(case_entries)
            others = {agencies[(n + k) % len(agencies)][0].pk for k in (1, 1 + n % 3)}
            parties.append((pk, agency.pk, True, raised))
            parties.extend((pk, other, False, raised) for other in sorted(others))
            children.append((pk, "Bench Child"))
            if outcome is not None and outcome_at is not None:
                outcomes.append((pk, outcome, outcome_at))
                if rng.random() < 0.1:
                    actions.append(
                        (pk, "Review how referrals are shared.", "Bench owner",
                         (outcome_at + timedelta(days=30)).date(), user.pk, outcome_at)
                    )  # fmt: skip
            if closed_at is not None:
                tags.append((pk, themes[n % len(themes)].pk, closed_at))
        copy_rows(
            ProfessionalDifference,
            ["id", "partnership_id", "reference", "raised_by_id", "raiser_name", "raiser_role",
             "raiser_agency_id", "raiser_agency_name", "category_id", "context", "issue",
             "is_urgent", "status", "stage", "highest_stage", "stage_entered_at", "raised_at",
             "outcome_at", "closed_at", "protocol_amendment_recommended",
             "protocol_amendment_note", "created_at", "updated_at"],
            cases,
        )  # fmt: skip
        copy_rows(
            StageEntry,
            ["difference_id", "stage", "track", "entered_at", "due_at", "left_at", "breached_at"],
            entries,
        )
        copy_rows(Party, ["difference_id", "agency_id", "is_raising", "joined_at"], parties)
        copy_rows(Child, ["difference_id", "name"], children)
        copy_rows(CaseOutcome, ["difference_id", "outcome", "recorded_at"], outcomes)
        copy_rows(
            Action,
            ["difference_id", "description", "owner", "due_date", "recorded_by_id", "recorded_at"],
            actions,
        )
        copy_rows(CaseLearningTheme, ["difference_id", "theme_id", "tagged_at"], tags)

        def chronology() -> Iterable[tuple[Any, ...]]:
            written = 0
            for n, case in enumerate(cases):
                pk, raised, author = case[0], case[16], case[3]
                count = per_case_entries + (1 if n < ENTRIES - per_case_entries * CASES else 0)
                for k in range(count):
                    yield (pk, "discussion", case[12], raised + timedelta(hours=k),
                           "Telephone", "Bench participants", "Bench facts.", "Bench opinion.",
                           author, "Bench Practitioner", raised + timedelta(hours=k))  # fmt: skip
                    written += 1

        copied = copy_rows(
            Entry,
            ["difference_id", "kind", "status", "occurred_at", "method", "participants", "facts",
             "opinion", "author_id", "author_name", "created_at"],
            chronology(),
        )  # fmt: skip
    # Set the hint bits and the visibility map and gather statistics now, as autovacuum would
    # on a live database, rather than during the first timed runs.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(
        f"  made {len(cases):,} cases, {len(entries):,} stage clocks, {copied:,} entries in "
        f"{time.perf_counter() - started:.0f} s",
        flush=True,
    )
    return partnership


def main() -> int:
    if connection.vendor != "postgresql":
        print("The benchmark runs on PostgreSQL: set DATABASE_URL.", file=sys.stderr)
        return 2
    print(
        f"==> monitoring report: {CASES:,} cases, {ENTRIES:,} chronology entries "
        f"(target ≤ {TARGET_SECONDS:.0f} s), database {connection.settings_dict['NAME']}"
    )
    call_command("migrate", verbosity=0, interactive=False)
    partnership = make_data()
    latest = ProfessionalDifference.objects.filter(partnership=partnership).aggregate(
        latest=Max("raised_at")
    )["latest"]
    assert isinstance(latest, datetime)
    period = last_complete_half_year(latest.astimezone(LONDON).date())
    entries = Entry.objects.count()
    cases = ProfessionalDifference.objects.count()
    report = monitoring_report(partnership, period)
    print(
        f"report for {period.label} over {cases:,} cases ({CASES:,} in the partnership) and "
        f"{entries:,} chronology entries: {report.current.opened:,} opened, "
        f"{report.current.concluded:,} outcomes, {report.current.breaches:,} breaches"
    )
    manager = User.objects.get(username="bench-report-manager")
    client = Client(HTTP_HOST="localhost")
    from bench.load import mfa_enrol

    mfa_enrol(manager)  # the second factor every account must have set up
    # A password to re-authenticate with before the download (set before signing in: a new
    # password ends the person's sessions).
    password = "bench-only-password-not-secret"  # noqa: S105
    manager.set_password(password)
    manager.save(update_fields=["password"])
    client.force_login(manager)
    query: dict[str, str | int] = {
        "period": "custom",
        "start_day": period.first_day.day, "start_month": period.first_day.month,
        "start_year": period.first_day.year, "end_day": period.last_day.day,
        "end_month": period.last_day.month, "end_year": period.last_day.year,
    }  # fmt: skip
    url = reverse("report")
    timings = []
    for run in range(RUNS + 1):
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, query, secure=True)
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.status_code
        label = "warm-up" if run == 0 else f"run {run}"
        print(f"{label}: {elapsed:.3f} s — the report page, {len(queries)} queries")
        if run:
            timings.append(elapsed)
    started = time.perf_counter()
    report = monitoring_report(partnership, period)
    computed = time.perf_counter() - started
    print(f"figures alone (no page): {computed:.3f} s")
    # Downloads ask for the password again: re-authenticate first, so the timing is the file's.
    reauthenticated = client.post(
        reverse("account_reauthenticate"), {"password": password}, secure=True
    )
    assert reauthenticated.status_code == 302, reauthenticated.content[:300]
    started = time.perf_counter()
    response = client.get(reverse("report_download", args=["xlsx"]), query, secure=True)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, (response.status_code, response.get("Location"))
    print(f"XLSX download: {elapsed:.3f} s (no target)")
    worst = max(timings)
    print(
        f"monitoring report page: median {statistics.median(timings):.3f} s, worst "
        f"{worst:.3f} s (target ≤ {TARGET_SECONDS:.1f} s)"
    )
    return 0 if worst <= TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
