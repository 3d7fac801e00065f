"""Retention: legal holds, the daily scan for closed cases past retention, and anonymisation.

ADR 0006. A closed case whose closure is older than its partnership's ``retention_years``,
and which is not on legal hold, is marked due by the daily scan (``retention_scan``); a
partnership administrator of that partnership confirms each one (``difference_anonymise``).
Anonymising replaces every identifying field of the case, its children, named professionals
and raiser snapshot, removes all free text (the chronology's under the trigger's explicit
``records.anonymising`` switch), and keeps every row and fact the monitoring report counts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from agencies.models import Partnership
from agencies.selectors import partnerships_administered_by
from escalations.errors import DifferenceRefused
from escalations.models import (
    Action,
    Child,
    NamedProfessional,
    Notification,
    ProfessionalDifference,
    StageEntry,
)
from escalations.states import Status
from records.models import AuditEvent, Entry, RecordRender

ANONYMISED_CHILD = "Anonymised child"
ANONYMISED_PERSON = "Anonymised"
ANONYMISED_PROFESSIONAL = "Anonymised professional"

NOT_DUE = (
    "This case is not due for anonymisation: it must be closed, past the partnership's "
    "retention period, not on legal hold and listed by the daily retention check."
)
ALREADY_ANONYMISED = "This case has already been anonymised."
ON_LEGAL_HOLD = "This case is on legal hold, so it cannot be anonymised."
HOLD_REASON_REQUIRED = "Enter why the case is on legal hold"
HOLD_REASON_TOO_LONG = "Why the case is on legal hold must be 2000 characters or fewer"
HOLD_REASON_LIMIT = 2000


def years_before(moment: datetime, years: int) -> datetime:
    """``moment`` moved back ``years`` calendar years (29 February → 28 February)."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)


def retention_cutoff(partnership: Partnership, now: datetime | None = None) -> datetime:
    """Cases closed before this moment are past the partnership's retention period."""
    return years_before(now or timezone.now(), partnership.retention_years)


def _past_retention(partnership: Partnership, now: datetime) -> QuerySet[ProfessionalDifference]:
    return ProfessionalDifference.objects.filter(
        partnership=partnership,
        status=Status.CLOSED,
        closed_at__lt=retention_cutoff(partnership, now),
        legal_hold=False,
        anonymised_at__isnull=True,
    )


# -- the daily scan --------------------------------------------------------------------------


def retention_scan(*, now: datetime | None = None) -> int:
    """Mark every closed case past its partnership's retention period, not on legal hold and
    not yet anonymised, as due for anonymisation; return how many were newly marked. Runs
    daily (Celery beat ``scan-retention``, or ``manage.py retention_scan`` from cron); running
    twice marks nothing twice."""
    now = now or timezone.now()
    marked = 0
    for partnership in Partnership.objects.all():
        marked += (
            _past_retention(partnership, now)
            .filter(anonymisation_due_at__isnull=True)
            .update(anonymisation_due_at=now)
        )
    return marked


# -- selectors -------------------------------------------------------------------------------


def differences_due_for_anonymisation(
    user: Any, *, now: datetime | None = None
) -> list[ProfessionalDifference]:
    """The cases the scan listed in the partnerships ``user`` administers, still due (still
    past retention, not on legal hold, not anonymised), oldest closure first."""
    now = now or timezone.now()
    due: list[ProfessionalDifference] = []
    ids = partnerships_administered_by(user)
    for partnership in Partnership.objects.filter(pk__in=ids):
        due.extend(
            _past_retention(partnership, now)
            .filter(anonymisation_due_at__isnull=False)
            .select_related("partnership", "category")
            .order_by("closed_at", "pk")
        )
    return due


def differences_on_legal_hold(user: Any) -> QuerySet[ProfessionalDifference]:
    """The cases on legal hold in the partnerships ``user`` administers."""
    return (
        ProfessionalDifference.objects.filter(
            partnership_id__in=partnerships_administered_by(user), legal_hold=True
        )
        .select_related("partnership", "legal_hold_set_by")
        .order_by("legal_hold_set_at", "pk")
    )


def difference_administered_get(user: Any, pk: int) -> ProfessionalDifference:
    """Case ``pk`` if ``user`` administers its partnership; 404 otherwise."""
    from django.http import Http404

    found = (
        ProfessionalDifference.objects.filter(
            pk=pk, partnership_id__in=partnerships_administered_by(user)
        )
        .select_related("partnership", "category", "legal_hold_set_by", "anonymised_by")
        .first()
    )
    if found is None:
        raise Http404("No such case.")
    return found


def difference_administered_by_reference(
    user: Any, reference: str
) -> ProfessionalDifference | None:
    """The case with this reference in a partnership ``user`` administers, if any."""
    return ProfessionalDifference.objects.filter(
        reference=reference.strip().upper(),
        partnership_id__in=partnerships_administered_by(user),
    ).first()


# -- services --------------------------------------------------------------------------------


