"""Stage clocks, the deadline scan and the notification outbox (spec §4).

Deadlines live in the database (``StageEntry.next_check_at``); a periodic scan finds the ones
that have come, records each reminder and breach once (a unique constraint), and writes the
notices to the outbox in the same transaction. A separate task e-mails the outbox. Nothing
waits in the broker, so a killed worker, a stopped scheduler, two schedulers or a restarted
Redis lose nothing and repeat nothing.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.db import connection, models, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.utils import timezone

from agencies.models import (
    Agency,
    AgencyMembership,
    Partnership,
    PartnershipMembership,
    PartnershipRole,
    Track,
)
from agencies.selectors import roles_held
from escalations import errors
from escalations.clocks import partnership_calendar, stage_due_at
from escalations.errors import DifferenceRefused
from escalations.locking import difference_lock
from escalations.models import (
    ClockEvent,
    ClockEventKind,
    Notification,
    NotificationKind,
    Party,
    ProfessionalDifference,
    StageEntry,
)
from escalations.presenters import initials
from escalations.rules import STAGE_OWNER_ROLES, TIER_ABOVE_ROLES
from escalations.states import TIMED_STAGES, Status
from escalations.working_time import add_working_hours, subtract_working_time, working_time_between
from ops.db import server_cursor
from ops.heartbeats import heartbeat_record
from ops.models import Heartbeat
from records.services import clock_entry_write

logger = logging.getLogger(__name__)

REMINDER_LEAD = {Track.STANDARD: timedelta(hours=24), Track.URGENT: timedelta(hours=2)}
OUTBOX_BACKOFF = (60, 300, 900, 3600, 3 * 3600, 12 * 3600)  # seconds between e-mail attempts
OUTBOX_MAX_ATTEMPTS = len(OUTBOX_BACKOFF) + 1

CLOCK_NOT_RUNNING = "This case has no stage clock running."
CLOCK_ALREADY_PAUSED = "The clock is already paused."
CLOCK_NOT_PAUSED = "The clock is not paused."
CLOCK_NOT_YOURS = (
    "Only the owner of the current stage or the business manager can change its clock."
)
SHORTER_ONLY = "The new due date must be earlier than the current one and later than now."


# -- starting and changing a clock ----------------------------------------------------------


def _remind_at(entry: StageEntry, difference: ProfessionalDifference) -> datetime | None:
    calendar = partnership_calendar(difference.partnership)
    remind = subtract_working_time(entry.due_at, REMINDER_LEAD[Track(entry.track)], calendar)
    return remind if remind > entry.entered_at else None


def stage_clock_restart(difference: ProfessionalDifference) -> StageEntry | None:
    """Stop the running clock and, if the case entered a timed stage, start that stage's clock.

    Called inside the transition's transaction.
    """
    now = timezone.now()
    StageEntry.objects.filter(difference=difference, left_at__isnull=True).update(
        left_at=now, next_check_at=None
    )
    if difference.status not in TIMED_STAGES:
        return None
    entry = StageEntry(
        difference=difference,
        stage=difference.status,
        track=difference.track,
        entered_at=difference.stage_entered_at,
        due_at=stage_due_at(
            partnership=difference.partnership,
            stage=difference.status,
            track=difference.track,
            entered_at=difference.stage_entered_at,
        ),
    )
    entry.remind_at = _remind_at(entry, difference)
    entry.schedule_next_check()
    entry.save()
    return entry


def may_manage_clock(difference: ProfessionalDifference, user: Any) -> bool:
    """The current stage's owner(s) in any party agency, the raiser at the early stages, or
    the business manager."""
    held = roles_held(user)
    if held.in_partnership(difference.partnership_id, PartnershipRole.BUSINESS_MANAGER):
        return True
    if difference.status in (Status.CLARIFICATION, Status.STAGE_1):
        return bool(user.pk == difference.raised_by_id)
    if difference.status == Status.FINAL_REFERRAL:
        return held.in_partnership(difference.partnership_id, PartnershipRole.FINAL_REFERRAL_MEMBER)
    roles = STAGE_OWNER_ROLES.get(difference.status, ())
    return held.in_any_agency(difference.party_agency_ids(), *roles)


def _running_entry(
    difference_id: int, actor: Any, expected_state: tuple[str, str] | None = None
) -> tuple[ProfessionalDifference, StageEntry]:
    difference = difference_lock(difference_id, expected_state)
    entry = (
        StageEntry.objects.select_for_update()
        .filter(difference=difference, left_at__isnull=True)
        .first()
    )
    if entry is None:
        raise DifferenceRefused(CLOCK_NOT_RUNNING)
    if not may_manage_clock(difference, actor):
        raise DifferenceRefused(CLOCK_NOT_YOURS)
    return difference, entry


def stage_clock_pause(
    *, actor: Any, difference_id: int, reason: str, expected_state: tuple[str, str] | None = None
) -> StageEntry:
    """Pause the stage clock with a reason (e.g. awaiting a core group meeting)."""
    if not reason.strip():
        raise DifferenceRefused(errors.REASON_REQUIRED, field="reason")
    with transaction.atomic():
        difference, entry = _running_entry(difference_id, actor, expected_state)
        if entry.paused_at is not None:
            raise DifferenceRefused(CLOCK_ALREADY_PAUSED)
        entry.paused_at = timezone.now()
        entry.pause_reason = reason.strip()
        entry.schedule_next_check()
        entry.save()
        _clock_entry(difference, actor, "pause_clock", f"Clock paused: {reason.strip()}")
        return entry


def stage_clock_resume(
    *, actor: Any, difference_id: int, expected_state: tuple[str, str] | None = None
) -> StageEntry:
    """Resume a paused clock; the due moment moves by the working time it was paused."""
    with transaction.atomic():
        difference, entry = _running_entry(difference_id, actor, expected_state)
        if entry.paused_at is None:
            raise DifferenceRefused(CLOCK_NOT_PAUSED)
        calendar = partnership_calendar(difference.partnership)
        now = timezone.now()
        paused_for = working_time_between(entry.paused_at, now, calendar)
        hours = paused_for / timedelta(hours=1)
        if entry.breached_at is None:
            entry.due_at = add_working_hours(entry.due_at, hours, calendar)
            if entry.remind_at is not None and entry.reminded_at is None:
                entry.remind_at = add_working_hours(entry.remind_at, hours, calendar)
        entry.paused_at = None
        entry.schedule_next_check()
        entry.save()
        _clock_entry(
            difference,
            actor,
            "resume_clock",
            f"Clock resumed after {hours:.1f} working hours; now due "
            f"{timezone.localtime(entry.due_at):%d %B %Y %H:%M}.",
        )
        return entry


def stage_clock_shorten(
    *,
    actor: Any,
    difference_id: int,
    due_at: datetime,
    reason: str,
    expected_state: tuple[str, str] | None = None,
) -> StageEntry:
    """Set a due moment earlier than the timeframe's, because the child's needs demand it."""
    if not reason.strip():
        raise DifferenceRefused(errors.REASON_REQUIRED, field="reason")
    with transaction.atomic():
        difference, entry = _running_entry(difference_id, actor, expected_state)
        if not timezone.now() < due_at < entry.due_at:
            raise DifferenceRefused(SHORTER_ONLY, field="due_at")
        entry.due_at = due_at
        entry.shortened_reason = reason.strip()
        if entry.reminded_at is None:
            entry.remind_at = _remind_at(entry, difference)
        entry.schedule_next_check()
        entry.save()
        _clock_entry(
            difference,
            actor,
            "shorten_clock",
            f"Due date brought forward to {timezone.localtime(due_at):%d %B %Y %H:%M}: "
            f"{reason.strip()}",
        )
        return entry


def _clock_entry(difference: ProfessionalDifference, actor: Any, what: str, text: str) -> None:
    clock_entry_write(difference=difference, actor=actor, what=what, text=text)


# -- who is told ----------------------------------------------------------------------------


class CaseFacts(NamedTuple):
    """What the scan needs to know of a case (plain values: the scan handles thousands)."""

    pk: int
    partnership_id: int
    raised_by_id: int
    reference: str
    partnership_name: str

    @classmethod
    def of(cls, difference: ProfessionalDifference) -> CaseFacts:
        return cls(
            difference.pk,
            difference.partnership_id,
            difference.raised_by_id,
            difference.reference or "",
            difference.partnership.name,
        )


# Who is told, as (scope, role) pairs, so that the Python directory below and the scan's SQL
# (``_insert_notices_sql``) read one rule: the case's raiser, a role held in any party agency of
# the case, or a role held in the case's partnership. Only active people (and active agencies)
# are told.
RAISER, AGENCY, PARTNERSHIP = "raiser", "agency", "partnership"
Audience = tuple[str, str]


def owners_audience(stage: str) -> frozenset[Audience]:
    """The owners of ``stage`` (told of its reminders and breaches)."""
    if stage in (Status.CLARIFICATION, Status.STAGE_1):
        return frozenset({(RAISER, "")})
    if stage == Status.FINAL_REFERRAL:
        return frozenset({(PARTNERSHIP, PartnershipRole.FINAL_REFERRAL_MEMBER.value)})
    return frozenset((AGENCY, str(role)) for role in STAGE_OWNER_ROLES.get(stage, ()))


def tier_above_audience(stage: str) -> frozenset[Audience]:
    """The tier above ``stage``'s owners in each party agency, and the business manager from
    Stage 4 (told of a breach)."""
    audience = {(AGENCY, str(role)) for role in TIER_ABOVE_ROLES.get(stage, ())}
    if stage in (Status.STAGE_4, Status.FINAL_REFERRAL):
        audience.add((PARTNERSHIP, PartnershipRole.BUSINESS_MANAGER.value))
    return frozenset(audience)


def notice_audience(kind: str, stage: str) -> frozenset[Audience]:
    """Who is told of a reminder (the owners) or a breach (the owners and the tier above)."""
    if kind == NotificationKind.BREACH:
        return owners_audience(stage) | tier_above_audience(stage)
    return owners_audience(stage)


@dataclass
class _Directory:
    """Who holds which role, for a batch of cases, read in a handful of queries."""

    parties: dict[int, set[int]]
    agency_roles: dict[tuple[int, str], set[int]]
    partnership_roles: dict[tuple[int, str], set[int]]
    active_raisers: set[int]

    @classmethod
    def for_cases(cls, cases: Sequence[CaseFacts]) -> _Directory:
        ids = [case.pk for case in cases]
        parties: dict[int, set[int]] = defaultdict(set)
        for case_id, agency_id in Party.objects.filter(difference_id__in=ids).values_list(
            "difference_id", "agency_id"
        ):
            parties[case_id].add(agency_id)
        agency_ids = set().union(*parties.values()) if parties else set()
        agency_roles: dict[tuple[int, str], set[int]] = defaultdict(set)
        for agency_id, role, user_id in AgencyMembership.objects.filter(
            agency_id__in=agency_ids, user__is_active=True, agency__active=True
        ).values_list("agency_id", "role", "user_id"):
            agency_roles[(agency_id, role)].add(user_id)
        partnership_roles: dict[tuple[int, str], set[int]] = defaultdict(set)
        for partnership_id, role, user_id in PartnershipMembership.objects.filter(
            partnership_id__in={case.partnership_id for case in cases}, user__is_active=True
        ).values_list("partnership_id", "role", "user_id"):
            partnership_roles[(partnership_id, role)].add(user_id)
        active_raisers = set(
            User.objects.filter(
                pk__in={case.raised_by_id for case in cases}, is_active=True
            ).values_list("pk", flat=True)
        )
        return cls(
            parties=parties,
            agency_roles=agency_roles,
            partnership_roles=partnership_roles,
            active_raisers=active_raisers,
        )

    def people(self, case: CaseFacts, audience: Iterable[Audience]) -> set[int]:
        """The active people of ``case`` who hold any of ``audience``'s roles."""
        people: set[int] = set()
        for scope, role in audience:
            if scope == RAISER:
                people |= {case.raised_by_id} & self.active_raisers
            elif scope == PARTNERSHIP:
                people |= self.partnership_roles.get((case.partnership_id, role), set())
            else:
                for agency_id in self.parties.get(case.pk, ()):
                    people |= self.agency_roles.get((agency_id, role), set())
        return people

    def stage_owners(self, case: CaseFacts, stage: str) -> set[int]:
        """The people who own ``stage`` of the case (told of its reminders and breaches)."""
        return self.people(case, owners_audience(stage))

    def tier_above(self, case: CaseFacts, stage: str) -> set[int]:
        """The tier above the stage's owners in each party agency (told of a breach)."""
        return self.people(case, tier_above_audience(stage))


