"""Case pages: the list, the case itself with its timeline, and an entry's copy text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.formats import date_format

from agencies.models import AgencyRole, PartnershipRole
from escalations import offers
from escalations.models import Child, ProfessionalDifference
from escalations.presenters import clock_for
from escalations.selectors import (
    case_page_facts,
    difference_get_for,
    differences_visible_to,
)
from escalations.states import STAGE_RANK, Status
from records.models import RECORDED_KINDS, Entry, EntryKind
from records.services import SYSTEM_NAME, audit_record
from ui import dates
from ui.links import object_url

# -- the timeline ---------------------------------------------------------------------------

# What each transition reads as in the timeline ("Escalated to Stage 3 by …").
_TRANSITION_WORDS: dict[str, str] = {
    "raise": "Raised",
    "open_urgent_track": "Opened on the urgent track at Stage 2",
    "start_clarification": "Moved to clarification",
    "begin_stage_1": "Clarification recorded and moved to Stage 1",
    "withdraw": "Withdrawn",
    "escalate_to_stage_2": "Escalated to Stage 2",
    "escalate_to_stage_3": "Escalated to Stage 3",
    "escalate_to_stage_4": "Escalated to Stage 4",
    "resolve": "Recorded as resolved",
    "resolve_partially": "Recorded as partially resolved",
    "record_not_resolved": "Recorded as not resolved",
    "begin_learning_review": "Moved to learning review",
    "accept_partial_outcome": "Partial outcome accepted and moved to learning review",
    "end_partial_final_referral": "Moved to learning review",
    "close": "Closed after learning review",
    "pause_clock": "Stage clock paused",
    "resume_clock": "Stage clock resumed",
    "shorten_clock": "Due date brought forward",
}

# What the reason of each transition is (its label on the timeline).
_REASON_LABELS: dict[str, str] = {
    "raise": "Note",
    "open_urgent_track": "Note",
    "begin_stage_1": "Clarification done",
    "withdraw": "Why no practice issue remains",
    "escalate_to_stage_2": "Why Stage 1 did not resolve it",
    "escalate_to_stage_3": "Why Stage 2 did not resolve it",
    "escalate_to_stage_4": "Why Stage 3 did not resolve it",
    "refer_to_final_body": "Referral summary",
    "accept_partial_outcome": "Why the partial outcome was accepted",
    "close": "Learning",
}

_OPINION_LABELS: dict[str, str] = {
    "escalate_to_stage_3": "Management oversight note",
}


_AGENCY_ROLES: dict[str, str] = dict(AgencyRole.choices)
_PARTNERSHIP_ROLES: dict[str, str] = dict(PartnershipRole.choices)


@dataclass(frozen=True)
class TimelineItem:
    """One chronology entry as the timeline shows it."""

    entry: Entry
    corrects: Entry | None
    heading: str
    by: str
    reason_label: str
    opinion_label: str
    is_recorded: bool
    is_correction: bool
    corrected: bool
    show_time: bool
    # Written out once here rather than by the template's date filter and url tag (each
    # costs tens of microseconds, and a timeline shows several a row).
    when_iso: str = ""
    when: str = ""  # "Wednesday 4 March 2026 at 14:05", or without the time
    on_date: str = ""  # "4 March 2026"
    recorded: str = ""  # when it was recorded: "5 March 2026 at 09:10"
    corrects_on: str = ""  # the date of the entry this one corrects
    copy_url: str = ""
    correct_url: str = ""


def _by(entry: Entry) -> str:
    """'Alex Carter, Line manager, A social care' as at the time (or 'the system')."""
    if entry.author_id is None:
        return "the system" if entry.author_name == SYSTEM_NAME else entry.author_name
    parts = (entry.author_name, entry.author_role, entry.author_agency_name)
    return ", ".join(part for part in parts if part)


def _heading(entry: Entry, difference: ProfessionalDifference) -> str:
    if entry.kind in (EntryKind.TRANSITION, EntryKind.CLOCK):
        if entry.transition == "refer_to_final_body":
            return f"Referred to the {difference.partnership.final_referral_body_name}"
        return _TRANSITION_WORDS.get(entry.transition, entry.get_kind_display())
    return entry.get_kind_display()


def timeline(difference: ProfessionalDifference, entries: list[Entry]) -> list[TimelineItem]:
    """Every entry of the case in date order, ready to show."""
    corrected_ids = {entry.corrects_id for entry in entries if entry.corrects_id is not None}
    by_id = {entry.pk: entry for entry in entries}
    items = []
    for entry in entries:
        local = timezone.localtime(entry.occurred_at)
        is_recorded = entry.kind in RECORDED_KINDS
        is_correction = entry.kind == EntryKind.CORRECTION
        # A recorded entry given a date but no time is kept at midnight.
        show_time = not is_recorded or (local.hour, local.minute, local.second) != (0, 0, 0)
        corrects = by_id.get(entry.corrects_id) if entry.corrects_id else None
        items.append(
            TimelineItem(
                entry=entry,
                corrects=corrects,
                heading=_heading(entry, difference),
                by=_by(entry),
                reason_label=_REASON_LABELS.get(
                    entry.transition,
                    "What was wrong" if is_correction else "Reason",
                ),
                opinion_label=_OPINION_LABELS.get(entry.transition, "Professional opinion"),
                is_recorded=is_recorded,
                is_correction=is_correction,
                corrected=entry.pk in corrected_ids,
                show_time=show_time,
                when_iso=dates.iso(local),
                when=dates.day_date_time(local) if show_time else dates.day_date(local),
                on_date=dates.long_date(local),
                recorded=dates.date_time(entry.created_at),
                corrects_on=dates.long_date(corrects.occurred_at) if corrects else "",
                copy_url=object_url("case_entry_copy", difference.pk, entry.pk),
                correct_url=object_url("case_correct_entry", difference.pk, entry.pk),
            )
        )
    return items


# -- the case page --------------------------------------------------------------------------


def _outcome_entry(entries: list[Entry]) -> Entry | None:
    """The latest entry recording an outcome (its ``outcome`` holds the summary; a
    withdrawal's ``reason`` says why)."""
    outcomes = (Status.RESOLVED, Status.PARTIALLY_RESOLVED, Status.NOT_RESOLVED, Status.WITHDRAWN)
    found = None
    for entry in entries:
        if entry.kind == EntryKind.TRANSITION and entry.to_status in outcomes:
            found = entry
    return found


@login_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The case: its record, what this person may do now, and its timeline."""
    difference = difference_get_for(request.user, pk)
    facts = case_page_facts(difference)
    # The rules ask for the party agencies again and again: give them what was just read.
    difference.__dict__["_party_agency_ids"] = frozenset(party.agency_id for party in facts.parties)
    # Only the linked cases this person may also see (both directions of the link).
    linked = (
        list(
            differences_visible_to(request.user)
            .filter(pk__in=facts.linked_ids)
            .order_by("raised_at", "pk")
            .only("pk", "reference", "status")
        )
        if facts.linked_ids
        else []
    )
    entries = facts.entries
    running = facts.running
    outcome_entry = _outcome_entry(entries)
    context: dict[str, Any] = {
        "difference": difference,
        "children": facts.children,
        "other_parties": [party for party in facts.parties if not party.is_raising],
        "named_professionals": facts.named_professionals,
        "actions": facts.actions,
        "linked_cases": linked,
        "running": running,
        "clock": clock_for(running, facts.calendar) if running else None,
        "stage_number": STAGE_RANK.get(difference.status, 0) - 1,
        "urgent_manager_name": _urgent_manager_name(difference),
        "outcome_entry": outcome_entry,
        "offers": offers.offers_for(difference, request.user, running=running),
        "timeline": timeline(difference, entries),
    }
    return render(request, "escalations/case_detail.html", context)


def _urgent_manager_name(difference: ProfessionalDifference) -> str:
    if not difference.is_urgent or difference.urgent_manager_id is None:
        return ""
    manager = difference.urgent_manager
    return (manager.get_full_name() or manager.get_username()) if manager else ""


# -- copy for the agency's own record -------------------------------------------------------


def _when(moment: Any, *, with_time: bool = True) -> str:
    local = timezone.localtime(moment)
    day = date_format(local, "j F Y")
    return f"{day} at {local:%H:%M}" if with_time else day


def _child_line(child: Child) -> str:
    parts = [child.name]
    if child.date_of_birth:
        parts.append(f"born {date_format(child.date_of_birth, 'j F Y')}")
    return ", ".join(parts)


def copy_text(
    difference: ProfessionalDifference,
    item: TimelineItem,
    children: list[Child],
    corrects: Entry | None,
) -> str:
    """A plain-text summary of one entry to paste into the agency's own case record."""
    entry = item.entry
    lines = [
        "OFFICIAL-SENSITIVE",
        f"Professional difference {difference.reference} ({difference.partnership.name})",
        f"Children: {'; '.join(_child_line(child) for child in children)}",
        "",
        f"{item.heading} on {_when(entry.occurred_at, with_time=item.show_time)}",
    ]
    if corrects is not None:
        lines.append(
            f"Corrects: {corrects.get_kind_display()} on "
            f"{_when(corrects.occurred_at)} recorded by {corrects.author_name}"
        )
    if entry.method:
        lines.append(f"Method: {entry.method}")
    if entry.participants:
        lines.append(f"Participants: {entry.participants}")
    lines.append(f"Recorded by: {item.by}, on {_when(entry.created_at)}")
    for label, text in (
        (item.reason_label, entry.reason),
        ("Facts", entry.facts),
        (item.opinion_label, entry.opinion),
        ("Outcome agreed", entry.outcome),
    ):
        if text:
            lines.extend(["", f"{label}:", text])
    return "\n".join(lines) + "\n"


@login_required
def case_entry_copy(request: HttpRequest, pk: int, entry_pk: int) -> HttpResponse:
    """One entry as plain text for the person's agency's own case record system."""
    difference = difference_get_for(request.user, pk)
    entry = get_object_or_404(Entry.objects.filter(difference=difference), pk=entry_pk)
    corrects = (
        Entry.objects.filter(difference=difference, pk=entry.corrects_id).first()
        if entry.corrects_id
        else None
    )
    item = timeline(difference, [entry])[0]
    children = list(difference.children.all())
    audit_record(
        actor=request.user,
        action="entry_copied",
        difference=difference,
        detail=f"Entry {entry.pk} copied for the agency's own record.",
    )
    context = {
        "difference": difference,
        "item": item,
        "copy_text": copy_text(difference, item, children, corrects),
    }
    return render(request, "escalations/case_action_copy.html", context)


urlpatterns: list[URLPattern] = [
    path("cases/<int:pk>/", case_detail, name="case_detail"),
    path("cases/<int:pk>/entries/<int:entry_pk>/copy/", case_entry_copy, name="case_entry_copy"),
]
