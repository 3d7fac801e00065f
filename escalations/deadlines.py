"""Stage clocks, the deadline scan and the notification outbox (spec §4).

Deadlines live in the database (``StageEntry.next_check_at``); a periodic scan finds the ones
that have come, records each reminder and breach once (a unique constraint), and writes the
notices to the outbox in the same transaction. A separate task e-mails the outbox. Nothing
waits in the broker, so a killed worker, a stopped scheduler, two schedulers or a restarted
Redis lose nothing and repeat nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.db import IntegrityError, connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from agencies.models import PartnershipRole, Track
from agencies.selectors import roles_held
from escalations import errors
from escalations.clocks import partnership_calendar, stage_due_at
from escalations.errors import DifferenceRefused
from escalations.models import (
    ClockEvent,
    ClockEventKind,
    Notification,
    NotificationKind,
    ProfessionalDifference,
    StageEntry,
)
from escalations.rules import STAGE_OWNER_ROLES, TIER_ABOVE_ROLES
from escalations.states import TIMED_STAGES, Status
from escalations.working_time import add_working_hours, subtract_working_time, working_time_between
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


def _running_entry(difference_id: int, actor: Any) -> tuple[ProfessionalDifference, StageEntry]:
    difference = (
        ProfessionalDifference.objects.select_for_update()
        .select_related("partnership")
        .get(pk=difference_id)
    )
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


def stage_clock_pause(*, actor: Any, difference_id: int, reason: str) -> StageEntry:
    """Pause the stage clock with a reason (e.g. awaiting a core group meeting)."""
    if not reason.strip():
        raise DifferenceRefused(errors.REASON_REQUIRED, field="reason")
    with transaction.atomic():
        difference, entry = _running_entry(difference_id, actor)
        if entry.paused_at is not None:
            raise DifferenceRefused(CLOCK_ALREADY_PAUSED)
        entry.paused_at = timezone.now()
        entry.pause_reason = reason.strip()
        entry.schedule_next_check()
        entry.save()
        _clock_entry(difference, actor, "pause_clock", f"Clock paused: {reason.strip()}")
        return entry


def stage_clock_resume(*, actor: Any, difference_id: int) -> StageEntry:
    """Resume a paused clock; the due moment moves by the working time it was paused."""
    with transaction.atomic():
        difference, entry = _running_entry(difference_id, actor)
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
    *, actor: Any, difference_id: int, due_at: datetime, reason: str
) -> StageEntry:
    """Set a due moment earlier than the timeframe's, because the child's needs demand it."""
    if not reason.strip():
        raise DifferenceRefused(errors.REASON_REQUIRED, field="reason")
    with transaction.atomic():
        difference, entry = _running_entry(difference_id, actor)
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


def _agency_role_holders(difference: ProfessionalDifference, roles: Iterable[str]) -> set[User]:
    roles = tuple(roles)
    if not roles:
        return set()
    return set(
        User.objects.filter(
            is_active=True,
            agency_memberships__agency_id__in=difference.party_agency_ids(),
            agency_memberships__role__in=roles,
        ).distinct()
    )


def _partnership_role_holders(difference: ProfessionalDifference, role: str) -> set[User]:
    return set(
        User.objects.filter(
            is_active=True,
            partnership_memberships__partnership_id=difference.partnership_id,
            partnership_memberships__role=role,
        ).distinct()
    )


def stage_owners(difference: ProfessionalDifference, stage: str) -> set[User]:
    """The people who own ``stage`` of the case (told of its reminders and breaches)."""
    if stage in (Status.CLARIFICATION, Status.STAGE_1):
        return {difference.raised_by} if difference.raised_by.is_active else set()
    if stage == Status.FINAL_REFERRAL:
        return _partnership_role_holders(difference, PartnershipRole.FINAL_REFERRAL_MEMBER)
    return _agency_role_holders(difference, STAGE_OWNER_ROLES.get(stage, ()))


def tier_above(difference: ProfessionalDifference, stage: str) -> set[User]:
    """The tier above the stage's owners in each party agency (told of a breach)."""
    people = _agency_role_holders(difference, TIER_ABOVE_ROLES.get(stage, ()))
    if stage in (Status.STAGE_4, Status.FINAL_REFERRAL):
        people |= _partnership_role_holders(difference, PartnershipRole.BUSINESS_MANAGER)
    return people


# -- notices --------------------------------------------------------------------------------


def case_url(difference: ProfessionalDifference) -> str:
    """The case's address for e-mails."""
    return f"{settings.SITE_URL.rstrip('/')}/cases/{difference.pk}/"


def _children_initials(difference: ProfessionalDifference) -> str:
    names = difference.children.values_list("name", flat=True)
    return ", ".join("".join(p[0].upper() for p in name.split() if p) for name in names)


def notify(
    *, recipients: Iterable[User], difference: ProfessionalDifference, kind: str, **context: Any
) -> list[Notification]:
    """Write one notice per recipient to the outbox (inside the caller's transaction).

    E-mail is not a secure channel: notices carry the case reference and the children's
    initials, never a child's name.
    """
    base = {
        "partnership": difference.partnership.name,
        "reference": difference.reference,
        "initials": _children_initials(difference),
        "url": case_url(difference),
        **context,
    }
    subject = render_to_string(f"emails/{kind}_subject.txt", base).strip()
    body = render_to_string(f"emails/{kind}_body.txt", base)
    notices = Notification.objects.bulk_create(
        Notification(recipient=person, difference=difference, kind=kind, subject=subject, body=body)
        for person in sorted(recipients, key=lambda u: u.pk)
    )
    if notices:
        transaction.on_commit(_queue_delivery)
    return notices