def stage_owners(difference: ProfessionalDifference, stage: str) -> set[int]:
    """Ids of the people who own ``stage`` of one case."""
    facts = CaseFacts.of(difference)
    return _Directory.for_cases([facts]).stage_owners(facts, stage)


def tier_above(difference: ProfessionalDifference, stage: str) -> set[int]:
    """Ids of the tier above ``stage``'s owners for one case."""
    facts = CaseFacts.of(difference)
    return _Directory.for_cases([facts]).tier_above(facts, stage)


# -- notices --------------------------------------------------------------------------------


def case_url(difference_id: int) -> str:
    """The case's address for e-mails."""
    return f"{settings.SITE_URL.rstrip('/')}/cases/{difference_id}/"


SUBJECTS = {
    NotificationKind.REMINDER: "{partnership}: {reference} is due {due_text}",
    NotificationKind.BREACH: "{partnership}: {reference} is overdue at {stage}",
    NotificationKind.REACHED_STAGE: "{partnership}: {reference} has reached {stage}",
}


STAGE_LABELS = {str(value): str(label) for value, label in Status.choices}


def _subject(kind: str, case: CaseFacts, stage: str, due: datetime | None) -> str:
    template = SUBJECTS[NotificationKind(kind)]
    # Only a reminder's subject shows the due moment (formatting it costs ten thousand calls
    # to localtime and strftime in a large scan, so it is not done for nothing).
    due_text = (
        f"{timezone.localtime(due):%A %-d %B, %H:%M}"
        if due is not None and "{due_text}" in template
        else ""
    )
    return template.format(
        partnership=case.partnership_name,
        reference=case.reference,
        stage=STAGE_LABELS.get(stage, stage),
        due_text=due_text,
    )[:250]


