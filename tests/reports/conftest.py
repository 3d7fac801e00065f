"""A partnership with known cases across the boundaries of the period 1 April–30 September 2026
(compared with 1 October 2025–31 March 2026), driven through the real services in time.

Case 1  raised 2 Mar 2026 (before the period), Stage 1, resolved 8 Apr, closed 20 Apr with a
        protocol amendment recommended; themes "Thresholds" and "Information sharing"; an
        action whose description starts with "=HYPERLINK(".
Case 2  raised 5 May, Stage 1 breached 14 May, Stage 2 breached 26 May: still open.
Case 3  raised 1 Jun, withdrawn at clarification 2 Jun.
Case 4  raised 8 Jun against B and C (a category named "=HYPERLINK(…"), up every stage to
        the final referral on 15 Jun, not resolved 1 Jul, one action.
Case 5  urgent, raised 28 Sep straight at Stage 2, partially resolved 29 Sep, accepted.
Case 6  raised 5 Oct 2026: after the period.
Case 7  raised 3 Nov 2025, withdrawn 4 Nov 2025: the previous period only.
Case 8  partnership Q, raised in the period: never counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from agencies.models import Category
from escalations import services
from escalations.deadlines import deadlines_scan
from escalations.models import ProfessionalDifference
from escalations.services import ActionDetails, ChildDetails
from escalations.states import Context, Status
from reports.models import LearningTheme
from reports.periods import Period
from reports.services import difference_tag_learning_themes
from tests.conftest import World
from tests.factories.differences import DifferenceFactory

LONDON = ZoneInfo("Europe/London")
PERIOD = Period(date(2026, 4, 1), date(2026, 9, 30))
PREVIOUS = Period(date(2025, 10, 1), date(2026, 3, 31))

CHILD_NAMES = ("Amira", "Zain", "Khan")
CHILD_ADDRESS = ("12 Example Row", "NM1 2AB")
CHILD_BIRTHS = (date(2016, 3, 4), date(2019, 7, 21))
INJECTED_CATEGORY = '=HYPERLINK("http://example.invalid/c","Category")'
INJECTED_ACTION = '=HYPERLINK("http://example.invalid/a","Click me")'
AMENDMENT = "Add a same-day step for sharing the outcome of a referral."


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)  # type: ignore[misc]


def child_identifiers() -> list[str]:
    """Every way a fixture child's name, address or date of birth might be written."""
    found = [*CHILD_NAMES, *CHILD_ADDRESS]
    for born in CHILD_BIRTHS:
        found += [
            born.isoformat(),
            f"{born:%d/%m/%Y}",
            f"{born.day} {born:%B %Y}",
            f"{born.day} {born:%b %Y}",
            f"{born:%d %b %Y}",
            f"{born:%d %B %Y}",
        ]
    return found


@dataclass
class Fixture:
    world: World
    cases: dict[int, ProfessionalDifference]
    themes: dict[str, LearningTheme]
    category: Category
    injected_category: Category


def _children() -> list[ChildDetails]:
    return [
        ChildDetails(
            name="Amira Khan",
            date_of_birth=CHILD_BIRTHS[0],
            address="12 Example Row, Northmoor NM1 2AB",
            school="Riverside Primary School",
        ),
        ChildDetails(
            name="Zain Khan",
            date_of_birth=CHILD_BIRTHS[1],
            address="12 Example Row, Northmoor NM1 2AB",
        ),
    ]


def _raise(world: World, when: datetime, **overrides: Any) -> ProfessionalDifference:
    fields: dict[str, Any] = {
        "actor": world.raiser,
        "raiser_agency": world.agency_a,
        "children": _children(),
        "other_agencies": [world.agency_b],
        "category": world.category,
        "context": Context.OPEN_CASE,
        "issue": "The referral about Amira Khan was closed without a strategy discussion.",
    }
    fields.update(overrides)
    with time_machine.travel(when, tick=False):
        return services.difference_raise(**fields)


def _at(when: datetime, step: Any) -> Any:
    with time_machine.travel(when, tick=False):
        return step()