def _queue_delivery() -> None:
    # The outbox row is already committed: if the broker is down, the periodic delivery
    # task picks it up later, so a failure here loses nothing.
    try:
        from escalations.tasks import deliver_outbox

        deliver_outbox.delay()
    except Exception:
        logger.warning("could not queue outbox delivery; the periodic task will send it")


def notify_reached_stage(difference: ProfessionalDifference) -> None:
    """Tell the business manager when a case reaches the partnership's notification stage."""
    if difference.status != difference.partnership.notification_stage:
        return
    notify(
        recipients=_partnership_role_holders(difference, PartnershipRole.BUSINESS_MANAGER),
        difference=difference,
        kind=NotificationKind.REACHED_STAGE,
        stage=Status(difference.status).label,
    )


# -- the scan -------------------------------------------------------------------------------


@dataclass
class ScanResult:
    reminders: int = 0
    breaches: int = 0
    batches: int = 0


def deadlines_scan(*, now: datetime | None = None, batch_size: int = 500) -> ScanResult:
    """Record every reminder and breach that has come, once each, with their notices."""
    result = ScanResult()
    now = now or timezone.now()
    while True:
        with transaction.atomic():
            due = StageEntry.objects.filter(next_check_at__lte=now).order_by("next_check_at")
            if connection.features.has_select_for_update_skip_locked:
                due = due.select_for_update(skip_locked=True, of=("self",))
            batch = list(due.select_related("difference__partnership")[:batch_size])
            for entry in batch:
                _check(entry, now, result)
        result.batches += 1
        if len(batch) < batch_size:
            return result


def _record_event(entry: StageEntry, kind: str, now: datetime) -> bool:
    """Record the event once; False if it was already recorded (by another scan)."""
    try:
        with transaction.atomic():
            ClockEvent.objects.create(stage_entry=entry, kind=kind, at=now)
    except IntegrityError:
        return False
    return True


def _check(entry: StageEntry, now: datetime, result: ScanResult) -> None:
    difference = entry.difference
    stage_label = Status(entry.stage).label
    due_local = timezone.localtime(entry.due_at)
    if entry.reminded_at is None and entry.remind_at is not None and entry.remind_at <= now:
        entry.reminded_at = now
        if entry.due_at > now and _record_event(entry, ClockEventKind.REMINDER, now):
            notify(
                recipients=stage_owners(difference, entry.stage),
                difference=difference,
                kind=NotificationKind.REMINDER,
                stage=stage_label,
                due=due_local,
            )
            result.reminders += 1
    if entry.breached_at is None and entry.due_at <= now:
        entry.breached_at = now
        if _record_event(entry, ClockEventKind.BREACH, now):
            notify(
                recipients=stage_owners(difference, entry.stage)
                | tier_above(difference, entry.stage),
                difference=difference,
                kind=NotificationKind.BREACH,
                stage=stage_label,
                due=due_local,
            )
            result.breaches += 1
    entry.schedule_next_check()
    entry.save(update_fields=["reminded_at", "breached_at", "next_check_at"])


# -- delivering the outbox ------------------------------------------------------------------


def outbox_deliver(*, batch_size: int = 100) -> int:
    """E-mail the notices waiting in the outbox; each is marked sent once. Returns how many
    were sent."""
    sent = 0
    now = timezone.now()
    with transaction.atomic():
        waiting = Notification.objects.filter(
            email_sent_at__isnull=True, email_next_attempt_at__lte=now
        ).order_by("email_next_attempt_at", "pk")
        if connection.features.has_select_for_update_skip_locked:
            waiting = waiting.select_for_update(skip_locked=True, of=("self",))
        for notice in waiting.select_related("recipient")[:batch_size]:
            try:
                send_mail(
                    notice.subject,
                    notice.body,
                    settings.DEFAULT_FROM_EMAIL,
                    [notice.recipient.email],
                )
            except Exception as error:
                notice.email_attempts += 1
                notice.email_last_error = str(error)[:1000]
                if notice.email_attempts >= OUTBOX_MAX_ATTEMPTS:
                    notice.email_next_attempt_at = None
                    logger.error("giving up e-mailing notification %s: %s", notice.pk, error)
                else:
                    delay = OUTBOX_BACKOFF[notice.email_attempts - 1]
                    notice.email_next_attempt_at = now + timedelta(seconds=delay)
            else:
                notice.email_sent_at = timezone.now()
                notice.email_next_attempt_at = None
                sent += 1
            notice.save(
                update_fields=[
                    "email_sent_at",
                    "email_attempts",
                    "email_next_attempt_at",
                    "email_last_error",
                ]
            )
    return sent


def notification_mark_read(*, actor: Any, notification_id: int) -> None:
    """Mark one of the person's notices read."""
    Notification.objects.filter(pk=notification_id, recipient=actor, read_at=None).update(
        read_at=timezone.now()
    )
