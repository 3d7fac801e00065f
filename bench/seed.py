"""Bulk data for the load benchmark: 100,000 cases across 20 agencies, 1,000,000 entries.

One partnership ("bench-load") of 20 agencies with a person in every agency role (five
practitioners an agency, who raise the cases) and every partnership role. Two years of cases
at every stage and outcome, about one in six still open with its running stage clock (so the
case list shows due dates, some overdue), one or two children each, two or three party
agencies, ten chronology entries each, and the visibility grants the services would have made
(``escalations.services._visibility``): the raiser (a user grant); line managers and
safeguarding leads of every party agency, senior managers from Stage 3, directors from
Stage 4, the business managers always and the final-referral body once referred (group
grants). Everything goes in with COPY; it takes a few minutes once and is then reused.

    python -m bench.seed            # make the data unless it is already there
    python -m bench.seed --reset    # delete the partnership's data and make it again

Open stage clocks are loaded with no ``next_check_at`` (as if their reminder and breach had
already been handled), so the deadline scan of ``bench.deadline_scan``, which shares this
database, never picks them up on a later day and its count of breaches stays exact.
"""

from __future__ import annotations

import argparse
import bisect
import os
import random
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
django.setup()

from django.contrib.auth.models import Permission, User  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from agencies.models import (  # noqa: E402
    Agency,
    AgencyRole,
    AgencyRoleGroup,
    AgencyType,
    Category,
    Partnership,
    PartnershipRole,
    PartnershipRoleGroup,
)
from agencies.services import (  # noqa: E402
    agency_create,
    agency_membership_grant,
    partnership_create,
    partnership_membership_grant,
)
from bench.bulk import case_ending, copy_rows, reserve_ids  # noqa: E402
from escalations.models import (  # noqa: E402
    Child,
    DifferenceGroupObjectPermission,
    DifferenceUserObjectPermission,
    Party,
    ProfessionalDifference,
    StageEntry,
)
from escalations.states import STAGE_RANK, Status  # noqa: E402
from records.models import Entry, EntryKind  # noqa: E402
from reports.models import CaseOutcome  # noqa: E402

CASES = int(os.environ.get("BENCH_LOAD_CASES", 100_000))
ENTRIES_PER_CASE = int(os.environ.get("BENCH_LOAD_ENTRIES_PER_CASE", 10))
AGENCIES = 20
PRACTITIONERS_PER_AGENCY = 5
SLUG = "bench-load"
OPEN_SHARE = 0.16
BATCH = 10_000
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
FIRST_NAMES = ("Amira", "Zain", "Olivia", "Noah", "Maya", "Leo", "Isla", "Jack", "Ava", "Ezra")
LAST_NAMES = ("Khan", "Smith", "Jones", "Patel", "Brown", "Nowak", "Evans", "Okafor", "Shah")
KINDS = (EntryKind.DISCUSSION, EntryKind.CALL, EntryKind.MEETING, EntryKind.CORRESPONDENCE)
CONTEXTS = ("open_case", "early_help", "child_in_need", "child_protection_referral")


@dataclass(frozen=True)
class LoadData:
    partnership: Partnership
    line_manager: User  # line manager of the first agency
    business_manager: User
    agency_ids: list[int]
    cases: int
    entries: int


def _username(agency_index: int, role: str, n: int = 0) -> str:
    suffix = f"-{n}" if role == AgencyRole.PRACTITIONER else ""
    return f"load-a{agency_index:02d}-{role}{suffix}"


def _counts(partnership: Partnership) -> tuple[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), coalesce(sum(e.n), 0) FROM escalations_professionaldifference d "
            "LEFT JOIN (SELECT difference_id, count(*) n FROM records_entry GROUP BY 1) e "
            "ON e.difference_id = d.id WHERE d.partnership_id = %s",
            [partnership.pk],
        )
        cases, entries = cursor.fetchone()
    return int(cases), int(entries)


def _directory(partnership: Partnership, cases: int, entries: int) -> LoadData:
    agencies = list(Agency.objects.filter(partnership=partnership).order_by("pk"))
    return LoadData(
        partnership=partnership,
        line_manager=User.objects.get(username=_username(0, AgencyRole.LINE_MANAGER)),
        business_manager=User.objects.get(username="load-business_manager"),
        agency_ids=[agency.pk for agency in agencies],
        cases=cases,
        entries=entries,
    )


