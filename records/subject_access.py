"""Subject access: everything held about one named child, for a partnership administrator.

ADR 0006. The child is found by name (and date of birth) within the partnerships the person
administers. "The same child" across cases is the same name (ignoring case) and the same date
of birth, as on the child's chronology page; without a date of birth only the one record
chosen is the child. Other children on a shared case are redacted: the export says another
child is on the case and withholds their name, date of birth, address, school and lead
professional, and their full and given names are replaced in the free text of every exported case by
"[another child]". Free text may still mention other people in words no rule can find: the
export is for the data protection officer to review before release (ADR 0006).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Prefetch, Q
from django.http import Http404

from agencies.selectors import partnerships_administered_by
from escalations.models import Child, Party, ProfessionalDifference
from records.models import Entry

SEARCH_LIMIT = 50
OTHER_CHILD = "[another child]"


def children_matching(user: Any, *, name: str, date_of_birth: date | None) -> list[Child]:
    """Child records in the partnerships ``user`` administers whose name contains ``name``
    (and, when given, born on ``date_of_birth``); at most SEARCH_LIMIT + 1."""
    ids = partnerships_administered_by(user)
    if not ids:
        return []
    found = Child.objects.filter(
        difference__partnership_id__in=ids, name__icontains=" ".join(name.split())
    )
    if date_of_birth is not None:
        found = found.filter(date_of_birth=date_of_birth)
    return list(
        found.select_related("difference").order_by("name", "date_of_birth", "pk")[
            : SEARCH_LIMIT + 1
        ]
    )


def child_administered_get(user: Any, child_pk: int) -> Child:
    """The child record ``child_pk`` if ``user`` administers its case's partnership; 404."""
    child = (
        Child.objects.filter(
            pk=child_pk, difference__partnership_id__in=partnerships_administered_by(user)
        )
        .select_related("difference__partnership")
        .first()
    )
    if child is None:
        raise Http404("No such child.")
    return child


def records_of_same_child(child: Child) -> list[Child]:
    """Every record of this child in the same partnership: same name (any case) and date of
    birth; only this record when no date of birth is known."""
    if child.date_of_birth is None:
        return [child]
    return list(
        Child.objects.filter(
            difference__partnership_id=child.difference.partnership_id,
            name__iexact=child.name,
            date_of_birth=child.date_of_birth,
        ).order_by("difference__raised_at", "pk")
    )


@dataclass(frozen=True)
class Redactor:
    """Replaces other children's names in free text."""

    pattern: re.Pattern[str] | None

    @classmethod
    def for_children(cls, others: list[Child], subject_names: set[str]) -> Redactor:
        words: set[str] = set()
        for other in others:
            full = " ".join(other.name.split())
            if full and full.lower() not in subject_names:
                words.add(full)
                given = full.split()[0]
                subject_words = {w for name in subject_names for w in name.split()}
                if len(given) > 1 and given.lower() not in subject_words:
                    words.add(given)
        if not words:
            return cls(None)
        alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
        return cls(re.compile(rf"\b(?:{alternatives})\b", re.IGNORECASE))

    def __call__(self, text: str) -> str:
        return self.pattern.sub(OTHER_CHILD, text) if self.pattern and text else text


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _child_data(child: Child) -> dict[str, Any]:
    return {
        "id": child.pk,
        "name": child.name,
        "date_of_birth": _iso(child.date_of_birth),
        "address": child.address,
        "early_years_placement_or_school": child.school,
        "lead_professional": child.lead_professional,
    }


def _entry_data(entry: Entry, redact: Redactor) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "kind": entry.get_kind_display(),
        "state": entry.get_status_display(),
        "occurred_at": _iso(entry.occurred_at),
        "recorded_at": _iso(entry.created_at),
        "recorded_by": entry.author_name,
        "recorded_by_role": entry.author_role,
        "recorded_by_agency": entry.author_agency_name,
        "transition": entry.transition,
        "from_state": entry.from_status,
        "to_state": entry.to_status,
        "method": redact(entry.method),
        "participants": redact(entry.participants),
        "facts": redact(entry.facts),
        "professional_opinion": redact(entry.opinion),
        "outcome_agreed": redact(entry.outcome),
        "reason": redact(entry.reason),
        "corrects_entry": entry.corrects_id,
    }


