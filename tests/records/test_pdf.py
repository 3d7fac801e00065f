"""The Appendix 2 Resolving Professional Differences Record as a PDF (spec §6).

The PDFs are read back with pypdf: the text must hold the form's 18 labels in order with each
field's value after its label, then the chronology. The labels below are spec §6's, written
out here on purpose (not imported) so the test is an independent oracle.
"""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, date, datetime, timedelta
from io import BytesIO
from typing import Any

import pypdf
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from agencies.models import Partnership
from escalations import services
from escalations.models import ProfessionalDifference, StageEntry
from escalations.services import ActionDetails, ChildDetails, NamedProfessionalDetails
from escalations.states import Context, Status
from records import appendix2, pdf
from records.models import AuditEvent, EntryKind
from records.services import entry_correct, entry_record
from tests.conftest import World
from tests.factories.differences import difference_at, raise_difference
from tests.support.mfa import reauthenticate

pytestmark = pytest.mark.django_db

LABELS = {
    1: "Name of person raising professional difference",
    2: "Role of person raising professional difference",
    3: "Agency of person raising professional difference",
    4: "Child/young person's name",
    5: "Child/young person's date of birth",
    6: "Child/young person's address",
    7: "Child/young person's early years placement/school",
    8: "Name of lead professional",
    9: "What was this issue about? (e.g. a child protection referral, undertaking a CAF, "
    "an issue with an open case)",
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
CHILD_ITEMS = [4, 5, 6, 7, 8]

AMIRA = ChildDetails(
    name="Amira Khan",
    date_of_birth=date(2016, 3, 4),
    address="12 Example Row, Northmoor NM1 2AB",
    school="Riverside Primary School",
    lead_professional="Sam Carter (social worker)",
)
ZAIN = ChildDetails(
    name="Zain Khan",
    date_of_birth=date(2021, 7, 19),
    address="14 Other Street, Northmoor NM1 3CD",
    school="Little Acorns Nursery",
    lead_professional="Priya Shah (health visitor)",
)
NAMED = "Dana Reed"
ISSUE = "The referral about bruising was closed without a strategy discussion."
FACTS = "The referral was received on Monday and closed on Tuesday."
OPINION = "In my professional opinion the threshold for a section 47 enquiry is met."
PARTICIPANTS = "Dana Reed, Detective Sergeant; Olu Ade, team manager"
ACTION = ActionDetails("Hold a strategy discussion", owner="Olu Ade", due_date=date(2026, 12, 1))
ACTION_NO_DATE = ActionDetails("Share the outcome with the school", owner="Dana Reed")
LEARNING = "Share referral outcomes with the referrer the same day."
COMMENTS = "The school asked for a copy of this record."


# -- reading PDFs ---------------------------------------------------------------------------


def reader(content: bytes) -> pypdf.PdfReader:
    return pypdf.PdfReader(BytesIO(content))


def flat(text: str) -> str:
    """Whitespace collapsed to single spaces (lines wrap anywhere in a PDF)."""
    return " ".join(text.split())


def squash(text: str) -> str:
    """No whitespace at all (for long values a line may break inside)."""
    return re.sub(r"\s+", "", text)


def pdf_text(content: bytes) -> str:
    return flat(" ".join(page.extract_text() for page in reader(content).pages))


def pdf_text_with_missing_glyphs(content: bytes) -> str:
    """The text of a PDF in which some characters had no font (emoji here): WeasyPrint then
    gives that font a two-byte custom CMap, which pypdf decodes as one byte per code and so
    interleaves NULs; its layout mode keeps the order, and dropping the NULs gives the text."""
    pages = reader(content).pages
    return flat(
        " ".join(page.extract_text(extraction_mode="layout") for page in pages).replace("\x00", "")
    )


def page_texts(content: bytes) -> list[str]:
    return [flat(page.extract_text()) for page in reader(content).pages]


def form_labels(children: int) -> list[int]:
    return [1, 2, 3, *(CHILD_ITEMS * children), *range(9, 19)]


def sections(text: str, children: int) -> list[tuple[int, str]]:
    """Each label of the form, in order, with the text between it and the next label.

    Fails if a label is missing or out of order."""
    numbers = form_labels(children)
    positions = []
    start = 0
    for number in numbers:
        found = text.find(LABELS[number], start)
        assert found >= 0, f"label {number} ({LABELS[number]!r}) missing or out of order"
        positions.append(found)
        start = found + len(LABELS[number])
    end_of_form = text.find("Chronology", start)
    positions.append(end_of_form if end_of_form >= 0 else len(text))
    # Each label's number ("18.") goes with it, not with the section before it.
    return [
        (
            number,
            re.sub(
                r"\s*\d+\.\s*$", "", text[positions[i] + len(LABELS[number]) : positions[i + 1]]
            ),
        )
        for i, number in enumerate(numbers)
    ]


def render(case: ProfessionalDifference, *, fetcher: Any = None) -> pdf.RenderedPdf:
    case = ProfessionalDifference.objects.select_related("partnership", "category").get(pk=case.pk)
    return pdf.render_record_pdf(
        appendix2.record_for(case),
        generated_by="Pat Example",
        generated_at=timezone.now(),
        fetcher=fetcher,
    )


def signed_in(user: Any) -> Client:
    """Signed in and freshly re-authenticated, as a download needs."""
    client = Client()
    client.force_login(user)
    reauthenticate(client)
    return client


def record_url(case: ProfessionalDifference) -> str:
    return reverse("case_record_pdf", kwargs={"pk": case.pk})


# -- cases ----------------------------------------------------------------------------------


def case_at_stage_2(world: World, **overrides: Any) -> ProfessionalDifference:
    """Two children, a named professional, a clarification, a discussion, Stage 2."""
    fields: dict[str, Any] = {
        "children": [AMIRA, ZAIN],
        "issue": ISSUE,
        "context": Context.CHILD_PROTECTION_REFERRAL,
        "named_professionals": [
            NamedProfessionalDetails(
                agency=world.agency_b, name=NAMED, role="Detective Sergeant", user=world.b_named
            )
        ],
    }
    fields.update(overrides)
    case = raise_difference(world, **fields)
    services.difference_start_clarification(actor=world.raiser, difference_id=case.pk)
    services.difference_begin_stage_1(
        actor=world.raiser, difference_id=case.pk, clarification="Asked my manager."
    )
    entry_record(
        actor=world.raiser,
        difference=case,
        kind=EntryKind.CALL,
        method="Telephone",
        participants=PARTICIPANTS,
        facts=FACTS,
        opinion=OPINION,
        outcome="No agreement.",
    )
    return services.difference_escalate(
        actor=world.raiser, difference_id=case.pk, reason="Stage 1 did not resolve it."
    )


def resolved_case(world: World) -> ProfessionalDifference:
    case = case_at_stage_2(world)
    services.difference_record_outcome(
        actor=world.raiser,
        difference_id=case.pk,
        outcome=Status.RESOLVED,
        summary="A strategy discussion will be held.",
        actions=[ACTION, ACTION_NO_DATE],
    )
    case = services.difference_close(
        actor=world.business_manager,
        difference_id=case.pk,
        learning=LEARNING,
        protocol_amendment_recommended=False,
    )
    ProfessionalDifference.objects.filter(pk=case.pk).update(additional_comments=COMMENTS)
    return case


def partially_resolved_case(world: World) -> ProfessionalDifference:
    case = case_at_stage_2(world)
    return services.difference_record_outcome(
        actor=world.raiser,
        difference_id=case.pk,
        outcome=Status.PARTIALLY_RESOLVED,
        summary="Agreed on the referral, not on the plan.",
        actions=[ACTION],
    )


def not_resolved_case(world: World) -> ProfessionalDifference:
    case = case_at_stage_2(world)
    services.difference_escalate(
        actor=world.a_line_manager,
        difference_id=case.pk,
        reason="No agreement between managers.",
        oversight_note="Read the referral and the case notes.",
    )
    services.difference_escalate(
        actor=world.a_senior_manager, difference_id=case.pk, reason="No agreement."
    )
    services.difference_escalate(
        actor=world.a_director,
        difference_id=case.pk,
        reason="Referral summary.",
        escalated_to="Dr Ada Obi, chair of the Practice Review Group",
    )
    return services.difference_record_outcome(
        actor=world.final_body_member,
        difference_id=case.pk,
        outcome=Status.NOT_RESOLVED,
        summary="The body upheld the decision to close the referral.",
    )


def withdrawn_case(world: World) -> ProfessionalDifference:
    case = raise_difference(
        world, children=[AMIRA, ZAIN], issue=ISSUE, context=Context.CHILD_PROTECTION_REFERRAL
    )
    services.difference_start_clarification(actor=world.raiser, difference_id=case.pk)
    return services.difference_withdraw(
        actor=world.raiser, difference_id=case.pk, reason="A strategy discussion is booked."
    )


OUTCOMES = {
    "resolved": (resolved_case, "Yes"),
    "partially resolved": (partially_resolved_case, "Partial"),
    "not resolved after final referral": (not_resolved_case, "No"),
    "withdrawn": (withdrawn_case, None),
}
# Items 10 and 13–16 of each outcome's case.
OUTCOME_VALUES: dict[str, dict[int, list[str]]] = {
    "resolved": {
        10: [NAMED, "Olu Ade, team manager"],
        13: ["Stage 2: line managers and safeguarding leads"],
        14: ["Hold a strategy discussion", "Share the outcome with the school"],
        15: [LEARNING],
        16: [COMMENTS],
    },
    "partially resolved": {
        10: [NAMED, "Olu Ade, team manager"],
        13: ["Stage 2: line managers and safeguarding leads"],
        14: ["Hold a strategy discussion — owner: Olu Ade; timescale: by 1 December 2026"],
        15: ["Not recorded yet"],
        16: ["None"],
    },
    "not resolved after final referral": {
        10: [NAMED, "Olu Ade, team manager"],
        13: ["Final referral to the Practice Review Group", "Dr Ada Obi"],
        14: ["None recorded"],
        15: ["Not recorded yet"],
        16: ["None"],
    },
    "withdrawn": {
        10: ["Named Person, B police"],
        13: ["Not escalated"],
        14: ["None recorded"],
        15: ["Not recorded yet"],
        16: ["None"],
    },
}


def expected_values(case: ProfessionalDifference) -> dict[int, list[list[str]]]:
    """What must follow each label, per occurrence (items 4–8 once per child)."""
    case = ProfessionalDifference.objects.get(pk=case.pk)
    children = [AMIRA, ZAIN]
    values: dict[int, list[list[str]]] = {
        1: [[case.raiser_name]],
        2: [[case.raiser_role]],
        3: [[case.raiser_agency_name]],
        4: [[child.name] for child in children],
        5: [["4 March 2016"], ["19 July 2021"]],
        6: [[child.address] for child in children],
        7: [[child.school] for child in children],
        8: [[child.lead_professional] for child in children],
        9: [["Child protection referral", case.category.name]],
        11: [[ISSUE]],
        17: [[]],
        18: [[]],
    }
    return values


# -- the form -------------------------------------------------------------------------------


@pytest.mark.parametrize("outcome", list(OUTCOMES))
def test_every_label_is_in_order_with_its_value_for_each_outcome(
    world: World, outcome: str
) -> None:
    build, chosen = OUTCOMES[outcome]
    case = build(world)
    text = pdf_text(render(case).pdf)
    found = sections(text, children=2)
    expected = expected_values(case)
    expected.update({number: [values] for number, values in OUTCOME_VALUES[outcome].items()})
    seen: dict[int, int] = {}
    for number, section in found:
        occurrence = seen.get(number, 0)
        seen[number] = occurrence + 1
        for value in expected.get(number, [[]])[occurrence]:
            assert flat(value) in section, f"item {number}: {value!r} not in {section!r}"
    by_number = {number: section for number, section in found}
    marks = re.findall(r"\[X\] (Yes|No|Partial)", by_number[12])
    assert marks == ([chosen] if chosen else [])
    for choice in ("Yes", "No", "Partial"):
        if choice != chosen:
            assert f"[ ] {choice}" in by_number[12]
    # The signature and date are left to fill in by hand.
    assert by_number[17].strip() == ""


def test_a_resolved_case_shows_its_actions_with_owners_and_timescales_learning_and_comments(
    world: World,
) -> None:
    case = resolved_case(world)
    by_number = dict(sections(pdf_text(render(case).pdf), children=2))
    assert "A strategy discussion will be held." in by_number[12]
    assert "Stage 2: line managers and safeguarding leads" in by_number[13]
    actions = by_number[14]
    assert "Hold a strategy discussion — owner: Olu Ade; timescale: by 1 December 2026" in actions
    assert "Share the outcome with the school — owner: Dana Reed; timescale: none given" in actions
    assert LEARNING in by_number[15]
    assert "Protocol amendment recommended: no" in by_number[15]
    assert COMMENTS in by_number[16]


def test_the_people_reported_to_are_the_named_professionals_the_managers_and_participants(
    world: World,
) -> None:
    case = not_resolved_case(world)
    section = dict(sections(pdf_text(render(case).pdf), children=2))[10]
    names = [
        f"{NAMED}, Detective Sergeant, B police",
        world.a_line_manager.get_full_name(),
        world.a_senior_manager.get_full_name(),
        world.a_director.get_full_name(),
        world.final_body_member.get_full_name(),
        "Olu Ade, team manager",
    ]
    positions = [section.find(name) for name in names]
    assert all(position >= 0 for position in positions), (names, section)
    assert positions == sorted(positions)
    # The raiser did not report it to themself; the named professional appears once.
    assert case.raiser_name not in section
    assert section.count(NAMED) == 1


def test_a_case_not_resolved_names_every_escalation_and_to_whom(world: World) -> None:
    case = not_resolved_case(world)
    section = dict(sections(pdf_text(render(case).pdf), children=2))[13]
    for step in (
        "Stage 2: line managers and safeguarding leads",
        "Stage 3: senior managers",
        "Stage 4: directors and the partnership",
        "Final referral to the Practice Review Group",
        "Escalated to (as recorded): Dr Ada Obi, chair of the Practice Review Group",
    ):
        assert step in section
    assert world.a_director.get_full_name() in section


def test_a_withdrawn_case_marks_no_choice_and_says_why(world: World) -> None:
    case = withdrawn_case(world)
    by_number = dict(sections(pdf_text(render(case).pdf), children=2))
    assert "[X]" not in by_number[12]
    assert "Withdrawn on" in by_number[12]
    assert "A strategy discussion is booked." in by_number[12]
    assert "Not escalated" in by_number[13]
    assert "None recorded" in by_number[14]


def test_an_open_case_marks_no_choice(world: World) -> None:
    case = case_at_stage_2(world)
    section = dict(sections(pdf_text(render(case).pdf), children=2))[12]
    assert "[X]" not in section
    assert "Not resolved yet: the case is open" in section


def test_a_partial_outcome_escalated_further_marks_no_choice_until_the_next_outcome(
    world: World,
) -> None:
    case = partially_resolved_case(world)
    case = services.difference_escalate(
        actor=world.a_line_manager,
        difference_id=case.pk,
        reason="The plan is still not agreed.",
        oversight_note="Reviewed.",
        escalated_to="Head of service, A social care",
    )
    by_number = dict(sections(pdf_text(render(case).pdf), children=2))
    assert "[X]" not in by_number[12]
    assert "A partial outcome was recorded" in by_number[12]
    assert "Escalated to (as recorded): Head of service, A social care" in by_number[13]


def test_one_child_gives_one_block_without_a_child_heading(world: World) -> None:
    case = raise_difference(world, children=[AMIRA])
    text = pdf_text(render(case).pdf)
    sections(text, children=1)
    assert "Child 1 of" not in text
    assert text.count(LABELS[4]) == 1


def test_two_children_give_two_numbered_blocks(world: World) -> None:
    text = pdf_text(render(case_at_stage_2(world)).pdf)
    sections(text, children=2)
    assert text.index("Child 1 of 2") < text.index("Amira Khan") < text.index("Child 2 of 2")
    assert text.index("Child 2 of 2") < text.index("Zain Khan")


def test_a_child_with_nothing_known_but_a_name_says_so(world: World) -> None:
    case = raise_difference(world, children=[ChildDetails(name="Leo Brown")])
    by_number = dict(sections(pdf_text(render(case).pdf), children=1))
    for number in (5, 6, 7, 8):
        assert "Not known" in by_number[number]


# -- the chronology -------------------------------------------------------------------------


def test_the_chronology_lists_stages_with_dates_and_a_breach(world: World) -> None:
    case = case_at_stage_2(world)
    stage_1 = StageEntry.objects.get(difference=case, stage=Status.STAGE_1)
    StageEntry.objects.filter(pk=stage_1.pk).update(
        breached_at=stage_1.due_at + timedelta(minutes=1)
    )
    text = pdf_text(render(case).pdf)
    chronology = text[text.index("Chronology") :]
    for stage in ("Clarification", "Stage 1: practitioners", "Stage 2: line managers"):
        assert stage in chronology
    due = timezone.localtime(stage_1.due_at)
    assert f"{due.day} {due:%B %Y} at {due:%H:%M}" in chronology
    assert "Breached: overdue since" in chronology
    assert "Breach flagged" in chronology
    assert "still at this stage" in chronology


def test_every_entry_shows_its_date_method_participants_facts_and_opinion_apart(
    world: World,
) -> None:
    case = case_at_stage_2(world)
    text = pdf_text(render(case).pdf)
    chronology = text[text.index("Chronology") :]
    lowered = chronology.lower()
    assert "Telephone call" in chronology
    assert "Method: Telephone" in chronology
    assert f"Participants: {PARTICIPANTS}" in chronology
    assert f"facts {FACTS.lower()}" in lowered
    assert f"professional opinion {OPINION.lower()}" in lowered
    assert "outcome agreed no agreement." in lowered
    for heading in ("Raised", "Moved to clarification", "Escalated to Stage 2"):
        assert heading in chronology


def test_a_correction_is_marked_on_both_entries(world: World) -> None:
    case = case_at_stage_2(world)
    wrong = entry_record(
        actor=world.raiser,
        difference=case,
        kind=EntryKind.MEETING,
        facts="The meeting was on Friday.",
    )
    entry_correct(
        actor=world.raiser,
        difference=case,
        corrects=wrong,
        facts="The meeting was on Thursday.",
        reason="Wrong day.",
    )
    record = appendix2.record_for(case)
    number = next(e.number for e in record.entries if e.pk == wrong.pk)
    text = pdf_text(render(case).pdf)
    correction_number = number + 1
    assert f"{number}. Meeting Corrected by entry {correction_number}" in text
    assert f"{correction_number}. Correction" in text
    assert f"Correction of entry {number} (Meeting)" in text
    assert "what was wrong wrong day." in text.lower()
    assert "facts the meeting was on thursday." in text.lower()


# -- header, footer, page, tags -------------------------------------------------------------


def test_every_page_has_the_header_footer_and_marking(world: World) -> None:
    Partnership.objects.filter(pk=world.partnership.pk).update(
        protocol_title="Protocol for Resolving Professional Differences", protocol_version="7"
    )
    case = not_resolved_case(world)
    pages = page_texts(render(case).pdf)
    assert len(pages) > 1
    for number, page in enumerate(pages, start=1):
        assert "Partnership P" in page
        assert "Protocol for Resolving Professional Differences, version 7" in page
        assert f"Page {number} of {len(pages)}" in page
        assert page.count("OFFICIAL-SENSITIVE") >= 2, "top and bottom"
        assert case.reference in page
        assert "by Pat Example" in page
        assert re.search(r"Generated \d{1,2} \w+ \d{4} at \d\d:\d\d", page)


def test_the_generated_time_is_london_time(world: World) -> None:
    case = raise_difference(world)
    summer = datetime(2026, 7, 1, 9, 30, tzinfo=UTC)
    content = pdf.render_record_pdf(
        appendix2.record_for(case), generated_by="Pat Example", generated_at=summer
    ).pdf
    assert "Generated 1 July 2026 at 10:30 by Pat Example" in pdf_text(content)


def test_the_pdf_is_a4_tagged_and_titled(world: World) -> None:
    case = case_at_stage_2(world)
    document = reader(render(case).pdf)
    for page in document.pages:
        box = page.mediabox
        assert abs(float(box.width) - 595) <= 1
        assert abs(float(box.height) - 842) <= 1
    root = document.trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in root
    assert root["/Lang"] == "en-GB"
    assert case.reference in document.metadata.title


def record_discussions(world: World, case: Any, count: int) -> None:
    """``count`` discussions of a few lines each on the case's chronology."""
    for n in range(count):
        entry_record(
            actor=world.raiser,
            difference=case,
            kind=EntryKind.DISCUSSION,
            facts=f"Discussion {n}: what was said and agreed, in some detail. " * 3,
            opinion="My view is that the plan is not working.",
        )


def test_the_page_count_grows_with_the_chronology(world: World) -> None:
    short = raise_difference(world)
    long = raise_difference(world)
    record_discussions(world, short, 5)
    record_discussions(world, long, 80)
    short_pages = len(reader(render(short).pdf).pages)
    long_pages = len(reader(render(long).pdf).pages)
    assert long_pages > short_pages + 5


def test_building_the_record_takes_the_same_queries_for_5_and_80_entries(world: World) -> None:
    counts = []
    for entries in (5, 80):
        case = raise_difference(world)
        for n in range(entries):
            entry_record(
                actor=world.raiser, difference=case, kind=EntryKind.CALL, facts=f"Call {n}."
            )
        case = ProfessionalDifference.objects.select_related("partnership", "category").get(
            pk=case.pk
        )
        with CaptureQueriesContext(connection) as queries:
            appendix2.record_for(case)
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_the_record_download_runs_the_same_queries_for_5_and_80_entries(world: World) -> None:
    client = signed_in(world.raiser)
    counts = []
    for entries in (5, 80):
        case = raise_difference(world)
        for n in range(entries):
            entry_record(
                actor=world.raiser, difference=case, kind=EntryKind.CALL, facts=f"Call {n}."
            )
        client.get(record_url(case))  # warm caches (content types, the session)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(record_url(case))
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


# -- hostile content ------------------------------------------------------------------------

IMG = "<img src=file:///etc/passwd>"
LINK = "<link rel=attachment href=file:///etc/passwd>"
STYLE = "<style>@import url(http://127.0.0.1:9/x.css)</style>"
ARABIC = "مرحبا بالعالم"
HEBREW = "שלום עולם"
EMOJI = "👩‍⚕️🚸😀"
TEMPLATE_SYNTAX = "{{ request }} {% debug %} &amp;"
RTL = f"{ARABIC} {HEBREW}"
# Every piece; without emoji (which no installed font has: see pdf_text_with_missing_glyphs).
MARKUP_AND_RTL = [IMG, LINK, STYLE, RTL, TEMPLATE_SYNTAX]
EVERYTHING = [IMG, LINK, STYLE, RTL, EMOJI, TEMPLATE_SYNTAX]


def hostile_case(world: World, pieces: list[str]) -> ProfessionalDifference:
    """Hostile text in every free-text field a person or an administrator can fill in."""
    hostile = " ".join(pieces)

    def piece(n: int, label: str) -> str:
        """One piece with a label (short enough for a 100-character field)."""
        return f"{label} {pieces[n % len(pieces)]}"[:100]

    Partnership.objects.filter(pk=world.partnership.pk).update(
        name=f"P {STYLE}",
        protocol_title=f"Protocol {LINK}",
        protocol_version="<b>7</b>",
        final_referral_body_name=f"Body {IMG}",
    )
    world.category.name = f"Category {IMG}"
    world.category.save()
    world.raiser.first_name = "<img src=x"
    world.raiser.last_name = "onerror=alert(1)>"
    world.raiser.save()
    filler = " ".join(f"word{n}" for n in range(4000))
    issue = f"ISSUE-START {hostile} {filler}"[:19_980] + " ISSUE-END"
    issue = issue.ljust(20_000, "x")
    assert len(issue) == 20_000
    children = [
        ChildDetails(
            name=piece(n, f"Child{n}"),
            address=f"Address {hostile}",
            school=piece(n + 1, "School"),
            lead_professional=piece(n + 2, "Lead"),
        )
        for n in range(2)
    ]
    case = raise_difference(
        world,
        children=children,
        issue=issue,
        named_professionals=[
            NamedProfessionalDetails(
                agency=world.agency_b,
                name=piece(0, "Named"),
                role=piece(1, "Role"),
                user=world.b_named,
            )
        ],
    )
    services.difference_start_clarification(actor=world.raiser, difference_id=case.pk)
    services.difference_begin_stage_1(
        actor=world.raiser, difference_id=case.pk, clarification=f"Clarification {hostile}"
    )
    entry = entry_record(
        actor=world.raiser,
        difference=case,
        kind=EntryKind.MEETING,
        method=piece(2, "Method"),
        participants=f"Participants {hostile}",
        facts=f"Facts {hostile}",
        opinion=f"Opinion {hostile}",
        outcome=f"Outcome {hostile}",
    )
    entry_correct(
        actor=world.raiser,
        difference=case,
        corrects=entry,
        facts=f"Corrected facts {hostile}",
        opinion=f"Corrected opinion {hostile}",
        reason=f"Reason {hostile}",
    )
    services.difference_escalate(
        actor=world.raiser,
        difference_id=case.pk,
        reason=f"Why {hostile}",
        escalated_to=f"Escalated {hostile}",
    )
    stage_2 = StageEntry.objects.get(difference=case, stage=Status.STAGE_2)
    StageEntry.objects.filter(pk=stage_2.pk).update(
        pause_reason=f"Pause {hostile}", shortened_reason=f"Shortened {hostile}"
    )
    services.difference_record_outcome(
        actor=world.raiser,
        difference_id=case.pk,
        outcome=Status.RESOLVED,
        summary=f"Summary {hostile}",
        actions=[
            ActionDetails(f"Action {hostile}", owner=piece(3, "Owner")),
        ],
    )
    case = services.difference_close(
        actor=world.business_manager,
        difference_id=case.pk,
        learning=f"Learning {hostile}",
        protocol_amendment_recommended=True,
        protocol_amendment_note=f"Amend {hostile}",
    )
    ProfessionalDifference.objects.filter(pk=case.pk).update(
        additional_comments=f"Comments {hostile}"
    )
    return case


HOSTILE_LABELS = (
    "Facts",
    "Opinion",
    "Outcome",
    "Corrected facts",
    "Corrected opinion",
    "Reason",
    "Clarification",
    "Why",
    "Escalated",
    "Summary",
    "Action",
    "Learning",
    "Amend",
    "Comments",
    "Address",
    "Participants",
    "Pause",
    "Shortened",
)


def assert_fetched_only_our_stylesheet(fetcher: Any, content: bytes) -> None:
    # Only our own stylesheet was asked for (it is parsed once per thread, so the log may be
    # empty), and nothing was refused because nothing else was asked for: the markup never
    # became markup.
    assert [(r.url, r.allowed) for r in fetcher.log] in (
        [],
        [(f"{pdf.STATIC_BASE}records/pdf.css", True)],
    )
    assert reader(content).attachments == {}
    assert b"/EmbeddedFile" not in content


def test_the_stylesheet_comes_through_the_fetcher_from_our_static_files(world: World) -> None:
    case = raise_difference(world)
    pdf.forget_stylesheets()
    first, again = pdf.static_only_fetcher(), pdf.static_only_fetcher()
    render(case, fetcher=first)
    render(case, fetcher=again)
    assert [(r.url, r.allowed, r.reason) for r in first.log] == [
        (f"{pdf.STATIC_BASE}records/pdf.css", True, "static file records/pdf.css")
    ]
    assert again.log == [], "parsed once per thread"


def test_hostile_markup_and_right_to_left_text_in_every_field_render_as_text(
    world: World,
) -> None:
    case = hostile_case(world, MARKUP_AND_RTL)
    fetcher = pdf.static_only_fetcher()
    rendered = render(case, fetcher=fetcher)
    assert_fetched_only_our_stylesheet(fetcher, rendered.pdf)
    text = pdf_text(rendered.pdf)
    assert "root:x:0:0" not in text
    compact = squash(text)
    for piece in (IMG, LINK, STYLE, TEMPLATE_SYNTAX):
        assert squash(piece) in compact
    assert "ISSUE-START" in text and "ISSUE-END" in text
    for label in HOSTILE_LABELS:
        assert squash(f"{label} {IMG}") in compact, label
    assert squash(world.raiser.get_full_name()) in compact
    # Right-to-left text is kept as text (extraction gives it in visual order).
    for word in (*ARABIC.split(), *HEBREW.split()):
        assert word in text or word[::-1] in text, word


def test_hostile_content_with_emoji_in_every_field_renders_and_fetches_nothing(
    world: World,
) -> None:
    case = hostile_case(world, EVERYTHING)
    fetcher = pdf.static_only_fetcher()
    rendered = render(case, fetcher=fetcher)
    assert_fetched_only_our_stylesheet(fetcher, rendered.pdf)
    compact = squash(pdf_text_with_missing_glyphs(rendered.pdf))
    assert "ISSUE-START" in compact and "ISSUE-END" in compact
    for label in HOSTILE_LABELS:
        assert squash(f"{label} {IMG}") in compact, label


def test_hostile_content_downloads_through_the_view(world: World) -> None:
    case = hostile_case(world, EVERYTHING)
    response = signed_in(world.raiser).get(record_url(case))
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF-")
    assert len(reader(response.content).pages) > 2


def test_markup_that_reaches_the_renderer_still_fetches_nothing() -> None:
    """Defence in depth: even raw HTML (never produced by the templates) cannot read files
    or reach the network."""
    html = (
        "<html><head>"
        '<link rel="stylesheet" href="http://127.0.0.1:9/x.css">'
        "<style>@import url(http://127.0.0.1:9/y.css); "
        "body { background: url(file:///etc/passwd) }</style></head><body>"
        '<img src="file:///etc/passwd"><img src="https://example.org/a.png">'
        '<img src="data:image/svg+xml,<svg xmlns=%22http://www.w3.org/2000/svg%22/>">'
        '<iframe src="data:text/html,<p>hi</p>"></iframe>'
        '<link rel="attachment" href="file:///etc/passwd">'
        '<a rel="attachment" href="file:///etc/hostname">x</a>'
        "<p>Text</p></body></html>"
    )
    fetcher = pdf.static_only_fetcher()
    rendered = pdf.render_html_to_pdf(html, fetcher=fetcher)
    assert rendered.pdf.startswith(b"%PDF-")
    assert fetcher.log, "the renderer asked for the resources"
    assert all(not request.allowed for request in fetcher.log), fetcher.log
    assert reader(rendered.pdf).attachments == {}
    assert b"/EmbeddedFile" not in rendered.pdf


PNG_1PX = (  # a 1×1 pixel PNG
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQ"
    "AAAABJRU5ErkJggg=="
)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "FILE:///etc/passwd",
        "file://localhost/etc/passwd",
        "http://127.0.0.1:9/x.css",
        "https://example.org/a.png",
        "https://record-pdf.invalid.example.org/static/records/pdf.css",
        "https://record-pdf.invalid/etc/passwd",
        "https://record-pdf.invalid/static/../../../etc/passwd",
        "https://record-pdf.invalid/static/%2e%2e/%2e%2e/etc/passwd",
        "https://record-pdf.invalid/static/records/..%2f..%2fconfig/settings.py",
        "https://record-pdf.invalid/static/records/missing.css",
        "https://record-pdf.invalid/static/records/",
        "data:text/html,<script>alert(1)</script>",
        "data:text/css,body{background:url(file:///etc/passwd)}",
        "data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg'/>",
        "ftp://example.org/x.css",
        "javascript:alert(1)",
        "/static/records/pdf.css",
        "records/pdf.css",
    ],
)
def test_the_fetcher_refuses_anything_but_our_static_files(url: str) -> None:
    fetcher = pdf.static_only_fetcher()
    with pytest.raises(pdf.FetchRefused):
        fetcher(url)
    assert [(r.url, r.allowed) for r in fetcher.log] == [(url, False)]


