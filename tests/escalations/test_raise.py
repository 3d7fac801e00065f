"""Raising a difference."""

from __future__ import annotations

import pytest

from escalations import errors
from escalations.errors import DifferenceRefused
from escalations.models import Party
from escalations.selectors import differences_visible_to
from escalations.states import Status
from records.models import Entry
from tests.conftest import World
from tests.factories.differences import raise_difference

pytestmark = pytest.mark.django_db


def test_raising_a_difference_records_the_raiser_as_they_were(world: World) -> None:
    case = raise_difference(world)
    assert case.status == Status.IDENTIFIED
    assert case.raiser_agency_name == "A social care"
    assert case.raiser_role == "Practitioner"
    assert case.reference and case.reference.startswith("PD-")
    assert set(Party.objects.filter(difference=case).values_list("agency__name", "is_raising")) == {
        ("A social care", True),
        ("B police", False),
    }
    assert [c.name for c in case.children.all()] == ["Amira Khan", "Zain Khan"]
    entry = Entry.objects.get(difference=case)
    assert (entry.transition, entry.to_status, entry.author) == (
        "raise",
        "identified",
        world.raiser,
    )


def test_raising_where_every_party_is_the_raisers_own_agency_points_to_in_house_procedures(
    world: World,
) -> None:
    with pytest.raises(DifferenceRefused) as refused:
        raise_difference(world, other_agencies=[world.agency_a], named_professionals=[])
    assert refused.value.message == errors.IN_HOUSE_PROCEDURES
    assert "in-house procedures" in refused.value.message
    assert not differences_visible_to(world.raiser).exists()


def test_raising_with_no_other_agency_is_refused(world: World) -> None:
    with pytest.raises(DifferenceRefused) as refused:
        raise_difference(world, other_agencies=[], named_professionals=[])
    assert refused.value.message == errors.NO_OTHER_AGENCY


def test_raising_against_an_agency_of_another_partnership_is_refused(world: World) -> None:
    with pytest.raises(DifferenceRefused) as refused:
        raise_difference(world, other_agencies=[world.agency_d], named_professionals=[])
    assert refused.value.message == errors.AGENCY_OUTSIDE_PARTNERSHIP


def test_raising_for_an_agency_you_do_not_work_for_is_refused(world: World) -> None:
    with pytest.raises(DifferenceRefused) as refused:
        raise_difference(world, actor=world.b_practitioner)
    assert refused.value.message == errors.NOT_A_MEMBER_OF_AGENCY


def test_raising_without_a_child_or_an_issue_is_refused(world: World) -> None:
    with pytest.raises(DifferenceRefused) as refused:
        raise_difference(world, children=[])
    assert refused.value.message == errors.NO_CHILD
    with pytest.raises(DifferenceRefused) as refused:
        raise_difference(world, issue="   ")
    assert refused.value.message == errors.ISSUE_REQUIRED


def test_the_urgent_track_opens_at_stage_2_with_a_manager_named(world: World) -> None:
    case = raise_difference(world, is_urgent=True, urgent_manager=world.a_line_manager)
    assert case.status == Status.STAGE_2
    assert case.track == "urgent"
    assert list(case.entries.values_list("transition", flat=True)) == [
        "raise",
        "open_urgent_track",
    ]
    entry = case.stage_entries.get()
    assert (entry.stage, entry.track) == ("stage_2", "urgent")


def test_the_urgent_track_needs_a_manager_of_the_raisers_agency(world: World) -> None:
    with pytest.raises(DifferenceRefused) as refused:
        raise_difference(world, is_urgent=True)
    assert refused.value.message == errors.URGENT_NEEDS_MANAGER
    with pytest.raises(DifferenceRefused) as refused:
        raise_difference(world, is_urgent=True, urgent_manager=world.b_line_manager)
    assert refused.value.message == errors.URGENT_MANAGER_NOT_OF_AGENCY
