"""The home page, the case list and a child's chronology, through the Django test client."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from agencies.models import Category
from escalations import selectors, services
from escalations.models import Notification, NotificationKind, ProfessionalDifference, StageEntry
from escalations.selectors import differences_visible_to
from escalations.services import ChildDetails
from escalations.states import Status
from escalations.views import home as home_views
from escalations.views import lists as list_views
from records.services import entry_record
from tests.conftest import World
from tests.escalations import oracle
from tests.factories.differences import difference_at, raise_difference

pytestmark = pytest.mark.django_db


# -- helpers ----------------------------------------------------------------------------------


def get(client: Any, user: Any, url: str, **params: Any) -> Any:
    client.force_login(user)
    return client.get(url, params)


def listed(response: Any) -> list[int]:
    return [row.pk for row in response.context["rows"]]


def waiting(client: Any, user: Any) -> set[int]:
    response = get(client, user, reverse("home"))
    assert response.status_code == 200
    return {row.pk for row in response.context["waiting"]}


def table_body(response: Any) -> str:
    html = response.content.decode()
    return "".join(re.findall(r"<tbody.*?</tbody>", html, flags=re.S))


def walk(client: Any, user: Any, params: dict[str, str]) -> tuple[list[list[int]], list[Any]]:
    """Follow Next from the first page to the last: the pages' pks and responses."""
    client.force_login(user)
    response = client.get(reverse("case_list"), params)
    pages, responses = [listed(response)], [response]
    while response.context["next_url"]:
        query = {k: v[0] for k, v in parse_qs(urlsplit(response.context["next_url"]).query).items()}
        response = client.get(reverse("case_list"), query)
        assert response.status_code == 200
        pages.append(listed(response))
        responses.append(response)
    return pages, responses


def follow(client: Any, url: str) -> Any:
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    return client.get(reverse("case_list"), query)


def notify(user: Any, case: ProfessionalDifference, subject: str) -> Notification:
    return Notification.objects.create(
        recipient=user,
        difference=case,
        kind=NotificationKind.BREACH,
        subject=subject,
        body="The stage is overdue.",
    )


def many_cases(world: World, n: int) -> list[ProfessionalDifference]:
    """n cases raised by A's practitioner against B, a third in clarification (with a stage
    clock) and a third taken on to Stage 2."""
    made = []
    for i in range(n):
        case = raise_difference(world)
        if i % 3:
            services.difference_start_clarification(actor=world.raiser, difference_id=case.pk)
        if i % 3 == 2:
            services.difference_begin_stage_1(
                actor=world.raiser, difference_id=case.pk, clarification="Checked."
            )
            services.difference_escalate(
                actor=world.raiser, difference_id=case.pk, reason="Not resolved."
            )
        made.append(case)
    return made


def closed_case(world: World) -> tuple[ProfessionalDifference, ProfessionalDifference]:
    """A closed case, and the case at identified that ``difference_at`` leaves on the way."""
    before = set(ProfessionalDifference.objects.values_list("pk", flat=True))
    closed = difference_at(world, Status.CLOSED)
    (stray,) = ProfessionalDifference.objects.exclude(pk__in=[*before, closed.pk])
    return closed, stray


def queries_for(client: Any, user: Any, url: str, **params: Any) -> int:
    client.force_login(user)
    client.get(url, params)  # warm caches (content types) before counting
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(captured)


# -- home: waiting for you ----------------------------------------------------------------------