@pytest.mark.parametrize(
    "url",
    [
        f"{pdf.STATIC_BASE}records/pdf.css",
        f"{pdf.STATIC_BASE}records/pdf.css?v=1",
        f"data:image/png;base64,{PNG_1PX}",
    ],
)
def test_the_fetcher_serves_our_static_files_and_raster_data_images(url: str) -> None:
    fetcher = pdf.static_only_fetcher()
    response = fetcher(url)
    body = response.read()
    response.close()
    assert body
    assert [(r.url, r.allowed) for r in fetcher.log] == [(url, True)]


# -- the time limit -------------------------------------------------------------------------


def test_a_render_over_its_time_limit_is_stopped() -> None:
    html = "<p>" + "Long text. " * 20_000 + "</p>"
    started = time.perf_counter()
    with pytest.raises(pdf.RenderTimeout):
        pdf.render_html_to_pdf(html, seconds=0.05)
    assert time.perf_counter() - started < 5


def test_the_time_limit_stops_work_in_any_thread_and_leaves_nothing_behind() -> None:
    outcome: dict[str, str] = {}

    def work() -> None:
        try:
            with pdf.time_limit(0.05):
                while True:
                    pass
        except pdf.RenderTimeout:
            outcome["stopped"] = "yes"
        # A finished block leaves no pending exception behind.
        with pdf.time_limit(0.05):
            pass
        time.sleep(0.2)
        outcome["after"] = "fine"

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(5)
    assert outcome == {"stopped": "yes", "after": "fine"}


