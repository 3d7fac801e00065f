"""Learning themes: configured per partnership in the admin, tagged by the business manager at
the learning review."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from escalations.errors import DifferenceRefused
from escalations.states import Status
from records.models import AuditEvent
from reports import services
from reports.models import CaseLearningTheme, LearningTheme
from tests.conftest import World
from tests.factories.differences import difference_at

pytestmark = pytest.mark.django_db


@pytest.fixture
def themes(world: World) -> list[LearningTheme]:
    return [
        LearningTheme.objects.create(partnership=world.partnership, name=name, position=i)
        for i, name in enumerate(("Thresholds", "Information sharing", "Old theme"))
    ]


def test_the_business_manager_tags_a_case_in_learning_review(
    world: World, themes: list[LearningTheme]
) -> None:
    case = difference_at(world, Status.LEARNING_REVIEW)
    tagged = services.difference_tag_learning_themes(
        actor=world.business_manager, difference_id=case.pk, theme_ids=[themes[0].pk, themes[1].pk]
    )
    assert [t.name for t in tagged] == ["Thresholds", "Information sharing"]
    services.difference_tag_learning_themes(
        actor=world.business_manager, difference_id=case.pk, theme_ids=[themes[1].pk]
    )
    assert list(CaseLearningTheme.objects.values_list("theme__name", flat=True)) == [
        "Information sharing"
    ]
    assert (
        AuditEvent.objects.filter(action="learning themes recorded", difference=case).count() == 2
    )


@pytest.mark.parametrize(
    "person", ["raiser", "a_line_manager", "administrator", "q_business_manager"]
)
def test_only_the_business_manager_tags(
    world: World, themes: list[LearningTheme], person: str
) -> None:
    case = difference_at(world, Status.LEARNING_REVIEW)
    with pytest.raises(DifferenceRefused, match="business manager"):
        services.difference_tag_learning_themes(
            actor=getattr(world, person), difference_id=case.pk, theme_ids=[themes[0].pk]
        )


def test_an_open_case_cannot_be_tagged(world: World, themes: list[LearningTheme]) -> None:
    case = difference_at(world, Status.STAGE_2)
    with pytest.raises(DifferenceRefused, match="learning review"):
        services.difference_tag_learning_themes(
            actor=world.business_manager, difference_id=case.pk, theme_ids=[themes[0].pk]
        )


def test_themes_must_be_the_partnerships_and_active(
    world: World, themes: list[LearningTheme]
) -> None:
    case = difference_at(world, Status.CLOSED)
    foreign = LearningTheme.objects.create(partnership=world.other_partnership, name="Q theme")
    themes[2].active = False
    themes[2].save()
    for bad in ([foreign.pk], [themes[2].pk], [999_999]):
        with pytest.raises(DifferenceRefused):
            services.difference_tag_learning_themes(
                actor=world.business_manager, difference_id=case.pk, theme_ids=bad
            )


def test_the_learning_themes_page(
    world: World, themes: list[LearningTheme], client: Client
) -> None:
    case = difference_at(world, Status.LEARNING_REVIEW)
    url = reverse("case_learning_themes", args=[case.pk])
    client.force_login(world.business_manager)
    page = client.get(url)
    assert page.status_code == 200
    assert "Thresholds" in page.content.decode()
    response = client.post(url, {"themes": [themes[0].pk]})
    assert response.status_code == 302
    assert response["Location"] == reverse("case_detail", args=[case.pk])
    assert list(CaseLearningTheme.objects.values_list("theme_id", flat=True)) == [themes[0].pk]
    bad = client.post(url, {"themes": ["nonsense"]})
    assert bad.status_code == 200
    assert "govuk-error-summary" in bad.content.decode()


def test_the_page_is_404_for_anyone_else(
    world: World, themes: list[LearningTheme], client: Client
) -> None:
    case = difference_at(world, Status.LEARNING_REVIEW)
    url = reverse("case_learning_themes", args=[case.pk])
    for person in ("raiser", "a_line_manager", "q_business_manager", "outsider", "administrator"):
        client.force_login(getattr(world, person))
        assert client.get(url).status_code == 404, person
        assert client.post(url, {"themes": [themes[0].pk]}).status_code == 404, person
    assert not CaseLearningTheme.objects.exists()


def test_an_open_case_shows_why_not(
    world: World, themes: list[LearningTheme], client: Client
) -> None:
    case = difference_at(world, Status.STAGE_1)
    client.force_login(world.business_manager)
    response = client.post(
        reverse("case_learning_themes", args=[case.pk]), {"themes": [themes[0].pk]}
    )
    assert response.status_code == 200
    assert "has not reached it yet" in response.content.decode()
    assert not CaseLearningTheme.objects.exists()


def test_administrators_configure_their_own_partnerships_themes(
    world: World, themes: list[LearningTheme], client: Client
) -> None:
    admin = world.administrator
    admin.is_staff = True
    admin.save()
    LearningTheme.objects.create(partnership=world.other_partnership, name="Q only theme")
    client.force_login(admin)
    listing = client.get("/admin/reports/learningtheme/")
    assert listing.status_code == 200
    assert "Thresholds" in listing.content.decode()
    assert "Q only theme" not in listing.content.decode()
    added = client.post(
        "/admin/reports/learningtheme/add/",
        {"partnership": world.partnership.pk, "name": "Drift", "position": 5, "active": "on"},
    )
    assert added.status_code == 302
    assert LearningTheme.objects.filter(partnership=world.partnership, name="Drift").exists()
    foreign = client.post(
        "/admin/reports/learningtheme/add/",
        {"partnership": world.other_partnership.pk, "name": "Sneaky", "position": 1},
    )
    assert foreign.status_code == 200  # not a valid choice for this administrator
    assert not LearningTheme.objects.filter(name="Sneaky").exists()