NOTICE_FIELDS = ("recipient_id", "difference_id", "kind", "subject", "stage", "due_at")


def _notices(
    *,
    recipients: Iterable[int],
    difference: CaseFacts,
    kind: str,
    stage: str,
    due: datetime | None = None,
) -> list[tuple[Any, ...]]:
    """One notice per recipient, as rows of NOTICE_FIELDS. E-mail is not a secure channel:
    notices carry the case reference and the children's initials, never a child's name."""
    subject = _subject(kind, difference, stage, due)
    return [(user_id, difference.pk, kind, subject, stage, due) for user_id in sorted(recipients)]


def _insert(model: type[models.Model], fields: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """Insert many rows at once: PostgreSQL's COPY (tens of thousands of notices in a scan
    batch cost seconds through the ORM), the ORM elsewhere. Every other column takes its
    default."""
    if not rows:
        return
    defaults = {
        field.attname: field.get_default()
        for field in model._meta.concrete_fields
        if not field.primary_key and field.attname not in fields
    }
    if connection.vendor != "postgresql":
        model.objects.bulk_create(  # type: ignore[attr-defined]
            [model(**defaults, **dict(zip(fields, row, strict=True))) for row in rows],
            batch_size=2000,
        )
        return
    columns = [*fields, *defaults]
    extra = tuple(defaults.values())
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(column) for column in columns)
    statement = f"COPY {table} ({names}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row + extra)