def test_a_render_within_its_time_limit_is_unaffected(world: World) -> None:
    case = raise_difference(world)
    assert render(case).pdf.startswith(b"%PDF-")
    time.sleep(0.1)


def test_a_record_over_its_time_limit_answers_503_and_is_not_audited(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = difference_at(world, Status.STAGE_2)
    monkeypatch.setattr(pdf, "DEFAULT_TIME_LIMIT", 0.0001)
    response = signed_in(world.raiser).get(record_url(case))
    assert response.status_code == 503
    assert not AuditEvent.objects.filter(action="record_pdf_downloaded").exists()


# -- the views: who may download, headers, audit ---------------------------------------------

MAY_SEE = ["raiser", "b_named", "a_line_manager", "b_safeguarding_lead", "business_manager"]
MAY_NOT_SEE = [
    "a_other_practitioner",
    "b_senior_manager",
    "c_practitioner",
    "c_line_manager",
    "q_business_manager",
    "d_director",
    "outsider",
    "superuser",
]


@pytest.mark.parametrize("person", MAY_SEE)
def test_everyone_who_may_see_the_case_downloads_its_record(world: World, person: str) -> None:
    case = difference_at(world, Status.STAGE_2)
    response = signed_in(world.people[person]).get(record_url(case))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{case.reference}-record.pdf"'
    assert response["Cache-Control"] == "no-store"
    assert response.content.startswith(b"%PDF-")


@pytest.mark.parametrize("person", MAY_NOT_SEE)
def test_someone_who_may_not_see_the_case_gets_404(world: World, person: str) -> None:
    case = difference_at(world, Status.STAGE_2)
    response = signed_in(world.people[person]).get(record_url(case))
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="record_pdf_downloaded").exists()