def test_the_raiser_is_waited_for_until_stage_2_and_again_after_a_partial_outcome_at_stage_1(
    client: Any, world: World
) -> None:
    closed, identified = closed_case(world)
    clarification = difference_at(world, Status.CLARIFICATION)
    stage_1 = difference_at(world, Status.STAGE_1)
    partial_1 = difference_at(world, Status.PARTIALLY_RESOLVED, partial_at=Status.STAGE_1)
    stage_2 = difference_at(world, Status.STAGE_2)
    assert identified.status == Status.IDENTIFIED

    assert waiting(client, world.raiser) == {
        identified.pk,
        clarification.pk,
        stage_1.pk,
        partial_1.pk,
    }
    response = get(client, world.raiser, reverse("home"))
    mine = [row.pk for row in response.context["mine"]]
    assert set(mine) == {
        identified.pk,
        clarification.pk,
        stage_1.pk,
        partial_1.pk,
        stage_2.pk,
        closed.pk,
    }
    assert mine[-1] == closed.pk, "open cases come first"
    assert response.context["oversees"] is False
    assert "My agency&#x27;s cases" not in response.content.decode()


def test_the_named_professional_is_waited_for_at_stage_1_only(client: Any, world: World) -> None:
    stage_1 = difference_at(world, Status.STAGE_1)
    difference_at(world, Status.CLARIFICATION)
    difference_at(world, Status.STAGE_2)
    assert waiting(client, world.b_named) == {stage_1.pk}


def test_line_managers_of_either_party_are_waited_for_at_stage_2(client: Any, world: World) -> None:
    difference_at(world, Status.STAGE_1)
    stage_2 = difference_at(world, Status.STAGE_2)
    partial_2 = difference_at(world, Status.PARTIALLY_RESOLVED, partial_at=Status.STAGE_2)
    difference_at(world, Status.STAGE_3)
    assert waiting(client, world.a_line_manager) == {stage_2.pk, partial_2.pk}
    assert waiting(client, world.b_safeguarding_lead) == {stage_2.pk, partial_2.pk}
    assert waiting(client, world.c_line_manager) == set()


def test_the_other_agencys_senior_manager_is_waited_for_at_stage_3_only(
    client: Any, world: World
) -> None:
    difference_at(world, Status.STAGE_2)
    stage_3 = difference_at(world, Status.STAGE_3)
    difference_at(world, Status.STAGE_4)
    assert waiting(client, world.b_senior_manager) == {stage_3.pk}
    response = get(client, world.b_senior_manager, reverse("home"))
    assert response.context["oversees"] is True
    # B's senior manager sees B's cases from Stage 3 up: these are "my agency's cases".
    assert {row.pk for row in response.context["agency_cases"]} == set(
        differences_visible_to(world.b_senior_manager).values_list("pk", flat=True)
    )


def test_directors_are_waited_for_at_stage_4(client: Any, world: World) -> None:
    stage_4 = difference_at(world, Status.STAGE_4)
    difference_at(world, Status.FINAL_REFERRAL)
    assert waiting(client, world.b_director) == {stage_4.pk}


def test_the_business_manager_is_waited_for_at_final_referral_and_learning_review(
    client: Any, world: World
) -> None:
    difference_at(world, Status.STAGE_2)
    final = difference_at(world, Status.FINAL_REFERRAL)
    learning = difference_at(world, Status.LEARNING_REVIEW)
    difference_at(world, Status.CLOSED)
    assert waiting(client, world.business_manager) == {final.pk, learning.pk}
    assert waiting(client, world.final_body_member) == {final.pk}
    assert waiting(client, world.q_business_manager) == set()
    response = get(client, world.business_manager, reverse("home"))
    assert {row.pk for row in response.context["agency_cases"]} == set(
        ProfessionalDifference.objects.filter(partnership=world.partnership).values_list(
            "pk", flat=True
        )
    )


def test_home_says_plainly_when_nothing_is_there(client: Any, world: World) -> None:
    html = get(client, world.a_line_manager, reverse("home")).content.decode()
    assert "You have no unread notifications." in html
    assert "Nothing is waiting for you." in html
    assert "You have not raised any cases." in html
    assert "There are no cases for your agency that you may see." in html


