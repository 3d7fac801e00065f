"""Authorization proven on every URL: every pattern × every persona × every kind of case.

* ``test_every_url_pattern_has_a_row``: walks the resolver (the app, the reports, the records,
  the admin) and fails for a pattern the matrix (``tests/security/matrix.py``) has no row for.
* ``test_the_matrix``: every persona of spec §5 (and the anonymous visitor, an outsider, a staff
  account without a role, a superuser) tries every URL on every case of the matrix world: their
  own, another party agency's, one their agency is not party to, one of another partnership. A
  case they may not see is 404 on every page, action, download and child chronology; a POST by
  anyone refused changes nothing. Every page they may see mentions no case they may not see.
  Signed in freshly re-authenticated, a permitted download is 200; with a session that has
  not re-authenticated for 10 minutes, the case record PDF, the report download and the
  subject access exports send a permitted person to "Confirm it is you" and are still 404
  for anyone else. It runs in chunks of personas (``CHUNKS``) so pytest-xdist spreads it;
  each chunk needs its share of the 500 cross-agency attempts (``pytest -rP`` shows counts).
* Searches return exactly the cases spec §5 allows.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from escalations.states import Status
from tests.conftest import World
from tests.escalations import oracle
from tests.security.matrix import (
    ANONYMOUS,
    CASE_SCOPES,
    PERSONAS,
    STAFF_WITHOUT_ROLE,
    Case,
    MatrixWorld,
    Row,
    Target,
    all_rows,
    build_matrix_world,
    may_see,
    reports_of,
    sign_in,
    snapshot,
    url_patterns,
)

pytestmark = pytest.mark.django_db

ADMINS = {"administrator", "superuser"}
ADMINISTRATION_SCOPES = ("partnership_admin", "case_admin", "child_admin")
REAUTHENTICATE = ("/account/reauthenticate/", "/account/two-factor/reauthenticate/")
LAST = ("sign_out", "admin_logout")  # they end the session: tried after everything else


@pytest.fixture
def matrix(world: World) -> MatrixWorld:
    return build_matrix_world(world)


def test_every_url_pattern_has_a_row() -> None:
    rows = all_rows()
    patterns = url_patterns()
    missing = sorted({p.key for p in patterns} - set(rows))
    assert not missing, (
        "These URL patterns have no row in tests/security/matrix.py ROWS: say who may reach "
        f"them: {missing}"
    )
    stale = sorted(set(rows) - {p.key for p in patterns})
    assert not stale, f"Rows for URL patterns that no longer exist: {stale}"


# -- what each persona must get ---------------------------------------------------------------


def _login_redirect(response: Any, admin_login: bool = False) -> bool:
    where = response.get("Location", "")
    expected = "/admin/login/" if admin_login else "/sign-in/"
    return response.status_code == 302 and where.startswith(expected)


def expected(
    scope: str, persona: str, method: str, t: Target, permitted: frozenset[int] = frozenset({200})
) -> set[int] | str:
    """The statuses ``persona`` may get (a set), or "login"/"admin-login" for a redirect to
    that sign-in page."""
    signed_in = persona != ANONYMOUS
    if scope == "public":
        return {200} if not signed_in else {200, 302}
    if scope == "sign_out":
        return {302}
    if scope == "admin_logout":
        return {200, 302}  # signing oneself out is no privilege
    if scope == "admin_login":
        # allauth's secure_admin_login: the service's sign-in for the anonymous, refused for
        # anyone signed in who is not staff, the admin's own page (or index) for staff.
        if not signed_in:
            return "login"
        if persona in ADMINS:
            return {200, 302}
        return {200, 302} if persona == STAFF_WITHOUT_ROLE else {403}
    if scope.startswith("admin"):
        if persona not in ADMINS:
            return "admin-login"
        if scope == "admin":
            return {200}
        if scope == "admin_add":
            return {200, 403}  # some models are added only through the app's services
        if scope == "admin_changelist":
            return {200} if persona == "superuser" else {200, 403}
        if scope == "admin_foreign_object":
            return {200, 302, 403} if persona == "superuser" else {302, 403, 404}
        return {200, 302, 400, 403, 404}  # admin_api: anything but a crash
    if scope == "redirect":
        return {302}
    if not signed_in:
        return "login"
    if scope == "own_account":
        return set(permitted)
    if scope == "mid_sign_in":
        return {302}
    if scope == "partnership_admin":
        return {200} if persona == "administrator" else {404}
    if scope == "signed_in":
        return {200} if method == "GET" else {200, 302}
    if scope == "own_notification":
        return {302} if persona == "a_practitioner" else {404}
    if scope == "report":
        return {200} if reports_of(persona) else {404}
    assert t.case is not None
    if scope == "case":
        return {200} if may_see(persona, t.case) else {404}
    if scope == "case_business_manager":
        bm = {"p": "business_manager", "q": "q_business_manager"}[t.case.partnership]
        return {200} if may_see(persona, t.case) and persona == bm else {404}
    if scope in ("case_admin", "child_admin"):
        # Administration, not casework: the administrator of the case's partnership only.
        return {200} if persona == "administrator" and t.case.partnership == "p" else {404}
    raise AssertionError(f"unknown scope {scope}")


def _hidden_from(persona: str, m: MatrixWorld, scope: str) -> list[Case]:
    """The cases whose reference and children must not appear on a page ``persona`` gets."""
    if scope.startswith("admin") or scope in ADMINISTRATION_SCOPES:
        # The admin and the administration pages show an administrator their own
        # partnership's cases, by design.
        own = "p" if persona in ("administrator",) else None
        return [c for c in m.cases.values() if persona != "superuser" and c.partnership != own]
    return [c for c in m.cases.values() if not may_see(persona, c)]


def _leaks(body: str, hidden: list[Case]) -> list[str]:
    found = []
    for case in hidden:
        if re.search(rf"{re.escape(case.reference)}(?!\d)", body):
            found.append(case.reference)
        if case.child_name in body:
            found.append(case.child_name)
    return found


class Attempts:
    """Counts the attempts and collects every wrong answer, to report them all at once."""

    def __init__(self) -> None:
        self.count = 0
        self.cross_agency = 0
        self.failures: list[str] = []
        self.by_status: Counter[int] = Counter()
        self.reauthentication_asked = 0

    def check(
        self,
        client: Client,
        persona: str,
        name: str,
        row: Row,
        t: Target,
        method: str,
        m: MatrixWorld,
        stale: bool = False,
    ) -> None:
        """``stale``: the client signed in more than 10 minutes ago without re-authenticating
        since: a download the person may have asks for the password again instead."""
        kwargs = row.kwargs(t) if row.kwargs else ({"pk": t.case.pk} if t.case else {})
        url = _route_url(name, kwargs) if "/" in name else reverse(name, kwargs=kwargs)
        if row.scope == "report":
            own = m.world.other_partnership if persona.startswith("q_") else m.world.partnership
            url += f"?partnership={own.pk}"
        if method == "GET":
            response = client.get(url)
        else:
            assert row.post is not None
            response = client.post(url, row.post(t))
        self.count += 1
        self.by_status[response.status_code] += 1
        want: set[int] | str = expected(row.scope, persona, method, t, row.permitted)
        if stale and want == {200}:
            want = "reauthenticate"
        case_text = f" on {t.case.key}" if t.case else ""
        stale_text = " (not re-authenticated)" if stale else ""
        where = f"{persona}{stale_text} {method} {name}{case_text} ({url}): {response.status_code}"
        if want == "reauthenticate":
            ok = response.status_code == 302 and response.get("Location", "").startswith(
                REAUTHENTICATE
            )
            self.reauthentication_asked += 1
        elif want == "login":
            ok = _login_redirect(response)
        elif want == "admin-login":
            ok = _login_redirect(response, admin_login=True)
        else:
            ok = response.status_code in want
        if not ok:
            self.failures.append(f"{where}, expected {want}")
        # A cross-agency attempt: a case the person may not see at all (or another
        # partnership's report, another person's notice), refused with 404.
        if (
            response.status_code == 404
            and persona != ANONYMOUS
            and (
                (row.scope in CASE_SCOPES and t.case is not None and not may_see(persona, t.case))
                or row.scope in ("report", "own_notification")
            )
        ):
            self.cross_agency += 1
        if row.scope == "admin_changelist" and persona == "administrator":
            foreign = m.foreign_admin_objects[row.model]
            change = reverse(
                f"admin:{foreign._meta.app_label}_{foreign._meta.model_name}_change",
                args=[foreign.pk],
            )
            if change.encode() in response.content:
                self.failures.append(f"{where} lists {foreign!r} of the other partnership")
        content_type = response.get("Content-Type", "")
        if response.status_code == 200 and content_type.startswith("text/"):
            body = response.content.decode(errors="replace")
            leaked = _leaks(body, _hidden_from(persona, m, row.scope))
            if leaked:
                self.failures.append(f"{where} shows what they may not see: {leaked}")


def _route_url(route: str, kwargs: dict[str, Any]) -> str:
    """The URL of an unnamed pattern (the admin's object redirect and catch-all)."""
    if "(?P<url>" in route:
        return "/admin/" + kwargs["url"]
    return "/" + route.replace("<path:object_id>", str(kwargs["object_id"]))


# The matrix in chunks of personas, so that pytest-xdist spreads them over its processes. Each
# chunk builds the world afresh; together they are every persona exactly once.
CHUNKS: tuple[tuple[str, ...], ...] = (
    (ANONYMOUS, "outsider", STAFF_WITHOUT_ROLE, "superuser"),
    ("a_practitioner", "a_other_practitioner", "a_line_manager"),
    ("a_safeguarding_lead", "a_senior_manager", "a_director"),
    ("b_practitioner", "b_line_manager", "b_safeguarding_lead"),
    ("b_senior_manager", "b_director", "c_practitioner", "c_line_manager"),
    ("c_safeguarding_lead", "c_senior_manager", "c_director", "d_practitioner"),
    ("d_line_manager", "d_safeguarding_lead", "d_senior_manager", "d_director"),
    ("business_manager", "final_body_member", "administrator", "q_business_manager",
     "q_final_body_member"),
)  # fmt: skip
CROSS_AGENCY_TOTAL = 500
CROSS_AGENCY_PER_CHUNK = math.ceil(CROSS_AGENCY_TOTAL / len(CHUNKS))

# The admin site refuses anyone who is not staff at its door (``PartnershipAdminSite.
# has_permission``), before any model is looked at: for people who are not staff, a few
# representatives (one with no role at all, a practitioner, each partnership's business
# manager) try every admin page; every staff persona and the anonymous visitor try them all.
ADMIN_DOOR_REPRESENTATIVES = {ANONYMOUS, "outsider", "a_practitioner", "business_manager",
                              "q_business_manager"}  # fmt: skip


def test_the_chunks_are_every_persona_once() -> None:
    flat = [persona for chunk in CHUNKS for persona in chunk]
    assert sorted(flat) == sorted(PERSONAS)
    assert 6 <= len(CHUNKS) <= 10


def _tries_the_admin(persona: str, m: MatrixWorld) -> bool:
    user = m.user(persona)
    return persona in ADMIN_DOOR_REPRESENTATIVES or bool(user and user.is_staff)


def _permitted(row: Row, persona: str, t: Target) -> bool:
    return expected(row.scope, persona, "GET", t, row.permitted) == {200}


def _renders(row: Row, persona: str, case: Case) -> bool:
    """A heavy page (a PDF) is rendered for one permitted person per case: the raiser (the
    administrator for administration pages); everyone refused always tries it."""
    if row.scope in ADMINISTRATION_SCOPES:
        return persona == "administrator"
    return persona == case.raiser


def run_matrix(m: MatrixWorld, personas: tuple[str, ...]) -> Attempts:
    rows = all_rows()
    ordered = sorted(rows.items(), key=lambda item: item[1].scope in LAST)
    downloads = [(name, row) for name, row in ordered if row.download]
    attempts = Attempts()
    client = Client()
    stale = Client()
    for persona in personas:
        sign_in(client, m.user(persona))
        admin_too = _tries_the_admin(persona, m)
        # Pages that belong to no case.
        for name, row in ordered:
            if row.scope in CASE_SCOPES:
                continue
            if row.scope.startswith("admin") and not admin_too:
                continue
            if row.scope == "own_notification" and persona == "a_practitioner":
                continue  # marking one's own notice read is the journey tests' business
            t = Target(m)
            before = snapshot() if row.post else None
            if row.get and not (row.heavy and persona not in ("a_practitioner", ANONYMOUS)):
                attempts.check(client, persona, name, row, t, "GET", m)
            if row.post and row.scope not in ("signed_in",):
                attempts.check(client, persona, name, row, t, "POST", m)
                if row.scope in ("sign_out", "admin_logout"):
                    sign_in(client, m.user(persona))
                elif snapshot() != before:
                    attempts.failures.append(f"{persona} POST {name} changed something")
        # Every page, action, download and child of every case.
        for case in m.cases.values():
            t = Target(m, case)
            before = snapshot()
            for name, row in ordered:
                if row.scope not in CASE_SCOPES:
                    continue
                permitted = _permitted(row, persona, t)
                if row.get and not (row.heavy and permitted and not _renders(row, persona, case)):
                    attempts.check(client, persona, name, row, t, "GET", m)
                if row.post and not permitted:
                    attempts.check(client, persona, name, row, t, "POST", m)
            if snapshot() != before:
                attempts.failures.append(f"{persona}'s attempts on {case.key} changed it")
        # Downloads with a session not re-authenticated in the last 10 minutes: the password
        # again for what the person may have, and still 404 for what they may not.
        if persona != ANONYMOUS:
            # (Signed in only now: the sign-out rows above end every session of the person.)
            sign_in(stale, m.user(persona), fresh=False)
            for name, row in downloads:
                targets = (
                    [Target(m, case) for case in m.cases.values()]
                    if row.scope in CASE_SCOPES
                    else [Target(m)]
                )
                for t in targets:
                    attempts.check(stale, persona, name, row, t, "GET", m, stale=True)
    return attempts


@pytest.mark.parametrize("chunk", range(len(CHUNKS)), ids=lambda i: "+".join(CHUNKS[i]))
def test_the_matrix(matrix: MatrixWorld, chunk: int) -> None:
    personas = CHUNKS[chunk]
    attempts = run_matrix(matrix, personas)
    # Captured, so that pytest-xdist carries it back: `pytest -rP` (or -s) shows it.
    print(
        f"\nURL matrix chunk {chunk + 1}/{len(CHUNKS)} ({', '.join(personas)}): "
        f"{attempts.count} requests on {len(matrix.cases)} cases; {attempts.cross_agency} "
        f"cross-agency attempts, all refused with 404; {attempts.reauthentication_asked} "
        f"downloads asked for re-authentication; statuses "
        f"{dict(sorted(attempts.by_status.items()))}"
    )
    assert not attempts.failures, "\n".join(attempts.failures[:80])
    assert attempts.cross_agency >= CROSS_AGENCY_PER_CHUNK
    if any(p != ANONYMOUS for p in personas):
        assert attempts.reauthentication_asked or not any(
            _permitted(row, p, Target(matrix, c))
            for p in personas
            for row in all_rows().values()
            if row.download and row.scope in CASE_SCOPES
            for c in matrix.cases.values()
        )


def test_tampered_ids_mixing_a_visible_and_a_hidden_case_are_404(matrix: MatrixWorld) -> None:
    """An entry of a hidden case under a visible case's URL (and the reverse) is 404."""
    client = Client()
    sign_in(client, matrix.user("a_practitioner"))
    mine, hidden = matrix.cases["ab_stage_2"], matrix.cases["cb_identified"]
    before = snapshot()
    for name in ("case_entry_copy", "case_correct_entry"):
        for case, entry in ((mine, hidden.entry), (hidden, mine.entry)):
            url = reverse(name, kwargs={"pk": case.pk, "entry_pk": entry.pk})
            assert client.get(url).status_code == 404, url
            assert client.post(url, {"reason": "x", "facts": "y"}).status_code == 404, url
    theme_q = matrix.themes["q"].pk
    sign_in(client, matrix.user("business_manager"))
    url = reverse("case_learning_themes", kwargs={"pk": matrix.cases["ab_final"].pk})
    response = client.post(url, {"themes": [theme_q]})
    assert response.status_code == 200  # the form again, refusing the foreign theme
    assert snapshot() == before


@pytest.mark.parametrize("persona", [p for p in PERSONAS if p != ANONYMOUS])
def test_search_finds_exactly_the_cases_spec_5_allows(matrix: MatrixWorld, persona: str) -> None:
    client = Client()
    sign_in(client, matrix.user(persona))
    for case in matrix.cases.values():
        for query in (case.reference, case.child_name, case.child_name.split()[1][:6]):
            body = client.get(reverse("case_list"), {"q": query}).content.decode()
            listed = reverse("case_detail", args=[case.pk]) in body
            assert listed == may_see(persona, case), (persona, case.key, query)


def test_the_report_of_another_partnership_is_404(matrix: MatrixWorld) -> None:
    client = Client()
    for persona, other in (
        ("business_manager", matrix.world.other_partnership),
        ("administrator", matrix.world.other_partnership),
        ("q_business_manager", matrix.world.partnership),
    ):
        sign_in(client, matrix.user(persona))
        for url in (reverse("report"), reverse("report_download", args=["csv"])):
            assert client.get(url, {"partnership": other.pk}).status_code == 404, (persona, url)


def test_a_person_removed_from_their_agency_loses_access_on_the_next_request(
    matrix: MatrixWorld,
) -> None:
    from agencies.services import agency_membership_revoke

    client = Client()
    manager = matrix.user("b_line_manager")
    sign_in(client, manager)
    url = reverse("case_detail", args=[matrix.cases["ab_stage_2"].pk])
    assert client.get(url).status_code == 200
    agency_membership_revoke(membership=manager.agency_memberships.get())
    assert client.get(url).status_code == 404


def test_the_oracles_agree_on_the_climbing_case(matrix: MatrixWorld) -> None:
    """The matrix's spec §5 and the visibility tests' oracle say the same of an A→B case."""
    for key in ("ab_stage_2", "ab_final"):
        case = matrix.cases[key]
        for persona in oracle.PERSONAS:
            name = "a_practitioner" if persona == oracle.RAISER else persona
            highest = Status.FINAL_REFERRAL if key == "ab_final" else Status.STAGE_2
            assert may_see(name, case) == oracle.may_see(persona, highest), (persona, key)


def test_the_admin_autocomplete_offers_no_one_of_another_partnership(matrix: MatrixWorld) -> None:
    client = Client()
    sign_in(client, matrix.user("administrator"))
    params = {"app_label": "agencies", "model_name": "agencymembership", "field_name": "user"}
    for term in ("d_", "q_", "a_"):
        response = client.get(reverse("admin:autocomplete"), {**params, "term": term})
        assert response.status_code == 200
        names = {result["text"] for result in response.json()["results"]}
        assert not any(name.startswith(("d_", "q_")) for name in names), names
        if term == "a_":
            assert "a_practitioner" in names


def test_a_staff_account_without_the_administrator_role_is_kept_out(matrix: MatrixWorld) -> None:
    client = Client()
    sign_in(client, matrix.user("staff_without_role"))
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


TRANSITION_ACTIONS = {
    "case_start_clarification": "start_clarification",
    "case_begin_stage_1": "begin_stage_1",
    "case_withdraw": "withdraw",
    "case_record_outcome": "resolve",
    "case_accept_partial_outcome": "accept_partial_outcome",
    "case_close": "close",
}


@pytest.mark.parametrize("case_key", ["ab_stage_2", "ab_final"])
def test_a_person_who_sees_a_case_but_may_not_act_changes_nothing(
    matrix: MatrixWorld, case_key: str
) -> None:
    """Seeing a case is not acting on it: every move spec §3 does not give this person (the
    oracle of the transition tests) is refused with the form again, and nothing changes."""
    from tests.security.matrix import ACTION_POSTS

    case = matrix.cases[case_key]
    status = case.difference.status
    escalate = {Status.STAGE_2: "escalate_to_stage_3", Status.FINAL_REFERRAL: ""}[status]
    actions = {**TRANSITION_ACTIONS, **({"case_escalate": escalate} if escalate else {})}
    client = Client()
    tried = 0
    for persona in PERSONAS:
        if not may_see(persona, case):
            continue
        sign_in(client, matrix.user(persona))
        name_in_oracle = oracle.RAISER if persona == "a_practitioner" else persona
        for action, method in actions.items():
            if name_in_oracle in oracle.allowed(method, status, case.difference.stage):
                continue
            before = snapshot()
            url = reverse(action, args=[case.pk])
            response = client.post(url, ACTION_POSTS[action](Target(matrix, case)))
            assert response.status_code == 200, (persona, action, response.status_code)
            assert snapshot() == before, (persona, action)
            tried += 1
    assert tried >= 20


def test_the_sign_in_records_are_for_superusers_only_in_the_admin(matrix: MatrixWorld) -> None:
    """allauth's and django-axes' own admins list every person of every partnership: a
    partnership administrator (even holding their "view" permissions) is refused them."""
    from agencies.admin import SUPERUSER_ONLY_MODELS

    client = Client()
    for persona, status in (("administrator", 403), ("superuser", 200)):
        sign_in(client, matrix.user(persona))
        for label in SUPERUSER_ONLY_MODELS:
            app_label, model = label.lower().split(".")
            url = reverse(f"admin:{app_label}_{model}_changelist")
            assert client.get(url).status_code == status, (persona, url)


def test_the_access_log_is_read_only_in_the_admin(matrix: MatrixWorld) -> None:
    from records.models import AccessEvent

    event = matrix.foreign_admin_objects["records.AccessEvent"]
    client = Client()
    sign_in(client, matrix.user("superuser"))
    count = AccessEvent.objects.count()
    assert client.get(reverse("admin:records_accessevent_add")).status_code == 403
    delete = reverse("admin:records_accessevent_delete", args=[event.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    change = reverse("admin:records_accessevent_change", args=[event.pk])
    assert client.post(change, {"username": "someone_else"}).status_code == 403
    event.refresh_from_db()
    assert event.username == "d_practitioner"
    # Every request above is itself logged: the log only grows.
    assert AccessEvent.objects.count() >= count