def test_a_case_that_does_not_exist_is_404(world: World) -> None:
    response = signed_in(world.raiser).get(reverse("case_record_pdf", kwargs={"pk": 999_999}))
    assert response.status_code == 404


def test_an_anonymous_visitor_is_sent_to_sign_in(world: World) -> None:
    case = difference_at(world, Status.STAGE_2)
    response = Client().get(record_url(case))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("sign_in"))


def test_the_record_only_answers_get(world: World) -> None:
    case = difference_at(world, Status.STAGE_2)
    assert signed_in(world.raiser).post(record_url(case)).status_code == 405


def test_every_download_writes_an_audit_event(world: World) -> None:
    case = difference_at(world, Status.STAGE_2)
    client = signed_in(world.a_line_manager)
    client.get(record_url(case))
    client.get(record_url(case))
    events = list(AuditEvent.objects.filter(action="record_pdf_downloaded").order_by("pk"))
    assert len(events) == 2
    for event in events:
        assert event.actor == world.a_line_manager
        assert event.difference_id == case.pk
        assert case.reference in event.detail
        assert timezone.now() - event.at < timedelta(minutes=1)


def test_the_download_names_the_person_who_generated_it(world: World) -> None:
    case = difference_at(world, Status.STAGE_2)
    response = signed_in(world.a_line_manager).get(record_url(case))
    assert f"by {world.a_line_manager.get_full_name()}" in pdf_text(response.content)