def _queue_delivery() -> None:
    # The outbox rows are already committed: if the broker is down, the periodic delivery
    # task picks them up later, so a failure here loses nothing.
    try:
        from escalations.tasks import deliver_outbox

        deliver_outbox.apply_async(retry=False)
    except Exception:
        logger.warning("could not queue outbox delivery; the periodic task will send it")


def notify_reached_stage(difference: ProfessionalDifference) -> None:
    """Tell the business manager when a case reaches the partnership's notification stage
    (inside the transition's transaction)."""
    if difference.status != difference.partnership.notification_stage:
        return
    facts = CaseFacts.of(difference)
    directory = _Directory.for_cases([facts])
    notices = _notices(
        recipients=directory.people(facts, {(PARTNERSHIP, PartnershipRole.BUSINESS_MANAGER.value)}),
        difference=facts,
        kind=NotificationKind.REACHED_STAGE,
        stage=difference.status,
    )
    if notices:
        _insert(Notification, NOTICE_FIELDS, notices)
        transaction.on_commit(_queue_delivery)


# -- the scan -------------------------------------------------------------------------------


@dataclass
class ScanResult:
    reminders: int = 0
    breaches: int = 0
    batches: int = 0


def deadlines_scan(
    *, now: datetime | None = None, batch_size: int = 5000, workers: int | None = None
) -> ScanResult:
    """Record every reminder and breach that has come, once each, with their notices.

    Each batch is one transaction: the due rows are locked with SKIP LOCKED (so a second scan
    running at the same time takes other rows), their events and notices are written, and
    their next check moves on, all or nothing.

    On PostgreSQL, outside a transaction, ``workers`` threads (DEADLINE_SCAN_WORKERS, by
    default the machine's cores, at most 4) take batches side by side, each on its own
    connection, as that many scans started at once would: most of a batch's time is the
    database writing its notices, which one connection does on one core. Inside a transaction
    (the caller's, or a test's) other connections could not see its rows, so the scan runs
    alone on the caller's connection.
    """
    now = now or timezone.now()
    if workers is None:
        workers = settings.DEADLINE_SCAN_WORKERS
    if workers > 1 and connection.vendor == "postgresql" and not connection.in_atomic_block:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="deadline-scan") as pool:
            parts = list(pool.map(lambda _: _scan_batches_on_own_connection(now, batch_size),
                                  range(workers)))  # fmt: skip
        result = ScanResult(
            reminders=sum(part.reminders for part in parts),
            breaches=sum(part.breaches for part in parts),
            batches=sum(part.batches for part in parts),
        )
    else:
        result = _scan_batches(now, batch_size)
    # For /healthz: when a scan last finished (one UPDATE).
    heartbeat_record(Heartbeat.DEADLINE_SCAN)
    if result.reminders or result.breaches:
        # Every batch has committed: one delivery task for all of them (at once outside a
        # transaction; after the caller's commit inside one).
        transaction.on_commit(_queue_delivery)
    return result