def test_an_overdue_stage_shows_a_red_overdue_tag(client: Any, world: World) -> None:
    case = difference_at(world, Status.STAGE_2)
    StageEntry.objects.filter(difference=case, left_at__isnull=True).update(
        due_at=timezone.now() - timedelta(days=3)
    )
    html = get(client, world.a_line_manager, reverse("home")).content.decode()
    assert '<strong class="govuk-tag govuk-tag--red">Overdue</strong>' in html
    on_time = difference_at(world, Status.STAGE_1)
    response = get(client, world.raiser, reverse("home"))
    row = next(r for r in response.context["waiting"] if r.pk == on_time.pk)
    assert row.clock_text.endswith("left") and not row.overdue


# -- home: notifications ------------------------------------------------------------------------


def test_home_shows_unread_notifications_newest_first_and_marks_them_read(
    client: Any, world: World
) -> None:
    case = difference_at(world, Status.STAGE_2)
    older = notify(world.a_line_manager, case, "Older notice")
    newer = notify(world.a_line_manager, case, "Newer notice")
    read = notify(world.a_line_manager, case, "Already read notice")
    Notification.objects.filter(pk=read.pk).update(read_at=timezone.now())
    notify(world.b_line_manager, case, "Someone else's notice")

    response = get(client, world.a_line_manager, reverse("home"))
    assert [n.pk for n in response.context["notifications"]] == [newer.pk, older.pk]
    html = response.content.decode()
    assert "Already read notice" not in html and "Someone else" not in html
    assert reverse("notification_read", args=[newer.pk]) in html
    assert reverse("case_detail", args=[case.pk]) in html

    response = client.post(reverse("notification_read", args=[newer.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("home")
    assert "Notification marked as read." in response.content.decode()
    assert [n.pk for n in response.context["notifications"]] == [older.pk]
    assert Notification.objects.get(pk=newer.pk).read_at is not None


def test_only_the_recipient_can_mark_a_notification_read(client: Any, world: World) -> None:
    case = difference_at(world, Status.STAGE_2)
    notice = notify(world.a_line_manager, case, "A's notice")
    client.force_login(world.b_line_manager)
    assert client.post(reverse("notification_read", args=[notice.pk])).status_code == 404
    assert client.post(reverse("notification_read", args=[987654321])).status_code == 404
    client.force_login(world.a_line_manager)
    assert client.get(reverse("notification_read", args=[notice.pk])).status_code == 405
    assert Notification.objects.get(pk=notice.pk).read_at is None


def test_home_caps_notifications_at_twenty(client: Any, world: World) -> None:
    case = difference_at(world, Status.STAGE_2)
    for i in range(23):
        notify(world.a_line_manager, case, f"Notice {i}")
    response = get(client, world.a_line_manager, reverse("home"))
    assert len(response.context["notifications"]) == 20


# -- lists: who sees what, and never a full name ----------------------------------------------


def test_lists_show_initials_and_age_never_the_full_name(client: Any, world: World) -> None:
    born = date.today().replace(year=date.today().year - 9) - timedelta(days=1)
    raise_difference(world, children=[ChildDetails(name="Amira Khan", date_of_birth=born)])
    for url in (reverse("home"), reverse("case_list")):
        html = get(client, world.raiser, url).content.decode()
        assert "AK (9)" in html
        assert "Amira" not in html and "Khan" not in html


def test_each_personas_case_list_is_exactly_their_visible_set(
    client: Any, world: World, monkeypatch: Any
) -> None:
    monkeypatch.setattr(list_views, "PAGE_SIZE", 1000)
    for state in (
        Status.IDENTIFIED,
        Status.STAGE_1,
        Status.STAGE_2,
        Status.STAGE_3,
        Status.STAGE_4,
        Status.FINAL_REFERRAL,
        Status.CLOSED,
    ):
        difference_at(world, state)
    raise_difference(world, other_agencies=[world.agency_c], named_professionals=[])
    for persona in oracle.PERSONAS:
        user = world.people[persona]
        response = get(client, user, reverse("case_list"))
        assert response.status_code == 200
        expected = set(differences_visible_to(user).values_list("pk", flat=True))
        assert sorted(listed(response)) == sorted(expected), persona
        home = get(client, user, reverse("home")).context
        shown_on_home = {r.pk for key in ("waiting", "mine", "agency_cases") for r in home[key]}
        assert shown_on_home <= expected, persona


def test_the_case_list_says_so_when_there_is_nothing_to_see(client: Any, world: World) -> None:
    html = get(client, world.outsider, reverse("case_list")).content.decode()
    assert "There are no cases for you to see." in html
    html = get(client, world.outsider, reverse("case_list"), q="zzz").content.decode()
    assert "No cases match these filters." in html


# -- filters and search -----------------------------------------------------------------------


@pytest.fixture
def filter_cases(world: World) -> dict[str, ProfessionalDifference]:
    second_category = Category.objects.filter(partnership=world.partnership).exclude(
        pk=world.category.pk
    )[0]
    cases = {
        "stage_1": difference_at(world, Status.STAGE_1),
        "stage_2": difference_at(world, Status.STAGE_2),
        "with_c": raise_difference(
            world,
            other_agencies=[world.agency_c],
            named_professionals=[],
            category=second_category,
            children=[ChildDetails(name="Bobby Tables")],
        ),
        "urgent": raise_difference(world, is_urgent=True, urgent_manager=world.a_line_manager),
        "by_lead": raise_difference(world, actor=world.a_safeguarding_lead, named_professionals=[]),
    }
    cases["closed"], cases["identified"] = closed_case(world)
    StageEntry.objects.filter(difference=cases["stage_2"], left_at__isnull=True).update(
        breached_at=timezone.now()
    )
    old = timezone.make_aware(timezone.datetime(2024, 3, 10, 12, 0))
    ProfessionalDifference.objects.filter(pk=cases["closed"].pk).update(raised_at=old)
    return cases


def _filtered(client: Any, user: Any, **params: Any) -> set[int]:
    response = get(client, user, reverse("case_list"), **params)
    assert response.status_code == 200
    assert not response.context["form"].errors, response.context["form"].errors
    return set(listed(response))


def test_every_filter_narrows_the_list(
    client: Any, world: World, filter_cases: dict[str, ProfessionalDifference]
) -> None:
    c = {name: case.pk for name, case in filter_cases.items()}
    bm = world.business_manager
    assert _filtered(client, bm) == set(c.values())
    assert _filtered(client, bm, status="stage_1") == {c["stage_1"]}
    assert _filtered(client, bm, status="closed") == {c["closed"]}
    assert _filtered(client, bm, stage="stage_2") == {c["stage_2"], c["urgent"]}
    assert _filtered(client, bm, agency=world.agency_c.pk) == {c["with_c"]}
    assert _filtered(client, bm, category=filter_cases["with_c"].category_id) == {c["with_c"]}
    assert _filtered(client, bm, breached="on") == {c["stage_2"]}
    assert _filtered(client, bm, urgent="on") == {c["urgent"]}
    assert _filtered(client, world.a_safeguarding_lead, mine="on") == {c["by_lead"]}
    assert _filtered(
        client, bm, raised_to_day="10", raised_to_month="3", raised_to_year="2024"
    ) == {c["closed"]}
    assert _filtered(
        client, bm, raised_from_day="11", raised_from_month="3", raised_from_year="2024"
    ) == set(c.values()) - {c["closed"]}
    assert _filtered(client, bm, status="stage_2", urgent="on") == {c["urgent"]}


def test_search_finds_a_case_by_reference_or_childs_name_and_shows_initials(
    client: Any, world: World, filter_cases: dict[str, ProfessionalDifference]
) -> None:
    bm = world.business_manager
    reference = filter_cases["stage_1"].reference
    assert _filtered(client, bm, q=reference) == {filter_cases["stage_1"].pk}
    assert _filtered(client, bm, q=reference.lower()) == {filter_cases["stage_1"].pk}
    assert _filtered(client, bm, q=f"  {reference[-6:]} ") == {filter_cases["stage_1"].pk}
    response = get(client, bm, reverse("case_list"), q="bobby tables")
    assert listed(response) == [filter_cases["with_c"].pk]
    body = table_body(response)
    assert "BT" in body and "Bobby" not in body


def test_searching_a_childs_name_never_finds_a_case_the_person_may_not_see(
    client: Any, world: World, filter_cases: dict[str, ProfessionalDifference]
) -> None:
    # B is not a party to the case about Bobby; A's other practitioner is no party at all.
    for user in (world.b_line_manager, world.a_other_practitioner, world.q_business_manager):
        assert _filtered(client, user, q="Bobby") == set()
    assert _filtered(client, world.c_line_manager, q="Bobby") == {filter_cases["with_c"].pk}


def test_sorting_by_due_date_puts_the_soonest_first_and_untimed_cases_last(
    client: Any, world: World, filter_cases: dict[str, ProfessionalDifference]
) -> None:
    response = get(client, world.business_manager, reverse("case_list"), sort="due")
    rows = response.context["rows"]
    dues = [row.due_at for row in rows]
    timed = [d for d in dues if d is not None]
    assert timed == sorted(timed)
    assert dues[: len(timed)] == timed, "untimed cases come last"
    assert {row.pk for row in rows if row.due_at is None} == {
        filter_cases["closed"].pk,
        filter_cases["with_c"].pk,
        filter_cases["by_lead"].pk,
        filter_cases["identified"].pk,
    }
    oldest = get(client, world.business_manager, reverse("case_list"), sort="oldest")
    assert listed(oldest)[0] == filter_cases["closed"].pk
    newest = get(client, world.business_manager, reverse("case_list"))
    assert listed(newest) == list(reversed(listed(oldest)))


# -- keyset pagination ----------------------------------------------------------------------


@pytest.mark.parametrize("probe", [False, True], ids=["hashed", "probed"])
@pytest.mark.parametrize("sort", ["newest", "oldest", "due"])
def test_walking_next_returns_every_visible_case_once_and_previous_comes_back(
    client: Any, world: World, monkeypatch: Any, sort: str, probe: bool
) -> None:
    monkeypatch.setattr(list_views, "PAGE_SIZE", 2)
    if probe:
        # As for a person with thousands of grants: each row's grants probed, not hashed.
        monkeypatch.setattr(selectors, "PROBE_FROM_GRANTS", 0)
    cases = many_cases(world, 6)
    difference_at(world, Status.CLOSED)
    # Ties on the sort key must not lose or repeat a case.
    same_moment = timezone.now() - timedelta(days=1)
    ProfessionalDifference.objects.filter(pk__in=[c.pk for c in cases[:3]]).update(
        raised_at=same_moment
    )
    user = world.a_line_manager
    pages, responses = walk(client, user, {"sort": sort})
    walked = [pk for page in pages for pk in page]
    expected = set(differences_visible_to(user).values_list("pk", flat=True))
    assert len(expected) == 8
    assert sorted(walked) == sorted(expected), "every case exactly once"
    assert all(len(page) == 2 for page in pages)
    assert not responses[0].context["previous_url"]
    assert "Showing 1 to 2 cases (more on the next page)" in responses[0].content.decode()
    assert "Showing 7 to 8 of 8 cases" in responses[-1].content.decode()

    # And back again with Previous, page by page.
    response = responses[-1]
    back = [listed(response)]
    while response.context["previous_url"]:
        response = follow(client, response.context["previous_url"])
        back.append(listed(response))
    assert back == list(reversed(pages))
    assert "Showing 1 to 2 cases" in response.content.decode()


def test_previous_from_a_cursor_near_the_start_shows_the_whole_first_page(
    client: Any, world: World, monkeypatch: Any
) -> None:
    monkeypatch.setattr(list_views, "PAGE_SIZE", 2)
    many_cases(world, 4)
    first_page = listed(get(client, world.raiser, reverse("case_list")))
    second = ProfessionalDifference.objects.get(pk=first_page[1])
    cursor = list_views.Cursor(second.raised_at, second.pk).encode()
    response = client.get(reverse("case_list"), {"before": cursor, "start": "2"})
    assert listed(response) == first_page
    assert not response.context["previous_url"]
    assert "Showing 1 to 2 cases" in response.content.decode()


def test_the_list_never_counts_and_gives_the_total_only_on_the_last_page(
    client: Any, world: World, monkeypatch: Any
) -> None:
    monkeypatch.setattr(list_views, "PAGE_SIZE", 2)
    many_cases(world, 3)
    client.force_login(world.raiser)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("case_list"))
    assert not [q for q in captured if "COUNT(" in q["sql"].upper()]
    assert "Showing 1 to 2 cases (more on the next page)" in response.content.decode()
    last = follow(client, response.context["next_url"])
    assert "Showing 3 to 3 of 3 cases" in last.content.decode()


def test_by_due_date_a_page_full_of_running_clocks_does_not_read_the_cases_without_one(
    client: Any, world: World, monkeypatch: Any
) -> None:
    monkeypatch.setattr(list_views, "PAGE_SIZE", 2)
    cases = many_cases(world, 9)  # six with a running clock, three without
    client.force_login(world.business_manager)
    with CaptureQueriesContext(connection) as captured:
        first = client.get(reverse("case_list"), {"sort": "due"})
    list_reads = [
        q["sql"]
        for q in captured
        if 'FROM "escalations_professionaldifference"' in q["sql"] and "LIMIT" in q["sql"]
    ]
    assert len(list_reads) == 1 and "IS NOT NULL" in list_reads[0]
    seen = listed(first)
    response = first
    while response.context["next_url"]:
        response = follow(client, response.context["next_url"])
        seen += listed(response)
    assert sorted(seen) == sorted(case.pk for case in cases)  # the rest still follow


# -- constant query counts ----------------------------------------------------------------------


def test_home_and_case_list_run_the_same_number_of_queries_for_5_and_60_cases(
    client: Any, world: World, monkeypatch: Any
) -> None:
    monkeypatch.setattr(list_views, "PAGE_SIZE", 100)
    monkeypatch.setattr(home_views, "SECTION_SIZE", 100)
    people = (world.raiser, world.a_line_manager, world.business_manager)
    pages = [
        (reverse("home"), {}),
        (reverse("case_list"), {}),
        (reverse("case_list"), {"sort": "due"}),
    ]

    cases = many_cases(world, 5)
    for case in cases[:3]:
        notify(world.a_line_manager, case, "Overdue")
    small = {
        (p.username, url, tuple(params)): queries_for(client, p, url, **params)
        for p in people
        for url, params in pages
    }
    cases += many_cases(world, 55)
    for case in cases[3:20]:
        notify(world.a_line_manager, case, "Overdue")
    response = get(client, world.business_manager, reverse("case_list"))
    assert len(response.context["rows"]) == 60
    response = get(client, world.a_line_manager, reverse("home"))
    assert len(response.context["agency_cases"]) == 60
    assert len(response.context["notifications"]) == 20
    large = {
        (p.username, url, tuple(params)): queries_for(client, p, url, **params)
        for p in people
        for url, params in pages
    }
    assert large == small


# -- a child's chronology -----------------------------------------------------------------------


@pytest.fixture
def amira(world: World) -> dict[str, ProfessionalDifference]:
    born = date(2015, 5, 1)
    with_b = raise_difference(world, children=[ChildDetails(name="Amira Khan", date_of_birth=born)])
    with_c = raise_difference(
        world,
        other_agencies=[world.agency_c],
        named_professionals=[],
        children=[ChildDetails(name="amira khan", date_of_birth=born)],
    )
    namesake = raise_difference(
        world, children=[ChildDetails(name="Amira Khan", date_of_birth=date(2012, 1, 1))]
    )
    entry_record(
        actor=world.raiser,
        difference=with_b,
        kind="call",
        facts="The referral was closed on Monday.",
        opinion="I think the threshold was misread.",
    )
    return {"with_b": with_b, "with_c": with_c, "namesake": namesake}


def _chronology(client: Any, user: Any, case: ProfessionalDifference) -> Any:
    child = case.children.get()
    return get(client, user, reverse("child_chronology", args=[child.pk]))


def _cases_on(response: Any) -> set[int]:
    return {section["case"].pk for section in response.context["sections"]}


def test_a_childs_chronology_gathers_the_visible_cases_about_the_same_child(
    client: Any, world: World, amira: dict[str, ProfessionalDifference]
) -> None:
    response = _chronology(client, world.a_line_manager, amira["with_b"])
    assert response.status_code == 200
    assert _cases_on(response) == {amira["with_b"].pk, amira["with_c"].pk}
    html = response.content.decode()
    assert amira["namesake"].reference not in html
    assert 'class="app-entry__facts govuk-body"' in html
    assert "The referral was closed on Monday." in html
    assert 'class="app-entry__opinion govuk-body"' in html
    assert "I think the threshold was misread." in html
    assert html.index(amira["with_b"].reference) < html.index(amira["with_c"].reference)


def test_a_childs_chronology_shows_only_the_cases_the_viewer_may_see(
    client: Any, world: World, amira: dict[str, ProfessionalDifference]
) -> None:
    response = _chronology(client, world.b_line_manager, amira["with_b"])
    assert _cases_on(response) == {amira["with_b"].pk}
    assert amira["with_c"].reference not in response.content.decode()
    response = _chronology(client, world.c_line_manager, amira["with_c"])
    assert _cases_on(response) == {amira["with_c"].pk}


def test_a_childs_chronology_is_a_404_without_a_visible_case_about_them(
    client: Any, world: World, amira: dict[str, ProfessionalDifference]
) -> None:
    assert _chronology(client, world.c_line_manager, amira["with_b"]).status_code == 404
    assert _chronology(client, world.outsider, amira["with_b"]).status_code == 404
    assert _chronology(client, world.q_business_manager, amira["with_b"]).status_code == 404
    assert _chronology(client, world.a_other_practitioner, amira["with_b"]).status_code == 404
    missing = reverse("child_chronology", args=[987654321])
    assert get(client, world.a_line_manager, missing).status_code == 404


def test_a_child_without_a_date_of_birth_is_not_matched_to_namesakes(
    client: Any, world: World
) -> None:
    first = raise_difference(world, children=[ChildDetails(name="Sam Lee")])
    raise_difference(world, children=[ChildDetails(name="Sam Lee")])
    response = _chronology(client, world.raiser, first)
    assert _cases_on(response) == {first.pk}


def test_a_childs_chronology_runs_a_constant_number_of_queries(client: Any, world: World) -> None:
    born = date(2016, 2, 2)
    details = [ChildDetails(name="Lia Wong", date_of_birth=born)]
    first = raise_difference(world, children=details)
    url = reverse("child_chronology", args=[first.children.get().pk])
    few = queries_for(client, world.a_line_manager, url)
    for _ in range(6):
        case = raise_difference(world, children=details)
        services.difference_start_clarification(actor=world.raiser, difference_id=case.pk)
    response = get(client, world.a_line_manager, url)
    assert len(response.context["sections"]) == 7
    assert queries_for(client, world.a_line_manager, url) == few


# -- bad input never breaks a page ------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"status": "hacked"}, "Choose a status from the list"),
        ({"stage": "stage_9"}, "Choose a stage from the list"),
        ({"sort": "sideways"}, "Choose a sort by from the list"),
        ({"agency": "abc"}, "Choose an agency from the list"),
        ({"agency": "99999999999999999999999"}, "Choose an agency from the list"),
        ({"category": "1 OR 1=1"}, "Choose a category from the list"),
        (
            {"raised_from_day": "31", "raised_from_month": "2", "raised_from_year": "2024"},
            "Raised from must be a real date",
        ),
        ({"raised_to_day": "1", "raised_to_year": "2024"}, "Raised to must include a month"),
        (
            {"raised_to_day": "31", "raised_to_month": "12", "raised_to_year": "9999"},
            "Raised to must be before 3000",
        ),
        (
            {
                "raised_from_day": "2",
                "raised_from_month": "1",
                "raised_from_year": "2025",
                "raised_to_day": "1",
                "raised_to_month": "1",
                "raised_to_year": "2025",
            },
            "Raised to must be the same as or after raised from",
        ),
        ({"q": "x" * 201}, "Ensure this value has at most 200 characters"),
        ({"q": "a\x00b"}, "Null characters are not allowed."),
        ({"after": "garbage"}, list_views.BAD_CURSOR),
        ({"before": "2024-01-01T00:00:00~x"}, list_views.BAD_CURSOR),
        ({"after": "-~5"}, list_views.BAD_CURSOR),
        ({"after": "2024-01-01T00:00:00~5"}, list_views.BAD_CURSOR),
        ({"after": "0001-01-01T00:00:00+05:00~5"}, list_views.BAD_CURSOR),
        ({"after": "2024-01-01T00:00:00+00:00~" + "9" * 30}, list_views.BAD_CURSOR),
        ({"after": "x" * 5000}, list_views.BAD_CURSOR),
        (
            {"after": "2024-01-01T00:00:00+00:00~1", "before": "2024-01-01T00:00:00+00:00~1"},
            list_views.BAD_CURSOR,
        ),
    ],
)
def test_bad_filter_and_cursor_values_give_a_message_not_an_error(
    client: Any, world: World, params: dict[str, str], message: str
) -> None:
    case = difference_at(world, Status.STAGE_2)
    response = get(client, world.a_line_manager, reverse("case_list"), **params)
    assert response.status_code == 200
    html = response.content.decode()
    assert "There is a problem" in html
    assert message.replace("'", "&#x27;") in html
    assert "<title>Error: " in html
    assert listed(response) == [case.pk], "the other filters (none here) still apply"


