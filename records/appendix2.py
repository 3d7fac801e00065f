"""The Appendix 2 Resolving Professional Differences Record, as data (spec §6).

``record_for(difference)`` reads a case in a fixed number of queries and returns a plain,
immutable ``Appendix2Record``: the 18 fields of the form in order, with their labels, then the
chronology. ``blank_record()`` is the same form with nothing filled in. Nothing here renders:
``records.pdf`` turns a record into a PDF through ``templates/records/appendix2.html``.

How each field is filled from the case:

1–3   The raiser's name, role and agency as at the time of raising (the case's snapshot).
4–8   One block per child, in the order they were entered.
9     The context (Appendix 2's "what was this issue about") and the category.
10    "Names of people these issues were reported to" — everyone the difference was taken to,
      in the order they first appear, each once (compared without case or extra spaces):
        a. the named professionals of the other agencies (name, role, agency);
        b. the manager or lead named when the urgent track was taken;
        c. the people who took the case on after the raiser: the authors of stage changes,
           outcomes and recorded entries other than the raiser (name, role, agency as at the
           time) — line managers who escalated, the final-referral body's decision-maker, a
           named professional recording a discussion;
        d. the participants of every recorded discussion, meeting, call, correspondence and
           reflective practice meeting, as written, one per line or per ";" (a comma usually
           separates a name from a role, so it does not split).
      A person already listed is not listed again: a participant counts as already listed
      when the part before their first comma or bracket is a name already there ("Dana Reed,
      DS" after the named professional Dana Reed). The raiser is left out wherever they
      appear; the system never counts.
11    The issue, in the raiser's words.
12    Yes / No / Partial from the outcome: resolved → Yes, not resolved → No, partially
      resolved → Partial. A withdrawn case and a case still being worked on mark none, with a
      note saying why. The outcome summary recorded with it follows.
13    Each escalation taken (from the stage-change entries: where to, when, by whom), then
      anything recorded as "escalated to" in the escalating person's own words.
14    The actions agreed, each with its owner and timescale.
15    The learning recorded at the learning review, and whether the protocol needs amending.
16    The case's additional comments, and a note when the urgent track was taken.
17–18 Left blank, to sign and date by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.utils.formats import date_format

from escalations.states import OPEN_STATES, Status
from records.models import RECORDED_KINDS, Entry, EntryKind
from records.services import SYSTEM_NAME

if TYPE_CHECKING:
    from agencies.models import Partnership
    from escalations.models import Child, ProfessionalDifference, StageEntry

LONDON = ZoneInfo("Europe/London")

# The form's labels, in order (spec §6). Items 4–8 repeat for each child.
LABELS: dict[int, str] = {
    1: "Name of person raising professional difference",
    2: "Role of person raising professional difference",
    3: "Agency of person raising professional difference",
    4: "Child/young person's name",
    5: "Child/young person's date of birth",
    6: "Child/young person's address",
    7: "Child/young person's early years placement/school",
    8: "Name of lead professional",
    9: (
        "What was this issue about? (e.g. a child protection referral, undertaking a CAF, "
        "an issue with an open case)"
    ),
    10: "Names of people these issues were reported to",
    11: "Issues",
    12: "Resolved / not resolved: Yes / No / Partial",
    13: "If no or partial, to whom has this been escalated",
    14: "What actions have been taken as a result? (with timescales)",
    15: "Is there any learning from this dispute?",
    16: "Additional comments",
    17: "Signature",
    18: "Date",
}
CHILD_ITEMS = (4, 5, 6, 7, 8)

# Item 12's choices, and the outcome each stands for.
CHOICES = ("Yes", "No", "Partial")
_CHOICE_OF_OUTCOME = {
    Status.RESOLVED: "Yes",
    Status.NOT_RESOLVED: "No",
    Status.PARTIALLY_RESOLVED: "Partial",
}
_OUTCOMES = (Status.RESOLVED, Status.PARTIALLY_RESOLVED, Status.NOT_RESOLVED, Status.WITHDRAWN)

_ESCALATION_TRANSITIONS = (
    "escalate_to_stage_2",
    "escalate_to_stage_3",
    "escalate_to_stage_4",
    "refer_to_final_body",
)

# -- the record -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One item of the form: its number, label and value.

    ``text`` is free text (newlines kept); ``items`` a list shown one per line; ``note`` a
    remark in the form's own words ("Not recorded yet"). All of it is plain text: the
    template escapes it.
    """

    number: int
    label: str
    text: str = ""
    items: tuple[str, ...] = ()
    note: str = ""

    @property
    def is_empty(self) -> bool:
        return not (self.text or self.items or self.note)


