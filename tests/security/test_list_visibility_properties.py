"""Lists and searches show exactly the cases spec §5 allows (property-based).

Hypothesis builds random cases across the agencies of two partnerships (random raiser, other
parties, named person, how far each climbed) and a random viewer and filters; the case list
view's rows, read across every page (the page size is made small so there are several), must
equal as a set the selector's visible set narrowed by the same filters, and the selector's set
must equal spec §5 written out independently (``tests.security.matrix.may_see``).
"""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from escalations import services
from escalations.models import Context, ProfessionalDifference
from escalations.selectors import differences_visible_to
from escalations.services import ChildDetails, NamedProfessionalDetails
from escalations.states import Status
from escalations.views import lists
from tests.conftest import build_world
from tests.factories.directory import AgencyFactory
from tests.security.matrix import PERSONAS, Case, may_see, sign_in

pytestmark = pytest.mark.django_db

AGENCIES = {"p": "abc", "q": "de"}
CLIMB = ("identified", "clarification", Status.STAGE_1, Status.STAGE_2, Status.STAGE_3)
VIEWERS = [p for p in PERSONAS if p not in ("anonymous", "staff_without_role")]
NAMES = ("Ava Stone", "Ben Stone", "Cara Moss", "Dev Patel")

case_spec = st.fixed_dictionaries(
    {
        "partnership": st.sampled_from(["p", "p", "q"]),
        "raiser": st.integers(0, 2),
        "others": st.sets(st.integers(0, 2), min_size=1, max_size=2),
        "named": st.booleans(),
        "climb": st.integers(0, len(CLIMB) - 1),
        "child": st.sampled_from(NAMES),
    }
)


def _make_case(world: Any, agencies: dict[str, Any], spec: dict[str, Any], n: int) -> Case | None:
    letters = AGENCIES[spec["partnership"]]
    raisers = letters if spec["partnership"] == "p" else "d"  # agency E has no people
    raiser_letter = raisers[spec["raiser"] % len(raisers)]
    others = sorted({letters[i % len(letters)] for i in spec["others"]} - {raiser_letter})
    if not others:
        return None
    raiser = world.people[f"{raiser_letter}_practitioner"]
    named_letter = others[0]
    named_persona = f"{named_letter}_practitioner" if spec["named"] else None
    if named_persona not in world.people:
        named_persona = None
    named = [
        NamedProfessionalDetails(
            agency=agencies[named_letter],
            name="Named",
            user=world.people[named_persona] if named_persona else None,
        )
    ]
    partnership = world.partnership if spec["partnership"] == "p" else world.other_partnership
    difference = services.difference_raise(
        actor=raiser,
        raiser_agency=agencies[raiser_letter],
        children=[ChildDetails(name=f"{spec['child']} {n}")],
        other_agencies=[agencies[letter] for letter in others],
        category=partnership.categories.first(),
        context=Context.OPEN_CASE,
        issue="A difference.",
        named_professionals=named,
    )
    pk = difference.pk
    steps = [
        lambda: services.difference_start_clarification(actor=raiser, difference_id=pk),
        lambda: services.difference_begin_stage_1(
            actor=raiser, difference_id=pk, clarification="Checked."
        ),
        lambda: services.difference_escalate(actor=raiser, difference_id=pk, reason="No."),
        lambda: services.difference_escalate(
            actor=world.people[f"{raiser_letter}_line_manager"],
            difference_id=pk,
            reason="No.",
            oversight_note="Seen.",
        ),
    ]
    for step in steps[: spec["climb"]]:
        step()
    return Case(
        key=f"case{n}",
        difference=ProfessionalDifference.objects.get(pk=pk),
        raiser=f"{raiser_letter}_practitioner",
        parties=frozenset([raiser_letter, *others]),
        named=frozenset([named_persona] if named_persona else []),
        partnership=spec["partnership"],
        highest=CLIMB[spec["climb"]],
        child_name=f"{spec['child']} {n}",
    )


def _listed(client: Client, params: dict[str, str]) -> set[int]:
    """Every case the list shows, following "Next" to the last page."""
    found: set[int] = set()
    url: str | None = "/cases/"
    query: dict[str, str] | None = params
    for _ in range(100):
        assert url is not None
        response = client.get(url, query)
        assert response.status_code == 200
        body = response.content.decode()
        found |= {int(pk) for pk in re.findall(r'href="/cases/(\d+)/"', body)}
        following = re.search(r'href="([^"]+)" rel="next"', body)
        if following is None:
            return found
        url, query = html.unescape(following.group(1)), None
        if url.startswith("?"):
            url = "/cases/" + url
    raise AssertionError("the list never ended")


@settings(
    max_examples=12,
    deadline=None,
    # No shrinking: a failing example is printed as found (shrinking one costs minutes).
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    specs=st.lists(case_spec, min_size=1, max_size=7),
    viewer=st.sampled_from(VIEWERS),
    search=st.sampled_from(["", "Stone", "Cara", "PD-", "zzz"]),
    status=st.sampled_from(["", "identified", Status.STAGE_1, Status.STAGE_2]),
    sort=st.sampled_from(["newest", "oldest", "due"]),
)
def test_the_case_list_shows_exactly_the_visible_set(
    db: Any,
    monkeypatch: pytest.MonkeyPatch,
    specs: list[dict[str, Any]],
    viewer: str,
    search: str,
    status: str,
    sort: str,
) -> None:
    monkeypatch.setattr(lists, "PAGE_SIZE", 2)
    with transaction.atomic():
        world = build_world()
        agencies = {
            "a": world.agency_a,
            "b": world.agency_b,
            "c": world.agency_c,
            "d": world.agency_d,
            "e": AgencyFactory(partnership=world.other_partnership, name="E police"),
        }
        cases = [
            case
            for n, spec in enumerate(specs)
            if (case := _make_case(world, agencies, spec, n)) is not None
        ]
        user = world.people[viewer]
        # The selector is spec §5.
        selector = set(differences_visible_to(user).values_list("pk", flat=True))
        oracle = {case.pk for case in cases if may_see(viewer, case)}
        assert selector == oracle
        client = Client()
        sign_in(client, user)
        # Unfiltered, and with search, status filter and sort.
        assert _listed(client, {}) == selector
        params = {"q": search, "status": status, "sort": sort}
        expected = set()
        for case in cases:
            if case.pk not in selector:
                continue
            difference = ProfessionalDifference.objects.get(pk=case.pk)
            if status and difference.status != status:
                continue
            if search and not (
                search.lower() in case.child_name.lower()
                or search.lower() in difference.reference.lower()
            ):
                continue
            expected.add(case.pk)
        assert _listed(client, params) == expected
        transaction.set_rollback(True)