def _case_data(
    case: ProfessionalDifference, subject_ids: set[int], redact: Redactor
) -> dict[str, Any]:
    children = list(case.children.all())
    subject = [c for c in children if c.pk in subject_ids]
    others = [c for c in children if c.pk not in subject_ids]
    outcome = getattr(case, "report_outcome", None)
    return {
        "reference": case.reference,
        "partnership": case.partnership.name,
        "state": case.get_status_display(),
        "stage": case.get_stage_display(),
        "highest_stage": case.get_highest_stage_display(),
        "raised_at": _iso(case.raised_at),
        "outcome_at": _iso(case.outcome_at),
        "closed_at": _iso(case.closed_at),
        "anonymised_at": _iso(case.anonymised_at),
        "raised_by": {
            "name": case.raiser_name,
            "role": case.raiser_role,
            "agency": case.raiser_agency_name,
        },
        "category": case.category.name,
        "context": case.get_context_display(),
        "urgent_track": case.is_urgent,
        "issue": redact(case.issue),
        "child_records": [_child_data(c) for c in subject],
        "other_children_on_case": len(others),
        "other_children_note": (
            "Other children on this case are withheld (third-party data)." if others else ""
        ),
        "agencies": [{"name": p.agency.name, "raising": p.is_raising} for p in case.parties.all()],
        "named_professionals": [
            {"name": n.name, "role": n.role, "agency": n.agency.name}
            for n in case.named_professionals.all()
        ],
        "outcome": outcome.get_outcome_display() if outcome is not None else None,
        "escalated_to": redact(case.escalated_to),
        "actions": [
            {
                "description": redact(a.description),
                "owner": a.owner,
                "due_date": _iso(a.due_date),
                "recorded_at": _iso(a.recorded_at),
            }
            for a in case.actions.all()
        ],
        "learning": redact(case.learning),
        "additional_comments": redact(case.additional_comments),
        "stages": [
            {
                "stage": s.get_stage_display(),
                "track": s.get_track_display(),
                "entered_at": _iso(s.entered_at),
                "due_at": _iso(s.due_at),
                "left_at": _iso(s.left_at),
                "breached_at": _iso(s.breached_at),
                "pause_reason": redact(s.pause_reason),
            }
            for s in case.stage_entries.all()
        ],
        "chronology": [_entry_data(e, redact) for e in case.entries.all()],
        "notifications": [
            {
                "kind": n.get_kind_display(),
                "subject": n.subject,
                "recipient": n.recipient.get_username(),
                "created_at": _iso(n.created_at),
                "emailed_at": _iso(n.email_sent_at),
            }
            for n in case.notifications.all()
        ],
    }


def subject_access_export(
    child: Child, *, generated_by: str, generated_at: datetime
) -> dict[str, Any]:
    """Everything held about ``child`` (every record of the same child in the partnership),
    as plain data for the JSON and PDF exports."""
    records = records_of_same_child(child)
    subject_ids = {c.pk for c in records}
    cases = (
        ProfessionalDifference.objects.filter(Q(pk__in={c.difference_id for c in records}))
        .select_related("partnership", "category", "report_outcome")
        .prefetch_related(
            "children",
            Prefetch("parties", queryset=Party.objects.select_related("agency")),
            "named_professionals__agency",
            "actions",
            "stage_entries",
            Prefetch("entries", queryset=Entry.objects.order_by("occurred_at", "created_at", "pk")),
            "notifications__recipient",
        )
        .order_by("raised_at", "pk")
    )
    cases = list(cases)
    # Any other child on any of these cases is redacted from every case's free text (a
    # sibling is often named on a case they are not a child of).
    others = [c for case in cases for c in case.children.all() if c.pk not in subject_ids]
    redact = Redactor.for_children(others, {" ".join(c.name.lower().split()) for c in records})
    return {
        "subject_access_export": {
            "child": {"name": child.name, "date_of_birth": _iso(child.date_of_birth)},
            "partnership": child.difference.partnership.name,
            "generated_at": _iso(generated_at),
            "generated_by": generated_by,
            "marking": "OFFICIAL-SENSITIVE",
        },
        "cases": [_case_data(case, subject_ids, redact) for case in cases],
    }