@dataclass(frozen=True)
class ChildBlock:
    """Items 4–8 for one child."""

    position: int
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class Outcome:
    """Item 12: the choice marked (None when none is), a note and the outcome summary."""

    chosen: str | None
    note: str = ""
    summary: str = ""

    @property
    def choices(self) -> tuple[tuple[str, bool], ...]:
        return tuple((choice, choice == self.chosen) for choice in CHOICES)


@dataclass(frozen=True)
class StageRow:
    """One entry into a timed stage, with its clock."""

    stage: str
    track: str
    entered: str
    due: str
    left: str
    status: str
    breached: bool
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class EntryBlock:
    """One chronology entry as the record shows it."""

    number: int
    pk: int
    heading: str
    when: str
    by: str
    recorded: str
    method: str
    participants: str
    reason_label: str
    reason: str
    facts: str
    opinion_label: str
    opinion: str
    outcome_label: str
    outcome: str
    is_correction: bool
    corrects_number: int | None
    corrects_heading: str
    corrected_by: tuple[int, ...]


@dataclass(frozen=True)
class Appendix2Record:
    """The whole record: the form's 18 items, then the chronology."""

    partnership_name: str
    protocol_title: str
    protocol_version: str
    reference: str = ""
    status: str = ""
    raised_at: str = ""
    other_agencies: tuple[str, ...] = ()
    category: str = ""
    raiser_fields: tuple[Field, ...] = ()
    children: tuple[ChildBlock, ...] = ()
    case_fields: tuple[Field, ...] = ()
    outcome: Outcome = field(default_factory=lambda: Outcome(None))
    after_outcome_fields: tuple[Field, ...] = ()
    stages: tuple[StageRow, ...] = ()
    entries: tuple[EntryBlock, ...] = ()
    is_blank: bool = False

    @property
    def outcome_label(self) -> str:
        return LABELS[12]

    @property
    def sign_fields(self) -> tuple[Field, ...]:
        return (Field(17, LABELS[17]), Field(18, LABELS[18]))

    def fields_in_order(self) -> list[Field]:
        """Items 1–18 in form order (4–8 once per child; item 12 as its label only)."""
        ordered = list(self.raiser_fields)
        for child in self.children:
            ordered.extend(child.fields)
        ordered.extend(self.case_fields)
        ordered.append(Field(12, LABELS[12], text=self.outcome.chosen or ""))
        ordered.extend(self.after_outcome_fields)
        ordered.extend(self.sign_fields)
        return ordered


# -- formatting -----------------------------------------------------------------------------