def _locked_administered(actor: Any, difference_id: int) -> ProfessionalDifference:
    difference = (
        ProfessionalDifference.objects.select_for_update()
        .select_related("partnership")
        .filter(pk=difference_id)
        .first()
    )
    if difference is None or difference.partnership_id not in partnerships_administered_by(actor):
        raise DifferenceRefused("Only an administrator of the case's partnership may do this.")
    return difference


@transaction.atomic
def difference_legal_hold_set(
    *, actor: Any, difference_id: int, on_hold: bool, reason: str
) -> ProfessionalDifference:
    """Put a case on legal hold, or take it off, saying why (a partnership administrator)."""
    difference = _locked_administered(actor, difference_id)
    reason = reason.strip()
    if not reason:
        raise DifferenceRefused(HOLD_REASON_REQUIRED, field="reason")
    if len(reason) > HOLD_REASON_LIMIT:
        raise DifferenceRefused(HOLD_REASON_TOO_LONG, field="reason")
    if difference.anonymised_at is not None:
        raise DifferenceRefused(ALREADY_ANONYMISED)
    now = timezone.now()
    difference.legal_hold = on_hold
    difference.legal_hold_reason = reason
    difference.legal_hold_set_by = actor
    difference.legal_hold_set_at = now
    if on_hold:
        # Listed again only by a later scan, once the hold is lifted.
        difference.anonymisation_due_at = None
    difference.save(
        update_fields=[
            "legal_hold",
            "legal_hold_reason",
            "legal_hold_set_by",
            "legal_hold_set_at",
            "anonymisation_due_at",
            "updated_at",
        ]
    )
    AuditEvent.objects.create(
        difference=difference,
        actor=actor,
        action="legal_hold_set" if on_hold else "legal_hold_lifted",
        detail=reason,
    )
    return difference


ENTRY_BLANKED = {
    "method": "",
    "participants": "",
    "facts": "",
    "opinion": "",
    "outcome": "",
    "reason": "",
    "author_name": ANONYMISED_PERSON,
}


def _blank_chronology(difference: ProfessionalDifference) -> int:
    """Remove the text of every chronology entry of the case. On PostgreSQL the trigger allows
    exactly this UPDATE, only with ``records.anonymising`` on in this transaction (ADR 0006);
    ``SET LOCAL`` ends with the transaction, so nothing after it may change an entry."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL records.anonymising = 'on'")
    blanked = Entry.objects.filter(difference=difference).update(**ENTRY_BLANKED)
    if connection.vendor == "postgresql":
        # Off again at once: the rest of this transaction cannot change an entry either. (If
        # the UPDATE failed, the whole transaction rolls back and the setting with it.)
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL records.anonymising = 'off'")
    return blanked


@transaction.atomic
def difference_anonymise(
    *, actor: Any, difference_id: int, now: datetime | None = None
) -> ProfessionalDifference:
    """Anonymise a case the retention scan listed, on a partnership administrator's explicit
    confirmation: identifying fields replaced, free text removed, the report's facts kept."""
    now = now or timezone.now()
    difference = _locked_administered(actor, difference_id)
    if difference.anonymised_at is not None:
        raise DifferenceRefused(ALREADY_ANONYMISED)
    if difference.legal_hold:
        raise DifferenceRefused(ON_LEGAL_HOLD)
    past = _past_retention(difference.partnership, now).filter(pk=difference.pk)
    if difference.anonymisation_due_at is None or not past.exists():
        raise DifferenceRefused(NOT_DUE)

    Child.objects.filter(difference=difference).update(
        name=ANONYMISED_CHILD, date_of_birth=None, address="", school="", lead_professional=""
    )
    NamedProfessional.objects.filter(difference=difference).update(
        name=ANONYMISED_PROFESSIONAL, role="", user=None
    )
    Action.objects.filter(difference=difference).update(description="", owner="")
    StageEntry.objects.filter(difference=difference).update(pause_reason="", shortened_reason="")
    Notification.objects.filter(difference=difference).update(
        subject=f"Notice about {difference.reference}", body="", email_last_error=""
    )
    AuditEvent.objects.filter(difference=difference).update(detail="")
    entries = _blank_chronology(difference)
    # The stored PDF of the record holds everything just removed (ADR 0010).
    RecordRender.objects.filter(difference=difference).delete()

    difference.raiser_name = ANONYMISED_PERSON
    difference.urgent_manager = None
    difference.issue = ""
    difference.escalated_to = ""
    difference.learning = ""
    difference.additional_comments = ""
    difference.protocol_amendment_note = ""
    difference.legal_hold_reason = ""
    difference.anonymised_at = now
    difference.anonymised_by = actor
    difference.save(
        update_fields=[
            "raiser_name",
            "urgent_manager",
            "issue",
            "escalated_to",
            "learning",
            "additional_comments",
            "protocol_amendment_note",
            "legal_hold_reason",
            "anonymised_at",
            "anonymised_by",
            "updated_at",
        ]
    )
    AuditEvent.objects.create(
        difference=difference,
        actor=actor,
        action="case_anonymised",
        detail=f"{difference.reference} anonymised after the retention period "
        f"({entries} chronology entries blanked).",
    )
    return difference