def _scan_batches(now: datetime, batch_size: int) -> ScanResult:
    """Take due batches until one comes back short: then every due row was either in it or
    locked by another scan, which records it."""
    result = ScanResult()
    while True:
        with transaction.atomic():
            batch = _due_batch(now, batch_size)
            if batch:
                _check_batch(batch, now, result)
        result.batches += 1
        if len(batch) < batch_size:
            return result


def _scan_batches_on_own_connection(now: datetime, batch_size: int) -> ScanResult:
    """``_scan_batches`` in a worker thread, which has its own connection: closed (returned to
    the pool) when the thread's share is done."""
    try:
        return _scan_batches(now, batch_size)
    finally:
        connection.close()


class _DueEntry(NamedTuple):
    """A stage entry the scan met, with its case (plain values: no model instances)."""

    pk: int
    stage: str
    due_at: datetime
    remind_at: datetime | None
    reminded_at: datetime | None
    breached_at: datetime | None
    difference_id: int
    difference__partnership_id: int
    difference__raised_by_id: int
    difference__reference: str | None
    difference__partnership__name: str


# The due entries of a batch, locked, and then their cases: locking first and joining the few
# thousand locked rows to their cases by key (rather than joining the due entries to every case,
# which PostgreSQL does by reading the whole case table).
_DUE_SQL = """
WITH due AS MATERIALIZED (
    SELECT e.id, e.stage, e.due_at, e.remind_at, e.reminded_at, e.breached_at, e.difference_id,
           e.next_check_at
    FROM {entry} e
    WHERE e.next_check_at <= %s
    ORDER BY e.next_check_at
    LIMIT %s
    FOR UPDATE OF e SKIP LOCKED
)
SELECT due.id, due.stage, due.due_at, due.remind_at, due.reminded_at, due.breached_at,
       due.difference_id, d.partnership_id, d.raised_by_id, d.reference, p.name
FROM due
JOIN {difference} d ON d.id = due.difference_id
JOIN {partnership} p ON p.id = d.partnership_id
ORDER BY due.next_check_at, due.id
"""