def test_a_bad_filter_is_ignored_while_the_good_ones_apply(
    client: Any, world: World, filter_cases: dict[str, ProfessionalDifference]
) -> None:
    response = get(
        client, world.business_manager, reverse("case_list"), status="nonsense", urgent="on"
    )
    assert response.status_code == 200
    assert listed(response) == [filter_cases["urgent"].pk]


def test_odd_but_harmless_values_are_ignored(client: Any, world: World) -> None:
    case = difference_at(world, Status.STAGE_2)
    for params in ({"start": "-5"}, {"start": "x"}, {"urgent": "maybe"}, {"q": "   "}):
        response = get(client, world.a_line_manager, reverse("case_list"), **params)
        assert response.status_code == 200
        assert not response.context["form"].errors
        assert listed(response) == ([] if "urgent" in params else [case.pk])


def test_a_cursor_pointing_past_the_end_gives_an_empty_page_not_an_error(
    client: Any, world: World
) -> None:
    difference_at(world, Status.STAGE_2)
    response = get(
        client, world.a_line_manager, reverse("case_list"), after="1990-01-01T00:00:00+00:00~1"
    )
    assert response.status_code == 200
    assert listed(response) == []


def test_ids_too_big_for_the_database_are_a_404_not_an_error(client: Any, world: World) -> None:
    client.force_login(world.a_line_manager)
    huge = 10**30
    assert client.get(reverse("child_chronology", args=[huge])).status_code == 404
    assert client.post(reverse("notification_read", args=[huge])).status_code == 404


def test_every_list_page_needs_signing_in(client: Any, world: World) -> None:
    for url in (reverse("home"), reverse("case_list"), reverse("child_chronology", args=[1])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("sign_in"))
