"""Benchmark: the Appendix 2 record as a PDF (spec §7: p95 ≤ 250 ms).

Renders the record of a typical case (two children, 20 chronology entries, escalated to
Stage 3 and resolved with actions) 50 times, then a 200-entry chronology a few times. Each
timing is what the download view does: read the case's record from the database and render
it (the first render, which pays for WeasyPrint's import and font set-up, is reported apart).

Run with `make bench` (PostgreSQL, the bench database) or on its own against any database:
`DJANGO_DEBUG=true uv run python -m bench.record_pdf` (SQLite by default). The two cases are
made once, through the services, and reused. Exits non-zero when the target is missed.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import date
from io import BytesIO

import django
import pypdf

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from agencies.models import (  # noqa: E402
    Agency,
    AgencyRole,
    AgencyType,
    Category,
    Partnership,
)
from agencies.services import (  # noqa: E402
    agency_create,
    agency_membership_grant,
    partnership_create,
)
from escalations import services  # noqa: E402
from escalations.models import ProfessionalDifference  # noqa: E402
from escalations.services import (  # noqa: E402
    ActionDetails,
    ChildDetails,
    NamedProfessionalDetails,
)
from escalations.states import Context, Status  # noqa: E402
from records import appendix2, pdf  # noqa: E402
from records.models import EntryKind  # noqa: E402
from records.services import entry_record  # noqa: E402

TYPICAL_RUNS = int(os.environ.get("BENCH_PDF_RUNS", 50))
LONG_RUNS = int(os.environ.get("BENCH_PDF_LONG_RUNS", 5))
TARGET_P95_MS = 250.0
SLUG = "bench-pdf"
TYPICAL_ISSUE = "BENCH-PDF typical: the referral was closed without a strategy discussion."
LONG_ISSUE = "BENCH-PDF long: a chronology of 200 entries."

FACTS = (
    "The referral was received on Monday at 10:15 and closed on Tuesday afternoon without a "
    "strategy discussion. The school's designated safeguarding lead was not told of the outcome."
)
OPINION = (
    "In my professional opinion the threshold for a section 47 enquiry is met: the bruising "
    "was in an unusual place and the explanation given was inconsistent."
)


@dataclass(frozen=True)
class Directory:
    partnership: Partnership
    school: Agency
    social_care: Agency
    raiser: User
    school_manager: User
    csc_practitioner: User


def _directory() -> Directory:
    partnership = Partnership.objects.filter(slug=SLUG).first()
    if partnership is None:
        partnership = partnership_create(
            name="Northmoor Safeguarding Children Partnership",
            slug=SLUG,
            protocol_title="Protocol for Resolving Professional Differences",
            protocol_version="7",
        )
    agencies = {}
    for name, kind in (
        ("Bench school", AgencyType.SCHOOL),
        ("Bench social care", AgencyType.CHILDRENS_SOCIAL_CARE),
    ):
        agency = Agency.objects.filter(partnership=partnership, name=name).first()
        agencies[name] = agency or agency_create(
            partnership=partnership, name=name, agency_type=kind
        )
    school, social_care = agencies["Bench school"], agencies["Bench social care"]
    people = {}
    for key, agency, role, first, last in (
        ("raiser", school, AgencyRole.SAFEGUARDING_LEAD, "Alex", "Carter"),
        ("school_manager", school, AgencyRole.LINE_MANAGER, "Jo", "Patel"),
        ("csc_practitioner", social_care, AgencyRole.PRACTITIONER, "Sam", "Okafor"),
        ("csc_manager", social_care, AgencyRole.LINE_MANAGER, "Priya", "Shah"),
    ):
        user, _ = User.objects.get_or_create(
            username=f"bench-pdf-{key}", defaults={"first_name": first, "last_name": last}
        )
        agency_membership_grant(user=user, agency=agency, role=role)
        people[key] = user
    return Directory(
        partnership=partnership,
        school=school,
        social_care=social_care,
        raiser=people["raiser"],
        school_manager=people["school_manager"],
        csc_practitioner=people["csc_practitioner"],
    )


def _make_case(people: Directory, issue: str, entries: int) -> ProfessionalDifference:
    raiser = people.raiser
    category = Category.objects.filter(partnership=people.partnership).first()
    assert category is not None
    case = services.difference_raise(
        actor=raiser,
        raiser_agency=people.school,
        children=[
            ChildDetails(
                "Amira Khan",
                date(2016, 3, 4),
                "12 Example Row, Northmoor NM1 2AB",
                "Riverside Primary School",
                "Sam Okafor (social worker)",
            ),
            ChildDetails(
                "Zain Khan",
                date(2019, 7, 19),
                "12 Example Row, Northmoor NM1 2AB",
                "Little Acorns Nursery",
                "Sam Okafor (social worker)",
            ),
        ],
        other_agencies=[people.social_care],
        category=category,
        context=Context.CHILD_PROTECTION_REFERRAL,
        issue=issue,
        named_professionals=[
            NamedProfessionalDetails(
                agency=people.social_care,
                name="Sam Okafor",
                role="Social worker",
                user=people.csc_practitioner,
            )
        ],
    )
    services.difference_start_clarification(actor=raiser, difference_id=case.pk)
    services.difference_begin_stage_1(
        actor=raiser, difference_id=case.pk, clarification="Spoke to our safeguarding lead."
    )
    kinds = [EntryKind.CALL, EntryKind.DISCUSSION, EntryKind.CORRESPONDENCE, EntryKind.MEETING]
    for n in range(entries):
        entry_record(
            actor=raiser if n % 2 == 0 else people.csc_practitioner,
            difference=case,
            kind=kinds[n % len(kinds)],
            method="Telephone" if n % 2 == 0 else "Teams meeting",
            participants="Sam Okafor, social worker; Alex Carter, DSL",
            facts=f"{n + 1}. {FACTS}",
            opinion=OPINION if n % 3 else "",
            outcome="Agreed to speak again after the core group." if n % 4 == 0 else "",
        )
    services.difference_escalate(
        actor=raiser, difference_id=case.pk, reason="Stage 1 did not resolve it."
    )
    services.difference_escalate(
        actor=people.school_manager,
        difference_id=case.pk,
        reason="The managers did not agree.",
        oversight_note="Read the referral and the notes of both calls.",
    )
    return services.difference_record_outcome(
        actor=raiser,
        difference_id=case.pk,
        outcome=Status.RESOLVED,
        summary="A strategy discussion was held; section 47 enquiries started.",
        actions=[
            ActionDetails("Hold a strategy discussion", "Priya Shah", date.today()),
            ActionDetails("Tell the school the outcome of referrals the same day", "Priya Shah"),
        ],
    )


def case_with(issue: str, entries: int) -> ProfessionalDifference:
    """The bench case with ``issue``, made once (about entries + 10 chronology entries)."""
    existing = ProfessionalDifference.objects.filter(partnership__slug=SLUG, issue=issue).first()
    if existing is not None:
        return existing
    print(f"making a case with {entries} recorded entries (once) ...", flush=True)
    with transaction.atomic():
        return _make_case(_directory(), issue, entries)


def render_once(pk: int) -> tuple[float, int, int]:
    """Read the record and render it, as the view does: (ms, pages, bytes)."""
    started = time.perf_counter()
    case = ProfessionalDifference.objects.select_related("partnership", "category").get(pk=pk)
    record = appendix2.record_for(case)
    rendered = pdf.render_record_pdf(
        record, generated_by="Bench Person", generated_at=timezone.now()
    )
    elapsed = (time.perf_counter() - started) * 1000
    return elapsed, len(pypdf.PdfReader(BytesIO(rendered.pdf)).pages), len(rendered.pdf)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))
    return ordered[index]


def main() -> int:
    typical = case_with(TYPICAL_ISSUE, 14)
    long = case_with(LONG_ISSUE, 194)
    for case in (typical, long):
        count = case.entries.count()
        print(f"{case.reference}: {count} chronology entries ({connection.vendor})")

    first, _, _ = render_once(typical.pk)
    print(f"first render in this process (WeasyPrint import, fonts): {first:.0f} ms")

    timings = [render_once(typical.pk)[0] for _ in range(TYPICAL_RUNS)]
    _, pages, size = render_once(typical.pk)
    p50, p95 = statistics.median(timings), percentile(timings, 0.95)
    print(
        f"typical record ({typical.entries.count()} entries, {pages} pages, {size // 1024} KiB), "
        f"{TYPICAL_RUNS} renders: p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {max(timings):.0f} ms "
        f"(target p95 < {TARGET_P95_MS:.0f} ms)"
    )

    long_timings = [render_once(long.pk)[0] for _ in range(LONG_RUNS)]
    _, long_pages, long_size = render_once(long.pk)
    print(
        f"200-entry chronology ({long.entries.count()} entries, {long_pages} pages, "
        f"{long_size // 1024} KiB), {LONG_RUNS} renders: p50 "
        f"{statistics.median(long_timings):.0f} ms, max {max(long_timings):.0f} ms"
    )
    return 0 if p95 < TARGET_P95_MS else 1


if __name__ == "__main__":
    sys.exit(main())