def _due_batch(now: datetime, batch_size: int) -> list[_DueEntry]:
    """Up to ``batch_size`` entries whose next check has come, locked for this transaction;
    entries another scan has locked are skipped (it records them)."""
    if connection.vendor != "postgresql":
        due = StageEntry.objects.filter(next_check_at__lte=now).order_by("next_check_at", "pk")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True, of=("self",))
        return [_DueEntry(*row) for row in due.values_list(*_DueEntry._fields)[:batch_size]]
    quote = connection.ops.quote_name
    sql = _DUE_SQL.format(
        entry=quote(StageEntry._meta.db_table),
        difference=quote(ProfessionalDifference._meta.db_table),
        partnership=quote(Partnership._meta.db_table),
    )
    with server_cursor() as cursor:
        cursor.execute(sql, [now, batch_size])
        return [_DueEntry(*row) for row in cursor.fetchall()]


class _Notice(NamedTuple):
    """One reminder or breach of a case, to be told to its audience."""

    case: CaseFacts
    kind: str
    stage: str
    due: datetime


def _check_batch(batch: list[_DueEntry], now: datetime, result: ScanResult) -> None:
    events: list[tuple[Any, ...]] = []
    notices: list[_Notice] = []
    reminded: list[int] = []
    breached: list[int] = []
    for entry in batch:
        case = CaseFacts(
            entry.difference_id,
            entry.difference__partnership_id,
            entry.difference__raised_by_id,
            entry.difference__reference or "",
            entry.difference__partnership__name,
        )
        if entry.reminded_at is None and entry.remind_at is not None and entry.remind_at <= now:
            reminded.append(entry.pk)
            # A reminder the scan only meets after the deadline is not sent: the breach is.
            if entry.due_at > now:
                events.append((entry.pk, ClockEventKind.REMINDER, now))
                notices.append(_Notice(case, NotificationKind.REMINDER, entry.stage, entry.due_at))
                result.reminders += 1
        if entry.breached_at is None and entry.due_at <= now:
            breached.append(entry.pk)
            events.append((entry.pk, ClockEventKind.BREACH, now))
            notices.append(_Notice(case, NotificationKind.BREACH, entry.stage, entry.due_at))
            result.breaches += 1
    # The rows are locked and re-checked, so a second record cannot happen; if it ever did,
    # the unique constraint raises and the whole batch rolls back rather than notify twice.
    _insert(ClockEvent, ("stage_entry_id", "kind", "at"), events)
    if connection.vendor == "postgresql":
        _insert_notices_sql(notices)
    else:
        directory = _Directory.for_cases(list({n.case.pk: n.case for n in notices}.values()))
        rows: list[tuple[Any, ...]] = []
        for notice in notices:
            rows += _notices(
                recipients=directory.people(
                    notice.case, notice_audience(notice.kind, notice.stage)
                ),
                difference=notice.case,
                kind=notice.kind,
                stage=notice.stage,
                due=notice.due,
            )
        _insert(Notification, NOTICE_FIELDS, rows)
    _mark_checked(breached=breached, reminded=sorted(set(reminded) - set(breached)), now=now)