def build_fixture(world: World) -> Fixture:
    w = world
    s = services
    category = w.category
    injected = Category.objects.create(
        partnership=w.partnership, name=INJECTED_CATEGORY, position=99
    )
    themes = {
        name: LearningTheme.objects.create(partnership=w.partnership, name=name, position=i)
        for i, name in enumerate(("Thresholds", "Information sharing", "Escalation culture"))
    }
    cases: dict[int, ProfessionalDifference] = {}

    # Case 7: the previous period only.
    c7 = _raise(w, at(2025, 11, 3, 10))
    _at(
        at(2025, 11, 3, 10),
        lambda: s.difference_start_clarification(actor=w.raiser, difference_id=c7.pk),
    )
    _at(
        at(2025, 11, 4, 10),
        lambda: s.difference_withdraw(actor=w.raiser, difference_id=c7.pk, reason="In hand."),
    )
    cases[7] = c7

    # Case 1: raised before the period, resolved and closed in it.
    c1 = _raise(w, at(2026, 3, 2, 10))
    _at(
        at(2026, 3, 2, 10),
        lambda: s.difference_start_clarification(actor=w.raiser, difference_id=c1.pk),
    )
    _at(
        at(2026, 3, 3, 10),
        lambda: s.difference_begin_stage_1(
            actor=w.raiser, difference_id=c1.pk, clarification="Asked."
        ),
    )
    _at(
        at(2026, 4, 8, 10),
        lambda: s.difference_record_outcome(
            actor=w.raiser,
            difference_id=c1.pk,
            outcome=Status.RESOLVED,
            summary="Agreed a strategy discussion for Amira Khan.",
            actions=[
                ActionDetails(
                    description=INJECTED_ACTION, owner="B police DSL", due_date=date(2026, 5, 1)
                )
            ],
        ),
    )
    _at(
        at(2026, 4, 20, 10),
        lambda: s.difference_close(
            actor=w.business_manager,
            difference_id=c1.pk,
            learning="Share referral outcomes the same day.",
            protocol_amendment_recommended=True,
            protocol_amendment_note=AMENDMENT,
        ),
    )
    _at(
        at(2026, 4, 20, 11),
        lambda: difference_tag_learning_themes(
            actor=w.business_manager,
            difference_id=c1.pk,
            theme_ids=[themes["Thresholds"].pk, themes["Information sharing"].pk],
        ),
    )
    cases[1] = c1

    # Case 2: still open, with breaches at Stage 1 and Stage 2.
    c2 = _raise(w, at(2026, 5, 5, 9))
    _at(
        at(2026, 5, 5, 9),
        lambda: s.difference_start_clarification(actor=w.raiser, difference_id=c2.pk),
    )
    _at(
        at(2026, 5, 6, 9),
        lambda: s.difference_begin_stage_1(
            actor=w.raiser, difference_id=c2.pk, clarification="Asked."
        ),
    )
    _at(at(2026, 5, 14, 12), lambda: deadlines_scan(now=at(2026, 5, 14, 12)))
    _at(
        at(2026, 5, 15, 9),
        lambda: s.difference_escalate(actor=w.raiser, difference_id=c2.pk, reason="No reply."),
    )
    _at(at(2026, 5, 26, 12), lambda: deadlines_scan(now=at(2026, 5, 26, 12)))
    cases[2] = c2

    # Case 3: withdrawn at clarification.
    c3 = _raise(w, at(2026, 6, 1, 10))
    _at(
        at(2026, 6, 1, 10),
        lambda: s.difference_start_clarification(actor=w.raiser, difference_id=c3.pk),
    )
    _at(
        at(2026, 6, 2, 10),
        lambda: s.difference_withdraw(actor=w.raiser, difference_id=c3.pk, reason="In hand."),
    )
    cases[3] = c3

    # Case 4: every stage, referred to the final body, not resolved.
    c4 = _raise(
        w,
        at(2026, 6, 8, 9),
        other_agencies=[w.agency_b, w.agency_c],
        category=injected,
        context=Context.CHILD_PROTECTION_CONFERENCE,
    )
    _at(
        at(2026, 6, 8, 9),
        lambda: s.difference_start_clarification(actor=w.raiser, difference_id=c4.pk),
    )
    _at(
        at(2026, 6, 9, 9),
        lambda: s.difference_begin_stage_1(
            actor=w.raiser, difference_id=c4.pk, clarification="Asked."
        ),
    )
    _at(
        at(2026, 6, 10, 9),
        lambda: s.difference_escalate(actor=w.raiser, difference_id=c4.pk, reason="No."),
    )
    _at(
        at(2026, 6, 11, 9),
        lambda: s.difference_escalate(
            actor=w.a_line_manager, difference_id=c4.pk, reason="No.", oversight_note="Seen."
        ),
    )
    _at(
        at(2026, 6, 12, 9),
        lambda: s.difference_escalate(actor=w.a_senior_manager, difference_id=c4.pk, reason="No."),
    )
    _at(
        at(2026, 6, 15, 9),
        lambda: s.difference_escalate(
            actor=w.a_director, difference_id=c4.pk, reason="Referral summary."
        ),
    )
    _at(
        at(2026, 7, 1, 9),
        lambda: s.difference_record_outcome(
            actor=w.final_body_member,
            difference_id=c4.pk,
            outcome=Status.NOT_RESOLVED,
            summary="The group upheld the decision.",
            actions=[
                ActionDetails(
                    description="Review the threshold guidance with every agency.",
                    owner="Partnership business manager",
                    due_date=date(2026, 9, 1),
                )
            ],
        ),
    )
    cases[4] = c4

    # Case 5: urgent, partially resolved at Stage 2 and accepted.
    c5 = _raise(w, at(2026, 9, 28, 9), is_urgent=True, urgent_manager=w.a_line_manager)
    _at(
        at(2026, 9, 29, 9),
        lambda: s.difference_record_outcome(
            actor=w.raiser,
            difference_id=c5.pk,
            outcome=Status.PARTIALLY_RESOLVED,
            summary="Partly agreed.",
        ),
    )
    _at(
        at(2026, 9, 29, 10),
        lambda: s.difference_accept_partial_outcome(
            actor=w.raiser, difference_id=c5.pk, reason="We will not escalate further."
        ),
    )
    cases[5] = c5

    # Case 6: after the period.
    cases[6] = _raise(w, at(2026, 10, 5, 10))

    # Case 8: another partnership, in the period.
    cases[8] = DifferenceFactory(
        raised_by=w.d_practitioner,
        raiser_agency=w.agency_d,
        raised_at=at(2026, 6, 3, 10),
        status=Status.STAGE_1,
    )
    for number, case in cases.items():
        cases[number] = ProfessionalDifference.objects.get(pk=case.pk)
    return Fixture(
        world=w, cases=cases, themes=themes, category=category, injected_category=injected
    )


@pytest.fixture
def monitoring(world: World) -> Fixture:
    return build_fixture(world)
