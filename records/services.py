"""Writers of the chronology and the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from agencies.models import Agency, AgencyRole, PartnershipRole
from agencies.selectors import roles_held
from escalations import errors
from escalations.errors import DifferenceRefused
from escalations.selectors import difference_visible_to_user
from escalations.states import Status
from records.models import RECORDED_KINDS, AuditEvent, Entry, EntryKind
from records.prerender import prerender_on_commit

if TYPE_CHECKING:
    from escalations.models import ProfessionalDifference

SYSTEM_NAME = "System"


@dataclass(frozen=True)
class Author:
    """Who wrote an entry, as at the time (a later job change must not rewrite it)."""

    name: str
    role: str = ""
    agency: str = ""


def _author_snapshot(difference: ProfessionalDifference, actor: Any | None) -> Author:
    if actor is None:
        return Author(SYSTEM_NAME)
    name = (actor.get_full_name() or actor.get_username()).strip()
    if difference.raised_by_id == actor.pk:
        return Author(name, difference.raiser_role, difference.raiser_agency_name)
    held = roles_held(actor)
    party_ids = difference.party_agency_ids()
    agency_ids = [agency_id for agency_id in held.by_agency if agency_id in party_ids]
    if agency_ids:
        agency = Agency.objects.filter(pk__in=agency_ids).order_by("name").first()
        if agency is not None:
            roles = held.by_agency[agency.pk]
            labels = [AgencyRole(role).label for role in AgencyRole.values if role in roles]
            return Author(name, ", ".join(labels), agency.name)
    partnership_roles = held.by_partnership.get(difference.partnership_id)
    if partnership_roles:
        labels = [
            PartnershipRole(role).label
            for role in PartnershipRole.values
            if role in partnership_roles
        ]
        return Author(name, ", ".join(labels), difference.partnership.name)
    return Author(name)


def _entry_write(**fields: Any) -> Entry:
    """Write one chronology entry: the only place entries are created. The case's record
    changed, so its PDF is rendered again in the background once the transaction commits
    (ADR 0010)."""
    entry = Entry.objects.create(**fields)
    prerender_on_commit(entry.difference_id)
    return entry


def transition_entry_write(
    *,
    difference: ProfessionalDifference,
    actor: Any | None,
    transition: str,
    from_status: str,
    to_status: str,
    reason: str = "",
    **fields: Any,
) -> Entry:
    """Write the one chronology entry every transition leaves (called inside the service's
    transaction)."""
    author = _author_snapshot(difference, actor)
    return _entry_write(
        difference=difference,
        kind=EntryKind.TRANSITION,
        status=to_status,
        transition=transition,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        author=actor,
        author_name=author.name,
        author_role=author.role,
        author_agency_name=author.agency,
        **fields,
    )


def clock_entry_write(
    *, difference: ProfessionalDifference, actor: Any, what: str, text: str
) -> Entry:
    """Record a change to the stage clock (paused, resumed, brought forward)."""
    author = _author_snapshot(difference, actor)
    return _entry_write(
        difference=difference,
        kind=EntryKind.CLOCK,
        status=difference.status,
        transition=what,
        reason=text,
        author=actor,
        author_name=author.name,
        author_role=author.role,
        author_agency_name=author.agency,
    )


def _locked(difference: ProfessionalDifference) -> ProfessionalDifference:
    """The case re-read under a row lock, so a concurrent close is seen."""
    from escalations.models import ProfessionalDifference

    return (
        ProfessionalDifference.objects.select_for_update()
        .select_related("partnership")
        .get(pk=difference.pk)
    )


def _may_record(difference: ProfessionalDifference, actor: Any) -> bool:
    """Any party may record on a case they can see (the view has already checked they can)."""
    return difference_visible_to_user(actor, difference)


@transaction.atomic
def entry_record(
    *,
    actor: Any,
    difference: ProfessionalDifference,
    kind: str,
    occurred_at: datetime | None = None,
    method: str = "",
    participants: str = "",
    facts: str = "",
    opinion: str = "",
    outcome: str = "",
) -> Entry:
    """Record a discussion, meeting, call, correspondence or reflective practice meeting."""
    if kind not in RECORDED_KINDS:
        raise DifferenceRefused("Choose what kind of record this is.", field="kind")
    difference = _locked(difference)
    if difference.status == Status.CLOSED:
        raise DifferenceRefused(errors.CASE_CLOSED)
    if not _may_record(difference, actor):
        raise DifferenceRefused(errors.NOT_A_PARTY)
    if not (facts.strip() or opinion.strip() or outcome.strip()):
        raise DifferenceRefused(errors.ENTRY_NEEDS_CONTENT, field="facts")
    author = _author_snapshot(difference, actor)
    return _entry_write(
        difference=difference,
        kind=kind,
        status=difference.status,
        occurred_at=occurred_at or timezone.now(),
        method=method.strip(),
        participants=participants.strip(),
        facts=facts.strip(),
        opinion=opinion.strip(),
        outcome=outcome.strip(),
        author=actor,
        author_name=author.name,
        author_role=author.role,
        author_agency_name=author.agency,
    )


@transaction.atomic
def entry_correct(
    *,
    actor: Any,
    difference: ProfessionalDifference,
    corrects: Entry,
    facts: str = "",
    opinion: str = "",
    outcome: str = "",
    reason: str,
) -> Entry:
    """Record a correction: a new entry that refers to the one it corrects."""
    if corrects.difference_id != difference.pk:
        raise DifferenceRefused(errors.CORRECTION_OTHER_CASE)
    difference = _locked(difference)
    if difference.status == Status.CLOSED:
        raise DifferenceRefused(errors.CASE_CLOSED)
    if not _may_record(difference, actor):
        raise DifferenceRefused(errors.NOT_A_PARTY)
    if not reason.strip():
        raise DifferenceRefused(errors.REASON_REQUIRED, field="reason")
    if not (facts.strip() or opinion.strip() or outcome.strip()):
        raise DifferenceRefused(errors.ENTRY_NEEDS_CONTENT, field="facts")
    author = _author_snapshot(difference, actor)
    return _entry_write(
        difference=difference,
        kind=EntryKind.CORRECTION,
        status=difference.status,
        corrects=corrects,
        facts=facts.strip(),
        opinion=opinion.strip(),
        outcome=outcome.strip(),
        reason=reason.strip(),
        author=actor,
        author_name=author.name,
        author_role=author.role,
        author_agency_name=author.agency,
    )


def audit_record(
    *, actor: Any, action: str, difference: ProfessionalDifference | None = None, detail: str = ""
) -> AuditEvent:
    """Write one audit event (e.g. a PDF download)."""
    return AuditEvent.objects.create(
        difference=difference, actor=actor, action=action, detail=detail
    )