def _mark_checked(*, breached: list[int], reminded: list[int], now: datetime) -> None:
    """Move the checked entries' next check on: after a breach nothing more is due; after a
    reminder, the deadline is (see StageEntry.schedule_next_check)."""
    if connection.vendor != "postgresql":
        StageEntry.objects.filter(pk__in=breached).update(
            breached_at=now, next_check_at=None, reminded_at=Coalesce("reminded_at", Value(now))
        )
        StageEntry.objects.filter(pk__in=reminded).update(
            reminded_at=now, next_check_at=F("due_at")
        )
        return
    # The same two updates with each list of ids as one array parameter (the ORM's IN list
    # sends thousands of parameters, each quoted in Python).
    table = connection.ops.quote_name(StageEntry._meta.db_table)
    with server_cursor() as cursor:
        if breached:
            cursor.execute(
                f"UPDATE {table} SET breached_at = %s, next_check_at = NULL, "  # noqa: S608
                "reminded_at = COALESCE(reminded_at, %s) WHERE id = ANY(%s)",
                [now, now, breached],
            )
        if reminded:
            cursor.execute(
                f"UPDATE {table} SET reminded_at = %s, next_check_at = due_at "  # noqa: S608
                "WHERE id = ANY(%s)",
                [now, reminded],
            )


# The scan's fan-out on PostgreSQL: one INSERT ... SELECT writes every notice of a batch, one
# per (notice, person), joining the audience rules to the case's parties and the role
# memberships in the database. Building tens of thousands of rows in Python and copying them
# back cost most of a scan. The joins are those of _Directory.for_cases (same tables, same
# active filters), and UNION removes a person who qualifies twice (e.g. a raiser who is also
# their agency's line manager), as the Python sets do.
_FAN_OUT_SQL = """
WITH notice AS MATERIALIZED (
    SELECT * FROM unnest(%(difference)s::bigint[], %(partnership)s::bigint[],
                         %(raiser)s::bigint[], %(kind)s::text[], %(stage)s::text[],
                         %(due)s::timestamptz[], %(subject)s::text[])
        WITH ORDINALITY AS n(difference_id, partnership_id, raiser_id, kind, stage, due_at,
                             subject, position)
),
audience AS MATERIALIZED (
    SELECT * FROM unnest(%(rule_kind)s::text[], %(rule_stage)s::text[], %(rule_scope)s::text[],
                         %(rule_role)s::text[]) AS a(kind, stage, scope, role)
),
agency_people AS MATERIALIZED (
    SELECT a.kind, a.stage, m.agency_id, m.user_id
    FROM audience a
    JOIN {agency_membership} m ON m.role = a.role
    JOIN {agency} g ON g.id = m.agency_id AND g.active
    JOIN {user} u ON u.id = m.user_id AND u.is_active
    WHERE a.scope = 'agency'
),
notice_agency AS MATERIALIZED (
    SELECT n.position, n.kind, n.stage, p.agency_id
    FROM notice n
    JOIN {party} p ON p.difference_id = n.difference_id
),
told AS (
    SELECT na.position, ap.user_id
    FROM notice_agency na
    JOIN agency_people ap
        ON ap.agency_id = na.agency_id AND ap.kind = na.kind AND ap.stage = na.stage
    UNION
    SELECT n.position, pm.user_id
    FROM notice n
    JOIN audience a ON a.kind = n.kind AND a.stage = n.stage AND a.scope = 'partnership'
    JOIN {partnership_membership} pm
        ON pm.partnership_id = n.partnership_id AND pm.role = a.role
    JOIN {user} u ON u.id = pm.user_id AND u.is_active
    UNION
    SELECT n.position, n.raiser_id
    FROM notice n
    JOIN audience a ON a.kind = n.kind AND a.stage = n.stage AND a.scope = 'raiser'
    JOIN {user} u ON u.id = n.raiser_id AND u.is_active
)
INSERT INTO {notification} ({columns})
SELECT t.user_id, n.difference_id, n.kind, n.subject, n.stage, n.due_at{defaults}
FROM told t
JOIN notice n ON n.position = t.position
"""