def reset() -> None:
    """Delete the load partnership and everything in it (the chronology's append-only
    trigger is bypassed for this one session: ``session_replication_role = replica``)."""
    partnership = Partnership.objects.filter(slug=SLUG).first()
    if partnership is None:
        return
    print(f"deleting the {SLUG!r} partnership's data ...", flush=True)
    cases = "SELECT id FROM escalations_professionaldifference WHERE partnership_id = %s"
    by_case = [
        "records_entry",
        "records_auditevent",
        "escalations_notification",
        "escalations_clockevent",
        "escalations_stageentry",
        "escalations_party",
        "escalations_child",
        "escalations_namedprofessional",
        "escalations_action",
        "escalations_differenceuserobjectpermission",
        "escalations_differencegroupobjectpermission",
        "reports_caseoutcome",
        "reports_caselearningtheme",
    ]
    column = {
        "escalations_clockevent": "stage_entry_id IN (SELECT id FROM escalations_stageentry "
        "WHERE difference_id IN ({cases}))",
        "escalations_differenceuserobjectpermission": "content_object_id IN ({cases})",
        "escalations_differencegroupobjectpermission": "content_object_id IN ({cases})",
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        existing = set(connection.introspection.table_names(cursor))
        for table in by_case:
            if table not in existing:
                continue
            condition = column.get(table, "difference_id IN ({cases})").format(cases=cases)
            columns = {
                c.name for c in connection.introspection.get_table_description(cursor, table)
            }
            if "difference_id" not in columns and table not in column:
                continue
            cursor.execute(f"DELETE FROM {table} WHERE {condition}", [partnership.pk])  # noqa: S608
        cursor.execute(
            "DELETE FROM escalations_professionaldifference WHERE partnership_id = %s",
            [partnership.pk],
        )
        users = list(User.objects.filter(username__startswith="load-").values_list("pk", flat=True))
        User.objects.filter(pk__in=users).delete()
        Agency.objects.filter(partnership=partnership).delete()
        partnership.delete()


def _people(partnership: Partnership) -> dict[str, Any]:
    """Agencies, people in every role, role groups and categories."""
    kinds = list(AgencyType.values)
    agencies = [
        agency_create(
            partnership=partnership,
            name=f"Load agency {i:02d}",
            agency_type=kinds[i % len(kinds)],
        )
        for i in range(AGENCIES)
    ]
    raisers: list[list[int]] = []
    for i, agency in enumerate(agencies):
        raisers.append([])
        for role in AgencyRole.values:
            for n in range(PRACTITIONERS_PER_AGENCY if role == AgencyRole.PRACTITIONER else 1):
                user = User.objects.create(
                    username=_username(i, role, n),
                    first_name=f"{role.replace('_', ' ').title()}",
                    last_name=f"Agency {i:02d}",
                    email=f"{_username(i, role, n)}@bench.invalid",
                )
                agency_membership_grant(user=user, agency=agency, role=role, job_title=role)
                if role == AgencyRole.PRACTITIONER:
                    raisers[-1].append(user.pk)
    for role in PartnershipRole.values:
        user = User.objects.create(username=f"load-{role}", email=f"{role}@bench.invalid")
        partnership_membership_grant(user=user, partnership=partnership, role=role)
    groups = {
        (link.agency_id, link.role): link.group_id
        for link in AgencyRoleGroup.objects.filter(agency__in=agencies)
    }
    partnership_groups = {
        link.role: link.group_id
        for link in PartnershipRoleGroup.objects.filter(partnership=partnership)
    }
    return {
        "agencies": agencies,
        "raisers": raisers,
        "groups": groups,
        "partnership_groups": partnership_groups,
        "categories": list(Category.objects.filter(partnership=partnership)),
    }


def _roles_seeing(highest: str) -> list[str]:
    rank = STAGE_RANK[highest]
    roles: list[str] = [AgencyRole.LINE_MANAGER, AgencyRole.SAFEGUARDING_LEAD]
    if rank >= STAGE_RANK[Status.STAGE_3]:
        roles.append(AgencyRole.SENIOR_MANAGER)
    if rank >= STAGE_RANK[Status.STAGE_4]:
        roles.append(AgencyRole.DIRECTOR)
    return roles


def make(partnership: Partnership) -> tuple[int, int]:
    """Load CASES cases with everything they hang on to; returns (cases, entries)."""
    rng = random.Random(20261121)  # noqa: S311 (benchmark data, not secrets)
    now = timezone.now()
    directory = _people(partnership)
    agencies: list[Agency] = directory["agencies"]
    groups: dict[tuple[int, str], int] = directory["groups"]
    partnership_groups: dict[str, int] = directory["partnership_groups"]
    categories: list[Category] = directory["categories"]
    permission = Permission.objects.get(
        content_type__app_label="escalations", codename="view_professionaldifference"
    )
    ids = reserve_ids(ProfessionalDifference, CASES)
    total_entries = 0
    for start in range(0, CASES, BATCH):
        cases: list[tuple[Any, ...]] = []
        stage_rows: list[tuple[Any, ...]] = []
        parties: list[tuple[Any, ...]] = []
        children: list[tuple[Any, ...]] = []
        outcomes: list[tuple[Any, ...]] = []
        user_grants: list[tuple[Any, ...]] = []
        group_grants: list[tuple[Any, ...]] = []
        entries: list[tuple[Any, ...]] = []
        for n in range(start, min(start + BATCH, CASES)):
            pk = ids[n]
            agency_index = n % AGENCIES
            agency = agencies[agency_index]
            raiser = directory["raisers"][agency_index][n % PRACTITIONERS_PER_AGENCY]
            urgent = rng.random() < 0.05
            depth = 1 + bisect.bisect(DEPTH_SHARES, rng.random())
            path = list(STAGES[2 if urgent else 0 : max(depth, 3 if urgent else 1)])
            is_open = rng.random() < OPEN_SHARE
            durations = [rng.uniform(0.2, 9) for _ in path]
            if is_open:
                # The last stage is running: entered up to 8 days ago (5 days to go, so
                # some are overdue), the earlier ones before it.
                raised = now - timedelta(days=rng.uniform(0, 8) + sum(durations[:-1]) + 0.1)
            else:
                raised = now - timedelta(days=730) + timedelta(seconds=rng.uniform(0, 700 * 86400))
            moment = raised + timedelta(hours=2)
            status = stage = path[-1]
            outcome: str | None = None
            outcome_at = closed_at = None
            last_entered = moment
            for index, stage_name in enumerate(path):
                entered = moment
                due = entered + timedelta(days=5)
                last = index == len(path) - 1
                if last and is_open:
                    breached = due if due < now else None
                    stage_rows.append(
                        (pk, stage_name, "urgent" if urgent else "standard", entered, due,
                         None, breached, None)
                    )  # fmt: skip
                    last_entered = entered
                    break
                left = entered + timedelta(days=durations[index])
                stage_rows.append(
                    (pk, stage_name, "urgent" if urgent else "standard", entered, due, left,
                     due if left > due else None, None)
                )  # fmt: skip
                last_entered = entered
                moment = left
                if last:
                    ending = case_ending(rng, stage_name, left, now, closed_share=0.9)
                    outcome, outcome_at = ending.outcome, ending.outcome_at
                    status, closed_at = ending.status, ending.closed_at
            category = categories[n % len(categories)]
            cases.append(
                (pk, partnership.pk, f"LOAD-{n:07d}", raiser, "Bench Practitioner",
                 "Practitioner", agency.pk, agency.name, category.pk, CONTEXTS[n % 4],
                 "Benchmark case: the referral was closed without a strategy discussion.",
                 urgent, status, stage, stage, last_entered, raised, outcome_at, closed_at,
                 now, now)
            )  # fmt: skip
            others = sorted(
                {agencies[(agency_index + k) % AGENCIES].pk for k in (1, 1 + (n // 7) % 5)}
            )
            party_ids = [agency.pk, *others]
            parties.append((pk, agency.pk, True, raised))
            parties.extend((pk, other, False, raised) for other in others)
            for c in range(1 + (n % 3 == 0)):
                children.append(
                    (pk, f"{FIRST_NAMES[(n + c) % 10]} {LAST_NAMES[n % 9]}",
                     date(2010, 1, 1) + timedelta(days=(n * 37 + c * 400) % 5000))
                )  # fmt: skip
            if outcome is not None:
                outcomes.append((pk, outcome, outcome_at))
            user_grants.append((permission.pk, raiser, pk))
            granted = {groups[(a, role)] for a in party_ids for role in _roles_seeing(stage)}
            granted.add(partnership_groups[PartnershipRole.BUSINESS_MANAGER])
            if stage == Status.FINAL_REFERRAL:
                granted.add(partnership_groups[PartnershipRole.FINAL_REFERRAL_MEMBER])
            group_grants.extend((permission.pk, group, pk) for group in sorted(granted))
            for k in range(ENTRIES_PER_CASE):
                at = raised + timedelta(hours=3 + 7 * k)
                entries.append(
                    (pk, KINDS[k % 4], path[min(k // 3, len(path) - 1)], at,
                     "Telephone" if k % 2 == 0 else "Teams meeting",
                     "Sam Okafor, social worker; Alex Carter, DSL",
                     f"{k + 1}. The referral was received and discussed with the other agency.",
                     "In my professional opinion the threshold is met." if k % 3 else "",
                     raiser, "Bench Practitioner", at)
                )  # fmt: skip
        with transaction.atomic():
            copy_rows(
                ProfessionalDifference,
                ["id", "partnership_id", "reference", "raised_by_id", "raiser_name",
                 "raiser_role", "raiser_agency_id", "raiser_agency_name", "category_id",
                 "context", "issue", "is_urgent", "status", "stage", "highest_stage",
                 "stage_entered_at", "raised_at", "outcome_at", "closed_at", "created_at",
                 "updated_at"],
                cases,
            )  # fmt: skip
            copy_rows(
                StageEntry,
                ["difference_id", "stage", "track", "entered_at", "due_at", "left_at",
                 "breached_at", "next_check_at"],
                stage_rows,
            )  # fmt: skip
            copy_rows(Party, ["difference_id", "agency_id", "is_raising", "joined_at"], parties)
            copy_rows(Child, ["difference_id", "name", "date_of_birth"], children)
            copy_rows(CaseOutcome, ["difference_id", "outcome", "recorded_at"], outcomes)
            copy_rows(
                DifferenceUserObjectPermission,
                ["permission_id", "user_id", "content_object_id"],
                user_grants,
            )
            copy_rows(
                DifferenceGroupObjectPermission,
                ["permission_id", "group_id", "content_object_id"],
                group_grants,
            )
            total_entries += copy_rows(
                Entry,
                ["difference_id", "kind", "status", "occurred_at", "method", "participants",
                 "facts", "opinion", "author_id", "author_name", "created_at"],
                entries,
            )  # fmt: skip
        print(f"  {start + len(cases):,} cases, {total_entries:,} entries", flush=True)
    return CASES, total_entries


def seed(*, reset_first: bool = False) -> LoadData:
    """The load data, made unless it is already there (``reset_first``: made again)."""
    if reset_first:
        reset()
    partnership = Partnership.objects.filter(slug=SLUG).first()
    if partnership is not None:
        cases, entries = _counts(partnership)
        if cases >= CASES and entries >= CASES * ENTRIES_PER_CASE:
            return _directory(partnership, cases, entries)
        sys.exit(
            f"The {SLUG!r} partnership is incomplete ({cases:,} cases, {entries:,} entries): "
            "run `python -m bench.seed --reset`."
        )
    print(
        f"making {CASES:,} cases and {CASES * ENTRIES_PER_CASE:,} chronology entries "
        f"across {AGENCIES} agencies (once) ...",
        flush=True,
    )
    started = time.perf_counter()
    with transaction.atomic():
        partnership = partnership_create(name="Bench Load Partnership", slug=SLUG)
        cases, entries = make(partnership)
    with connection.cursor() as cursor:
        # Hint bits, visibility map and planner statistics, as autovacuum would on a live
        # database, rather than during the first timed requests.
        cursor.execute("VACUUM ANALYZE")
    print(f"  done in {time.perf_counter() - started:.0f} s", flush=True)
    return _directory(partnership, cases, entries)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reset", action="store_true", help="delete the data and make it again")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("The benchmark data is for PostgreSQL: set DATABASE_URL.", file=sys.stderr)
        return 2
    data = seed(reset_first=args.reset)
    print(
        f"{data.partnership.name}: {data.cases:,} cases, {data.entries:,} chronology entries, "
        f"{len(data.agency_ids)} agencies; manager {data.line_manager.username}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
