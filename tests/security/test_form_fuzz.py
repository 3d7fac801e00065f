"""Fuzz every form (hypothesis): random text, unicode, very long values, numbers, other
partnerships' ids and tampered hidden fields, posted to every form page of the app.

Whatever arrives: never a 500 (the test client re-raises any exception), and a post the page
refuses (it answers 200 with the form again) writes nothing: row counts, every case's state,
its clocks, notifications and learning-theme tags are as before. The field names come from the
page itself (every input, textarea and select it shows) plus the matrix's valid payloads, so a
field added later is fuzzed too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from escalations.states import Status
from escalations.views.raise_journey import STEPS
from tests.conftest import World
from tests.factories.differences import difference_at
from tests.security.matrix import ACTION_POSTS, build_matrix_world, sign_in, snapshot

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning"),  # big reprs
]

FUZZ = settings(
    max_examples=12,
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),  # report the example as found
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

TAMPERED = [
    "",
    " ",
    "0",
    "-1",
    "99999999999999999999",
    "1e308",
    "NaN",
    "null",
    "true",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'; DROP TABLE escalations_professionaldifference; --",
    "../../../../etc/passwd",
    '=HYPERLINK("http://x")',
    "\x00",
    "a\x00b",
    "\u202e\u200b\ufeff",
    "🧒🏽" * 50,
    "PD-2026-000001",
    "stage_4/stage_4",
    "final_referral/stage_4",
    "closed/closed",
    "resolved",
    "not_resolved",
    "yes",
    "on",
    "31",
    "2",
    "1999",
    "10000",
]

text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=60)
long_text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), min_size=1, max_size=4).map(
    lambda s: s * 6000
)


def values(ids: list[str]) -> st.SearchStrategy[Any]:
    one = st.one_of(text, long_text, st.integers().map(str), st.sampled_from(TAMPERED + ids))
    return st.one_of(one, st.lists(one, max_size=3))


def field_names(body: str) -> set[str]:
    names = set(re.findall(r'<(?:input|textarea|select)[^>]*\bname="([^"]+)"', body))
    return names - {"csrfmiddlewaretoken"}


def payloads(names: set[str], ids: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    keys = st.sampled_from(sorted(names | {"unexpected_field"}))
    return st.dictionaries(keys, values(ids), max_size=len(names) + 1)


@pytest.fixture
def fuzz_world(world: World) -> Any:
    m = build_matrix_world(world)
    # A case at learning review, for closing and the learning themes.
    m.learning = difference_at(world, Status.LEARNING_REVIEW)
    foreign = [
        str(world.agency_d.pk),
        str(world.other_partnership.pk),
        str(m.themes["q"].pk),
        str(m.cases["q_identified"].pk),
        str(m.cases["cb_identified"].entry.pk),
        str(world.d_practitioner.pk),
    ]
    m.foreign_ids = foreign
    return m


def _fuzz_posts(client: Client, url: str, extra_names: set[str], ids: list[str]) -> Callable:
    shown = client.get(url)
    assert shown.status_code in (200, 302), (url, shown.status_code)
    names = field_names(shown.content.decode()) | extra_names

    @FUZZ
    @given(payload=payloads(names, ids))
    def run(payload: dict[str, Any]) -> None:
        before = snapshot()
        response = client.post(url, payload)
        assert response.status_code in (200, 302, 404), (url, response.status_code)
        if response.status_code != 302:
            assert snapshot() == before, f"{url} refused {payload!r} but wrote something"

    return run


CASE_FORMS = [
    # (URL name, who posts, which case)
    *[(name, "a_practitioner", "ab_stage_2") for name in ACTION_POSTS],
    ("case_escalate", "a_line_manager", "ab_stage_2"),
    ("case_record_outcome", "final_body_member", "ab_final"),
    ("case_start_clarification", "b_practitioner", "ba_identified"),
    ("case_correct_entry", "a_practitioner", "ab_stage_2"),
]


@pytest.mark.parametrize(("name", "persona", "case_key"), CASE_FORMS)
def test_case_action_forms_survive_anything(
    fuzz_world: Any, name: str, persona: str, case_key: str
) -> None:
    m = fuzz_world
    client = Client()
    sign_in(client, m.people[persona])
    case = m.cases[case_key]
    kwargs: dict[str, Any] = {"pk": case.pk}
    if name == "case_correct_entry":
        kwargs["entry_pk"] = case.entry.pk
    url = reverse(name, kwargs=kwargs)
    extra = set(ACTION_POSTS.get(name, lambda t: {})(_target(m, case)))
    _fuzz_posts(client, url, extra, m.foreign_ids)()


def _target(m: Any, case: Any) -> Any:
    from tests.security.matrix import Target

    return Target(m, case)


@pytest.mark.parametrize("action", ["case_close", "case_learning_themes"])
def test_learning_review_forms_survive_anything(fuzz_world: Any, action: str) -> None:
    m = fuzz_world
    client = Client()
    sign_in(client, m.people["business_manager"])
    url = reverse(action, kwargs={"pk": m.learning.pk})
    extra = {"themes", "learning", "protocol_amendment_recommended", "protocol_amendment_note"}
    _fuzz_posts(client, url, extra | {"seen_state"}, m.foreign_ids)()


# Every step of the journey, a new one included.
RAISE_STEPS = sorted(STEPS)


def test_every_step_of_the_raise_journey_survives_anything(fuzz_world: Any) -> None:
    m = fuzz_world
    client = Client()
    sign_in(client, m.people["a_practitioner"])
    names: set[str] = set()
    for step in RAISE_STEPS:
        page = client.get(reverse("raise_step", args=[step]), follow=True)
        names |= field_names(page.content.decode())
    names |= {"agency", "other_agencies", "named", "category", "context", "issue", "child"}

    @FUZZ
    @given(step=st.sampled_from(RAISE_STEPS), payload=payloads(names, m.foreign_ids))
    def run(step: str, payload: dict[str, Any]) -> None:
        before = snapshot()
        response = client.post(reverse("raise_step", args=[step]), payload)
        assert response.status_code in (200, 302)
        location = response.get("Location", "")
        if not re.match(r"^/cases/\d+/$", location):
            assert snapshot() == before, f"{step} with {payload!r} wrote something"

    run()


def test_the_lists_and_the_report_survive_any_query(fuzz_world: Any) -> None:
    m = fuzz_world
    client = Client()
    names = {
        "q", "status", "stage", "agency", "category", "breached", "urgent", "mine", "sort",
        "raised_from_day", "raised_from_month", "raised_from_year", "raised_to_day",
        "raised_to_month", "raised_to_year", "after", "before", "start", "partnership",
        "period", "start_day", "start_month", "start_year", "end_day", "end_month",
        "end_year", "exact",
    }  # fmt: skip
    urls = [
        reverse("case_list"),
        reverse("home"),
        reverse("report"),
        reverse("report_download", args=["csv"]),
        reverse("report_download", args=["xlsx"]),
    ]

    @FUZZ
    @given(
        persona=st.sampled_from(["business_manager", "administrator", "a_line_manager"]),
        url=st.sampled_from(urls),
        query=payloads(names, m.foreign_ids),
    )
    def run(persona: str, url: str, query: dict[str, Any]) -> None:
        sign_in(client, m.people[persona])
        response = client.get(url, query)
        assert response.status_code in (200, 302, 404)

    run()


def test_the_sign_in_form_survives_anything(fuzz_world: Any) -> None:
    """Every example is a failed sign-in: django-axes' count is reset before each, so that the
    fuzz keeps reaching the form rather than the lockout page (the lockout has its own tests
    in tests/accounts)."""
    from axes.utils import reset

    client = Client()
    names = field_names(client.get(reverse("sign_in")).content.decode())
    assert "login" in names and "password" in names

    @FUZZ
    @given(payload=payloads(names | {"username", "next"}, ["a_practitioner"]))
    def run(payload: dict[str, Any]) -> None:
        reset()
        before = snapshot()
        response = client.post(reverse("sign_in"), payload)
        assert response.status_code in (200, 302)
        if response.status_code == 302:
            assert response["Location"].startswith("/")  # never off-site
        assert snapshot() == before

    run()


ADMINISTRATION_FORMS = [
    ("retention_legal_hold", {"on_hold", "reason"}),
    ("retention_anonymise", {"confirm"}),
]


@pytest.mark.parametrize(("name", "extra"), ADMINISTRATION_FORMS)
def test_the_administration_forms_survive_anything(
    fuzz_world: Any, name: str, extra: set[str]
) -> None:
    """Legal hold and anonymisation, by the administrator, on an open case (not due for
    anonymisation: every confirmation is refused, and nothing is written)."""
    m = fuzz_world
    client = Client()
    sign_in(client, m.people["administrator"])
    url = reverse(name, kwargs={"pk": m.cases["ab_stage_2"].pk})
    _fuzz_posts(client, url, extra, m.foreign_ids)()


def test_the_administration_searches_survive_any_query(fuzz_world: Any) -> None:
    m = fuzz_world
    client = Client()
    sign_in(client, m.people["administrator"])
    names = {
        "partnership", "person", "case", "before", "reference", "name",
        "date_of_birth_day", "date_of_birth_month", "date_of_birth_year",
    }  # fmt: skip
    urls = [reverse("access_log"), reverse("retention_due"), reverse("subject_access_search")]

    @FUZZ
    @given(url=st.sampled_from(urls), query=payloads(names, m.foreign_ids))
    def run(url: str, query: dict[str, Any]) -> None:
        before = snapshot()
        response = client.get(url, query)
        assert response.status_code in (200, 302)
        assert snapshot() == before

    run()