def test_the_case_page_links_to_the_record(world: World) -> None:
    case = difference_at(world, Status.STAGE_2)
    page = signed_in(world.b_named).get(reverse("case_detail", kwargs={"pk": case.pk}))
    assert record_url(case) in page.content.decode()
    assert "Download record (PDF)" in page.content.decode()


# -- the blank form -------------------------------------------------------------------------


@pytest.mark.parametrize("person", ["raiser", "business_manager", "outsider"])
def test_any_signed_in_person_gets_the_blank_form(world: World, person: str) -> None:
    response = signed_in(world.people[person]).get(reverse("blank_record_pdf"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment;" in response["Content-Disposition"]
    assert response["Cache-Control"] == "no-store"
    text = pdf_text(response.content)
    by_number = dict(sections(text, children=1))
    assert "[ ] Yes [ ] No [ ] Partial" in by_number[12]
    assert "[X]" not in text
    assert "Chronology" not in text
    assert not AuditEvent.objects.exists()


def test_the_blank_form_carries_the_persons_partnership(world: World) -> None:
    response = signed_in(world.raiser).get(reverse("blank_record_pdf"))
    assert "Partnership P" in pdf_text(response.content)


def test_an_anonymous_visitor_gets_no_blank_form(world: World) -> None:
    response = Client().get(reverse("blank_record_pdf"))
    assert response.status_code == 302


def test_a_process_freezes_what_its_first_render_left_and_only_then(monkeypatch: Any) -> None:
    """After the first render, WeasyPrint's modules, fonts and caches leave the collector's
    sight (one collection, then ``gc.freeze``); later renders do nothing of the kind."""
    calls: list[str] = []
    pdf._settle_after_first_render.cache_clear()  # as in a process that has rendered nothing
    monkeypatch.setattr(pdf.gc, "collect", lambda *args: calls.append("collect") or 0)
    monkeypatch.setattr(pdf.gc, "freeze", lambda: calls.append("freeze"))
    html = "<html lang='en'><head><title>t</title></head><body><p>One.</p></body></html>"
    for _ in range(2):
        assert pdf.render_html_to_pdf(html).pdf.startswith(b"%PDF")
    assert calls == ["collect", "freeze"]