def _insert_notices_sql(notices: Sequence[_Notice]) -> None:
    """Write one notice per person told of each of ``notices`` (PostgreSQL), in one statement."""
    if not notices:
        return
    rules = sorted(
        {(kind, stage, scope, role)
         for kind, stage in {(n.kind, n.stage) for n in notices}
         for scope, role in notice_audience(kind, stage)}
    )  # fmt: skip
    fields = {field.attname: field for field in Notification._meta.concrete_fields}
    defaults = {
        str(field.column): field.get_default()
        for attname, field in fields.items()
        if not field.primary_key and attname not in NOTICE_FIELDS
    }
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(fields[attname].column)) for attname in NOTICE_FIELDS)
    columns += "".join(f", {quote(column)}" for column in defaults)
    params: dict[str, Any] = {
        "difference": [n.case.pk for n in notices],
        "partnership": [n.case.partnership_id for n in notices],
        "raiser": [n.case.raised_by_id for n in notices],
        "kind": [str(n.kind) for n in notices],
        "stage": [n.stage for n in notices],
        "due": [n.due for n in notices],
        "subject": [_subject(n.kind, n.case, n.stage, n.due) for n in notices],
        "rule_kind": [str(rule[0]) for rule in rules],
        "rule_stage": [rule[1] for rule in rules],
        "rule_scope": [rule[2] for rule in rules],
        "rule_role": [rule[3] for rule in rules],
    }
    placeholders = ""
    for index, value in enumerate(defaults.values()):
        params[f"default_{index}"] = value
        placeholders += f", %(default_{index})s"
    tables = {
        name: quote(model._meta.db_table)
        for name, model in (
            ("notification", Notification),
            ("party", Party),
            ("agency", Agency),
            ("agency_membership", AgencyMembership),
            ("partnership_membership", PartnershipMembership),
            ("user", User),
        )
    }
    sql = _FAN_OUT_SQL.format(columns=columns, defaults=placeholders, **tables)
    with server_cursor() as cursor:
        cursor.execute(sql, params)


# -- delivering the outbox ------------------------------------------------------------------


def notification_body(notice: Notification) -> str:
    """The e-mail text of a notice."""
    case = notice.difference
    names = case.children.values_list("name", flat=True)
    context = {
        "partnership": case.partnership.name,
        "reference": case.reference or "",
        "initials": ", ".join(initials(name) for name in names),
        "url": case_url(case.pk),
        "stage": Status(notice.stage).label if notice.stage else "",
        "due": timezone.localtime(notice.due_at) if notice.due_at else None,
    }
    return render_to_string(f"emails/{notice.kind}_body.txt", context)


def outbox_deliver(*, limit: int = 200) -> int:
    """E-mail the notices waiting in the outbox, each in its own transaction, so a worker
    killed mid-way has committed every one it sent and none is sent twice. Returns how many
    were sent."""
    sent = 0
    for _ in range(limit):
        with transaction.atomic():
            waiting = Notification.objects.filter(
                email_sent_at__isnull=True, email_next_attempt_at__lte=timezone.now()
            ).order_by("email_next_attempt_at", "pk")
            if connection.features.has_select_for_update_skip_locked:
                waiting = waiting.select_for_update(skip_locked=True, of=("self",))
            notice = waiting.select_related("recipient", "difference__partnership").first()
            if notice is None:
                return sent
            sent += _deliver_one(notice)
    return sent


def _deliver_one(notice: Notification) -> int:
    now = timezone.now()
    try:
        notice.body = notification_body(notice)
        send_mail(
            notice.subject, notice.body, settings.DEFAULT_FROM_EMAIL, [notice.recipient.email]
        )
    except Exception as error:  # any transport failure is retried with backoff
        notice.email_attempts += 1
        notice.email_last_error = str(error)[:1000]
        if notice.email_attempts >= OUTBOX_MAX_ATTEMPTS:
            notice.email_next_attempt_at = None
            logger.error("giving up e-mailing notification %s: %s", notice.pk, error)
        else:
            delay = OUTBOX_BACKOFF[notice.email_attempts - 1]
            notice.email_next_attempt_at = now + timedelta(seconds=delay)
        notice.save(update_fields=["email_attempts", "email_last_error", "email_next_attempt_at"])
        return 0
    notice.email_sent_at = timezone.now()
    notice.email_next_attempt_at = None
    notice.save(update_fields=["body", "email_sent_at", "email_next_attempt_at"])
    return 1


def notification_mark_read(*, actor: Any, notification_id: int) -> None:
    """Mark one of the person's notices read."""
    Notification.objects.filter(pk=notification_id, recipient=actor, read_at=None).update(
        read_at=timezone.now()
    )