def _day(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(LONDON)
    return date_format(value, "j F Y")


def _moment(value: datetime | None) -> str:
    if value is None:
        return ""
    local = value.astimezone(LONDON)
    return f"{date_format(local, 'j F Y')} at {local:%H:%M}"


def _person(name: str, role: str = "", agency: str = "") -> str:
    return ", ".join(part.strip() for part in (name, role, agency) if part and part.strip())


def _by(entry: Entry) -> str:
    if entry.author_id is None:
        return "the system" if entry.author_name == SYSTEM_NAME else entry.author_name
    return _person(entry.author_name, entry.author_role, entry.author_agency_name)


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


class _People:
    """An ordered set of people's names, compared without case or extra spaces."""

    def __init__(self, leave_out: str) -> None:
        self._seen = {_key(leave_out)} if leave_out.strip() else set()
        self.names: list[str] = []

    def add(self, text: str, *, name_key: str | None = None) -> None:
        text = " ".join(text.split())
        if not text:
            return
        keys = {_key(text)} | ({_key(name_key)} if name_key else set())
        if keys & self._seen:
            return
        self._seen |= keys
        self.names.append(text)


def _leading_name(text: str) -> str:
    """'Dana Reed, Detective Sergeant (police)' → 'Dana Reed'."""
    return text.split(",")[0].split("(")[0].strip()


def _split_participants(text: str) -> list[str]:
    parts: list[str] = []
    for line in text.replace(";", "\n").splitlines():
        if line.strip():
            parts.append(line.strip())
    return parts


# -- building -------------------------------------------------------------------------------


def _outcome_entry(entries: list[Entry]) -> Entry | None:
    found = None
    for entry in entries:
        if entry.kind == EntryKind.TRANSITION and entry.to_status in _OUTCOMES:
            found = entry
    return found


def _outcome(difference: ProfessionalDifference, entries: list[Entry]) -> Outcome:
    recorded = _outcome_entry(entries)
    still_open = difference.status in OPEN_STATES and difference.status != (
        Status.PARTIALLY_RESOLVED
    )
    if still_open or recorded is None:
        where = Status(difference.status).label
        note = f"Not resolved yet: the case is open ({where})."
        if recorded is not None and recorded.to_status == Status.PARTIALLY_RESOLVED:
            note += (
                f" A partial outcome was recorded on {_day(recorded.occurred_at)} and the "
                "case was escalated further."
            )
        return Outcome(None, note=note)
    summary = recorded.outcome or ""
    if recorded.to_status == Status.WITHDRAWN:
        return Outcome(
            None,
            note=f"Withdrawn on {_day(recorded.occurred_at)} at clarification: no practice "
            "issue remains, so no outcome is marked.",
            summary=recorded.reason,
        )
    chosen = _CHOICE_OF_OUTCOME[Status(recorded.to_status)]
    note = f"{Status(recorded.to_status).label} on {_day(recorded.occurred_at)}, recorded by "
    note += f"{_by(recorded)}."
    return Outcome(chosen, note=note, summary=summary)


def _reported_to(
    difference: ProfessionalDifference,
    named: list[tuple[str, str, str]],
    urgent_manager: str,
    entries: list[Entry],
) -> tuple[str, ...]:
    """Item 10 (the rule is in the module docstring)."""
    people = _People(leave_out=difference.raiser_name)
    for name, role, agency in named:
        people.add(_person(name, role, agency), name_key=name)
    if urgent_manager:
        people.add(urgent_manager)
    for entry in entries:
        if entry.author_id is None or entry.author_id == difference.raised_by_id:
            continue
        if entry.kind in RECORDED_KINDS or entry.kind == EntryKind.TRANSITION:
            people.add(
                _person(entry.author_name, entry.author_role, entry.author_agency_name),
                name_key=entry.author_name,
            )
    for entry in entries:
        if entry.kind in RECORDED_KINDS and entry.participants:
            for participant in _split_participants(entry.participants):
                people.add(participant, name_key=_leading_name(participant))
    return tuple(people.names)


def _escalations(difference: ProfessionalDifference, entries: list[Entry]) -> tuple[str, ...]:
    """Item 13: every escalation taken, then any "escalated to" in the person's words."""
    items = []
    for entry in entries:
        if entry.kind != EntryKind.TRANSITION or entry.transition not in _ESCALATION_TRANSITIONS:
            continue
        if entry.transition == "refer_to_final_body":
            where = f"Final referral to the {difference.partnership.final_referral_body_name}"
        else:
            where = Status(entry.to_status).label
        items.append(f"{where}, on {_day(entry.occurred_at)}, by {_by(entry)}")
    default_labels = {_key(label) for label in Status.labels}
    for line in difference.escalated_to.splitlines():
        if line.strip() and _key(line) not in default_labels:
            items.append(f"Escalated to (as recorded): {line.strip()}")
    return tuple(items)


def _stage_rows(stage_entries: list[StageEntry]) -> tuple[StageRow, ...]:
    rows = []
    for clock in stage_entries:
        if clock.breached_at is not None:
            state = f"Breached: overdue since {_moment(clock.due_at)}"
        elif clock.is_overdue:
            state = "Overdue"
        elif clock.left_at is not None:
            state = "Within the timeframe"
        elif clock.paused_at is not None:
            state = "Running, clock paused"
        else:
            state = "Running"
        notes = []
        if clock.pause_reason:
            notes.append(f"Paused: {clock.pause_reason}")
        if clock.shortened_reason:
            notes.append(f"Due date brought forward: {clock.shortened_reason}")
        if clock.breached_at is not None:
            notes.append(f"Breach flagged {_moment(clock.breached_at)}")
        rows.append(
            StageRow(
                stage=Status(clock.stage).label,
                track=clock.get_track_display(),
                entered=_moment(clock.entered_at),
                due=_moment(clock.due_at),
                left=_moment(clock.left_at),
                status=state,
                breached=clock.breached_at is not None or clock.is_overdue,
                notes=tuple(notes),
            )
        )
    return tuple(rows)


def _entry_blocks(
    difference: ProfessionalDifference, entries: list[Entry]
) -> tuple[EntryBlock, ...]:
    """Every entry, numbered in date order, worded as the case page's timeline words it."""
    from escalations.views.cases import timeline

    numbers = {entry.pk: number for number, entry in enumerate(entries, start=1)}
    items = timeline(difference, entries)
    headings = {item.entry.pk: item.heading for item in items}
    corrected_by: dict[int, list[int]] = {}
    for entry in entries:
        if entry.corrects_id is not None:
            corrected_by.setdefault(entry.corrects_id, []).append(numbers[entry.pk])
    blocks = []
    for item in items:
        entry = item.entry
        corrects = entry.corrects_id
        blocks.append(
            EntryBlock(
                number=numbers[entry.pk],
                pk=entry.pk,
                heading=item.heading,
                when=_moment(entry.occurred_at) if item.show_time else _day(entry.occurred_at),
                by=item.by,
                recorded=_moment(entry.created_at)
                if (item.is_recorded or item.is_correction)
                else "",
                method=entry.method,
                participants=entry.participants,
                reason_label=item.reason_label,
                reason=entry.reason,
                facts=entry.facts,
                opinion_label=item.opinion_label,
                opinion=entry.opinion,
                outcome_label="Outcome agreed"
                if (item.is_recorded or item.is_correction)
                else "Outcome",
                outcome=entry.outcome,
                is_correction=item.is_correction,
                corrects_number=numbers.get(corrects) if corrects else None,
                corrects_heading=headings.get(corrects, "") if corrects else "",
                corrected_by=tuple(corrected_by.get(entry.pk, ())),
            )
        )
    return tuple(blocks)


def _child_block(position: int, child: Child | None) -> ChildBlock:
    if child is None:
        return ChildBlock(position, tuple(Field(n, LABELS[n]) for n in CHILD_ITEMS))
    values = {
        4: child.name,
        5: _day(child.date_of_birth),
        6: child.address,
        7: child.school,
        8: child.lead_professional,
    }
    return ChildBlock(
        position,
        tuple(
            Field(n, LABELS[n], text=values[n], note="" if values[n] else "Not known")
            for n in CHILD_ITEMS
        ),
    )


def record_for(difference: ProfessionalDifference) -> Appendix2Record:
    """The Appendix 2 record of a case (about eight queries, whatever its length).

    ``difference`` must already have been fetched for the person through
    ``escalations.selectors.difference_get_for``.
    """
    from escalations.models import StageEntry

    partnership = difference.partnership
    children = list(difference.children.all())
    named = [
        (person.name, person.role, person.agency.name)
        for person in difference.named_professionals.select_related("agency")
    ]
    others = [
        party.agency.name
        for party in difference.parties.select_related("agency")
        if not party.is_raising
    ]
    actions = list(difference.actions.all())
    stage_entries = list(
        StageEntry.objects.filter(difference=difference).order_by("entered_at", "pk")
    )
    entries = list(
        Entry.objects.filter(difference=difference).order_by("occurred_at", "created_at", "pk")
    )
    urgent_manager = ""
    if difference.is_urgent and difference.urgent_manager_id is not None:
        manager = difference.urgent_manager
        if manager is not None:
            urgent_manager = (manager.get_full_name() or manager.get_username()).strip()

    context_text = difference.get_context_display()
    reported_to = _reported_to(difference, named, urgent_manager, entries)
    escalations = _escalations(difference, entries)
    action_items = tuple(
        f"{action.description} — owner: {action.owner}; timescale: "
        + (f"by {_day(action.due_date)}" if action.due_date else "none given")
        for action in actions
    )
    learning_items: tuple[str, ...] = ()
    if difference.protocol_amendment_recommended is not None:
        learning_items = (
            "Protocol amendment recommended: "
            + (
                f"yes: {difference.protocol_amendment_note}"
                if difference.protocol_amendment_recommended
                else "no"
            ),
        )
    comments: list[str] = []
    if difference.is_urgent:
        comments.append(
            "Raised on the urgent track: the child's immediate welfare was a cause for concern"
            + (f" (agreed with {urgent_manager})." if urgent_manager else ".")
        )

    return Appendix2Record(
        partnership_name=partnership.name,
        protocol_title=partnership.protocol_title,
        protocol_version=partnership.protocol_version,
        reference=difference.reference or "",
        status=Status(difference.status).label,
        raised_at=_moment(difference.raised_at),
        other_agencies=tuple(others),
        category=str(difference.category),
        raiser_fields=(
            Field(1, LABELS[1], text=difference.raiser_name),
            Field(2, LABELS[2], text=difference.raiser_role),
            Field(3, LABELS[3], text=difference.raiser_agency_name),
        ),
        children=tuple(_child_block(n, child) for n, child in enumerate(children, start=1)),
        case_fields=(
            Field(9, LABELS[9], text=context_text, items=(f"Category: {difference.category}",)),
            Field(
                10,
                LABELS[10],
                items=reported_to,
                note="" if reported_to else "Nobody recorded yet",
            ),
            Field(11, LABELS[11], text=difference.issue),
        ),
        outcome=_outcome(difference, entries),
        after_outcome_fields=(
            Field(13, LABELS[13], items=escalations, note="" if escalations else "Not escalated"),
            Field(14, LABELS[14], items=action_items, note="" if action_items else "None recorded"),
            Field(
                15,
                LABELS[15],
                text=difference.learning,
                items=learning_items,
                note="" if difference.learning else "Not recorded yet (at the learning review)",
            ),
            Field(
                16,
                LABELS[16],
                text=difference.additional_comments,
                items=tuple(comments),
                note="" if (difference.additional_comments or comments) else "None",
            ),
        ),
        stages=_stage_rows(stage_entries),
        entries=_entry_blocks(difference, entries),
    )


def blank_record(partnership: Partnership | None) -> Appendix2Record:
    """The form with nothing filled in, for partners who still need paper."""
    from agencies.models import Partnership as PartnershipModel

    title_field = PartnershipModel._meta.get_field("protocol_title")
    return Appendix2Record(
        partnership_name=partnership.name if partnership else "Safeguarding Children Partnership",
        protocol_title=partnership.protocol_title
        if partnership
        else str(title_field.get_default()),
        protocol_version=partnership.protocol_version if partnership else "",
        raiser_fields=tuple(Field(n, LABELS[n]) for n in (1, 2, 3)),
        children=(_child_block(1, None),),
        case_fields=tuple(Field(n, LABELS[n]) for n in (9, 10, 11)),
        after_outcome_fields=tuple(Field(n, LABELS[n]) for n in (13, 14, 15, 16)),
        is_blank=True,
    )
