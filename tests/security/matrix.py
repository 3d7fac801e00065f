"""The authorization matrix: every URL of the project, who may reach it, and the world to try.

``ROWS`` has one row per URL pattern (by its name, or its route when it has none). A row says
what decides access to it (its ``scope``) and, for a URL that changes something, a
valid-looking ``post`` payload. ``expected_status`` turns a scope into the status each persona
must get. ``test_url_matrix.py`` fails when a URL pattern has no row here, so a new page cannot
ship without saying who may see it.

Adding a page later is one line, e.g.::

    "audit_log": Row("partnership_admin"),
    "case_subject_access": Row("partnership_admin", post=lambda t: {"confirm": "yes"}),

Spec §5 is written out again below (``may_see``), independently of ``escalations.selectors``:
it is the oracle the app is compared with, not a copy of it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from agencies.models import Category
from escalations.models import Notification, NotificationKind, ProfessionalDifference
from escalations.services import ChildDetails, NamedProfessionalDetails
from escalations.states import Status
from records.models import Entry
from reports.models import LearningTheme
from tests.conftest import World
from tests.factories.differences import difference_at, raise_difference
from tests.factories.directory import AgencyFactory, UserFactory
from tests.support.mfa import reauthenticate

# -- signing in -----------------------------------------------------------------------------


def sign_in(client: Client, user: Any, *, fresh: bool = True) -> None:
    """The one place the matrix signs someone in: a session past the second factor (every
    persona has a TOTP authenticator, so the compulsory set-up page stays out of the way) and,
    with ``fresh``, just re-authenticated on allauth's own page, as before a download.
    ``fresh=False`` is a session older than the re-authentication timeout would look."""
    client.logout()
    if user is not None:
        client.force_login(user)
        if fresh:
            reauthenticate(client)


# -- who --------------------------------------------------------------------------------------

ANONYMOUS = "anonymous"
STAFF_WITHOUT_ROLE = "staff_without_role"

PERSONAS: tuple[str, ...] = (
    ANONYMOUS,
    "a_practitioner",
    "a_other_practitioner",
    "a_line_manager",
    "a_safeguarding_lead",
    "a_senior_manager",
    "a_director",
    "b_practitioner",
    "b_line_manager",
    "b_safeguarding_lead",
    "b_senior_manager",
    "b_director",
    "c_practitioner",
    "c_line_manager",
    "c_safeguarding_lead",
    "c_senior_manager",
    "c_director",
    "d_practitioner",
    "d_line_manager",
    "d_safeguarding_lead",
    "d_senior_manager",
    "d_director",
    "business_manager",
    "final_body_member",
    "administrator",
    "q_business_manager",
    "q_final_body_member",
    "outsider",
    STAFF_WITHOUT_ROLE,
    "superuser",
)

RANK = {
    Status.IDENTIFIED: 0,
    Status.CLARIFICATION: 1,
    Status.STAGE_1: 2,
    Status.STAGE_2: 3,
    Status.STAGE_3: 4,
    Status.STAGE_4: 5,
    Status.FINAL_REFERRAL: 6,
}


@dataclass
class Case:
    """A case of the matrix world and the facts spec §5 decides on."""

    key: str
    difference: ProfessionalDifference
    raiser: str
    parties: frozenset[str]  # agency letters
    named: frozenset[str]  # personas named on it with an account
    partnership: str  # "p" or "q"
    highest: str  # the highest stage it reached
    child_name: str
    entry: Entry = field(init=False)

    def __post_init__(self) -> None:
        self.entry = Entry.objects.filter(difference=self.difference).order_by("pk").first()  # type: ignore[assignment]

    @property
    def pk(self) -> int:
        return self.difference.pk

    @property
    def reference(self) -> str:
        return self.difference.reference


def may_see(persona: str, case: Case) -> bool:
    """Spec §5, written out for the matrix world."""
    if persona in (ANONYMOUS, "outsider", "superuser", "administrator", STAFF_WITHOUT_ROLE):
        return False
    if persona == case.raiser or persona in case.named:
        return True
    if persona == "business_manager":
        return case.partnership == "p"
    if persona == "q_business_manager":
        return case.partnership == "q"
    if persona in ("final_body_member", "q_final_body_member"):
        own = "q" if persona.startswith("q_") else "p"
        return case.partnership == own and RANK[case.highest] >= RANK[Status.FINAL_REFERRAL]
    letter, _, role = persona.partition("_")
    if letter not in case.parties:
        return False
    if role in ("line_manager", "safeguarding_lead"):
        return True
    if role == "senior_manager":
        return RANK[case.highest] >= RANK[Status.STAGE_3]
    if role == "director":
        return RANK[case.highest] >= RANK[Status.STAGE_4]
    return False  # other practitioners of a party agency


def reports_of(persona: str) -> set[str]:
    """The partnerships whose monitoring report the persona may read."""
    return {"business_manager": {"p"}, "administrator": {"p"}, "q_business_manager": {"q"}}.get(
        persona, set()
    )


# -- the world --------------------------------------------------------------------------------


@dataclass
class MatrixWorld:
    world: World
    people: dict[str, Any]
    cases: dict[str, Case]
    notification: Notification
    themes: dict[str, LearningTheme]
    foreign_admin_objects: dict[str, Any]

    def user(self, persona: str) -> Any:
        return None if persona == ANONYMOUS else self.people[persona]


def _distinct_children(difference: ProfessionalDifference, name: str) -> None:
    difference.children.update(name=name)


def build_matrix_world(world: World) -> MatrixWorld:
    """Five cases of every relation to the personas: A against B at Stage 2 and at final
    referral; B against A (A not named) just raised; C against B (A not a party); and one in
    partnership Q."""
    people = dict(world.people)
    staff = UserFactory(username="staff_without_role", is_staff=True)
    staff.user_permissions.add(*Permission.objects.all())
    people[STAFF_WITHOUT_ROLE] = staff
    people["a_practitioner"] = world.raiser
    # The administrator works in the admin (staff, with Django's model permissions to view).
    administrator = world.administrator
    administrator.is_staff = True
    administrator.save()
    administrator.user_permissions.add(
        *Permission.objects.filter(codename__startswith="view_"),
        *Permission.objects.filter(content_type__app_label="agencies"),
    )

    ab2 = difference_at(world, Status.STAGE_2)
    ab_final = difference_at(world, Status.FINAL_REFERRAL)
    ba = raise_difference(
        world,
        actor=world.b_practitioner,
        raiser_agency=world.agency_b,
        other_agencies=[world.agency_a],
        named_professionals=[NamedProfessionalDetails(agency=world.agency_a, name="Lee Smith")],
    )
    cb = raise_difference(
        world,
        actor=world.c_practitioner,
        raiser_agency=world.agency_c,
        other_agencies=[world.agency_b],
        named_professionals=[],
    )
    agency_e = AgencyFactory(partnership=world.other_partnership, name="E police")
    q_case = raise_difference(
        world,
        actor=world.d_practitioner,
        raiser_agency=world.agency_d,
        other_agencies=[agency_e],
        category=Category.objects.filter(partnership=world.other_partnership).first(),
        named_professionals=[],
        children=[ChildDetails(name="Qamar Quinn")],
    )
    specs = [
        ("ab_stage_2", ab2, "a_practitioner", "ab", {"b_practitioner"}, "p", Status.STAGE_2),
        ("ab_final", ab_final, "a_practitioner", "ab", {"b_practitioner"}, "p", "final_referral"),
        ("ba_identified", ba, "b_practitioner", "ab", set(), "p", Status.IDENTIFIED),
        ("cb_identified", cb, "c_practitioner", "bc", set(), "p", Status.IDENTIFIED),
        ("q_identified", q_case, "d_practitioner", "de", set(), "q", Status.IDENTIFIED),
    ]
    cases = {}
    for number, (key, difference, raiser, parties, named, partnership, highest) in enumerate(specs):
        child_name = f"Matrixchild {chr(65 + number)}{key.replace('_', '')}"
        _distinct_children(difference, child_name)
        cases[key] = Case(
            key=key,
            difference=difference,
            raiser=raiser,
            parties=frozenset(parties),
            named=frozenset(named),
            partnership=partnership,
            highest=highest,
            child_name=child_name,
        )
    notification = Notification.objects.create(
        recipient=world.raiser,
        difference=ab2,
        kind=NotificationKind.REMINDER,
        subject="Stage 2 due soon",
        stage=Status.STAGE_2,
        due_at=timezone.now() + timedelta(days=1),
    )
    themes = {
        "p": LearningTheme.objects.create(partnership=world.partnership, name="Information"),
        "q": LearningTheme.objects.create(partnership=world.other_partnership, name="Q theme"),
    }
    d_membership = world.d_practitioner.agency_memberships.get()
    foreign = {
        **_foreign_sign_in_records(world, q_case),
        "agencies.Partnership": world.other_partnership,
        "agencies.Agency": world.agency_d,
        "agencies.AgencyMembership": d_membership,
        "agencies.PartnershipMembership": world.q_business_manager.partnership_memberships.get(),
        "auth.User": world.d_practitioner,
        "auth.Group": world.agency_d.role_groups.first().group,  # type: ignore[union-attr]
        "escalations.ProfessionalDifference": q_case,
        "reports.LearningTheme": themes["q"],
    }
    return MatrixWorld(world, people, cases, notification, themes, foreign)


def _foreign_sign_in_records(world: World, q_case: ProfessionalDifference) -> dict[str, Any]:
    """A record of each sign-in and access-log model about someone of partnership Q, for the
    admin rows: an administrator of P must not read them."""
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    from records.models import AccessEvent, AccessOutcome

    person = world.d_practitioner
    seen = {"username": person.username, "ip_address": "192.0.2.7", "user_agent": "Matrix"}
    return {
        "account.EmailAddress": EmailAddress.objects.create(
            user=person, email="d.practitioner@example.org", verified=True, primary=True
        ),
        "mfa.Authenticator": Authenticator.objects.get(user=person, type=Authenticator.Type.TOTP),
        "axes.AccessAttempt": AccessAttempt.objects.create(
            **seen, http_accept="text/html", path_info="/sign-in/", failures_since_start=1
        ),
        "axes.AccessLog": AccessLog.objects.create(
            **seen, http_accept="text/html", path_info="/sign-in/"
        ),
        "axes.AccessFailureLog": AccessFailureLog.objects.create(
            **seen, http_accept="text/html", path_info="/sign-in/"
        ),
        "records.AccessEvent": AccessEvent.objects.create(
            user=person,
            username=person.username,
            url_name="case_detail",
            method="GET",
            case_id=q_case.pk,
            partnership_id=q_case.partnership_id,
            status_code=200,
            outcome=AccessOutcome.ALLOWED,
        ),
    }


# -- the rows ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """What a row is tried against: a case (for case pages) or nothing."""

    m: MatrixWorld
    case: Case | None = None


Payload = Callable[[Target], dict[str, Any]]
Kwargs = Callable[[Target], dict[str, Any]]


@dataclass(frozen=True)
class Row:
    """One URL pattern: what decides access (``scope``), how to fill its URL, and a
    valid-looking POST for one that changes something. ``heavy``: tried by one permitted
    person per case only (a PDF render), by every refused person always."""

    scope: str
    post: Payload | None = None
    kwargs: Kwargs | None = None
    get: bool = True
    heavy: bool = False
    model: str = ""  # an admin page's model label
    # A download that asks for the password again unless given in the last 10 minutes.
    download: bool = False
    # The statuses a permitted person gets, when not plain 200 (a redirect, a 404 for
    # something they do not have).
    permitted: frozenset[int] = frozenset({200})


def _state(t: Target) -> str:
    assert t.case is not None
    difference = ProfessionalDifference.objects.get(pk=t.case.pk)
    return f"{difference.status}/{difference.stage}"


def _today() -> dict[str, str]:
    day = timezone.localdate()
    return {"_day": str(day.day), "_month": str(day.month), "_year": str(day.year)}


def _date(name: str, days: int = 0) -> dict[str, str]:
    day = timezone.localdate() + timedelta(days=days)
    return {
        f"{name}_day": str(day.day),
        f"{name}_month": str(day.month),
        f"{name}_year": str(day.year),
    }


def _entry_payload(t: Target) -> dict[str, Any]:
    return {
        "kind": "discussion",
        **_date("occurred_on"),
        "occurred_time": "",
        "method": "Telephone",
        "participants": "Both leads",
        "facts": "We spoke about the referral.",
        "opinion": "",
        "outcome": "",
    }


def _with_state(**fields: Any) -> Payload:
    return lambda t: {"seen_state": _state(t), **fields}


ACTION_POSTS: dict[str, Payload] = {
    "case_record_entry": _entry_payload,
    "case_start_clarification": _with_state(),
    "case_begin_stage_1": _with_state(consulted="My line manager", learned="Nothing new"),
    "case_withdraw": _with_state(reason="Action already in hand."),
    "case_escalate": _with_state(
        reason="No agreement.", oversight_note="Reviewed.", escalated_to="Sam Lead"
    ),
    "case_record_outcome": _with_state(outcome="resolved", summary="Agreed a plan."),
    "case_accept_partial_outcome": _with_state(reason="We accept it."),
    "case_close": _with_state(
        learning="Share outcomes.", protocol_amendment_recommended="no", protocol_amendment_note=""
    ),
    "case_pause_clock": _with_state(reason="Waiting for a report."),
    "case_resume_clock": _with_state(),
    "case_shorten_clock": lambda t: {
        "seen_state": _state(t),
        **_date("due_at", 1),
        "due_time": "12:00",
        "reason": "The child's needs.",
    },
}


def _case_kwargs(t: Target) -> dict[str, Any]:
    assert t.case is not None
    return {"pk": t.case.pk}


def _entry_kwargs(t: Target) -> dict[str, Any]:
    assert t.case is not None
    return {"pk": t.case.pk, "entry_pk": t.case.entry.pk}


def _child_kwargs(t: Target) -> dict[str, Any]:
    assert t.case is not None
    return {"child_pk": t.case.difference.children.order_by("pk").first().pk}  # type: ignore[union-attr]


ROWS: dict[str, Row] = {
    # -- signing in and out (the service's names and allauth's, on the same routes)
    "sign_in": Row("public"),
    "account_login": Row("public"),
    "sign_out": Row("sign_out", get=False, post=lambda t: {}),
    "account_logout": Row("sign_out", get=False, post=lambda t: {}),
    # -- one's own account: allauth's pages (accounts/urls.py)
    "account_inactive": Row("public"),
    "account_reauthenticate": Row("own_account"),
    "mfa_index": Row("own_account"),
    "mfa_reauthenticate": Row("own_account"),
    # Everyone here has an authenticator already: the set-up page sends them to the index.
    "mfa_activate_totp": Row("own_account", permitted=frozenset({302})),
    # Nobody here has recovery codes yet (they come with the set-up): nothing to show.
    "mfa_view_recovery_codes": Row("own_account", permitted=frozenset({404})),
    "mfa_generate_recovery_codes": Row("own_account"),
    # Nobody here has recovery codes yet: nothing to download.
    "mfa_download_recovery_codes": Row("own_account", permitted=frozenset({404})),
    # The second step of signing in: without a first step under way, back to the sign-in.
    "mfa_authenticate": Row("mid_sign_in"),
    # Two-factor authentication cannot be turned off: a redirect to the index for anyone.
    "mfa_deactivate_totp": Row("redirect"),
    # -- pages of anyone signed in
    "home": Row("signed_in"),
    "case_list": Row("signed_in"),
    "raise_start": Row("signed_in", post=lambda t: {}),
    # (The agency step is skipped for someone in one agency: ask the first question.)
    "raise_step": Row("signed_in", kwargs=lambda t: {"step": "immediate-risk"}),
    "blank_record_pdf": Row("signed_in", heavy=True),
    "notification_read": Row(
        "own_notification",
        get=False,
        post=lambda t: {},
        kwargs=lambda t: {"pk": t.m.notification.pk},
    ),
    # -- the monitoring report (business managers and administrators)
    "report": Row("report"),
    "report_download": Row("report", kwargs=lambda t: {"fmt": "csv"}, download=True),
    # -- a case: its page, its actions, its downloads, its children
    "case_detail": Row("case"),
    "case_entry_copy": Row("case", kwargs=_entry_kwargs),
    "case_correct_entry": Row(
        "case",
        kwargs=_entry_kwargs,
        post=lambda t: {
            "reason": "Wrong date.",
            "facts": "Corrected.",
            "opinion": "",
            "outcome": "",
        },
    ),
    **{name: Row("case", post=payload) for name, payload in ACTION_POSTS.items()},
    "case_record_pdf": Row("case", heavy=True, download=True),
    "case_learning_themes": Row(
        "case_business_manager", post=lambda t: {"themes": [t.m.themes["p"].pk]}
    ),
    "child_chronology": Row("case", kwargs=_child_kwargs),
    # -- administration: partnership administrators of the case's (child's) partnership only
    "access_log": Row("partnership_admin"),
    "retention_due": Row("partnership_admin"),
    "subject_access_search": Row("partnership_admin"),
    "retention_legal_hold": Row(
        "case_admin", post=lambda t: {"on_hold": "yes", "reason": "A court order."}
    ),
    "retention_anonymise": Row("case_admin", post=lambda t: {"confirm": "on"}),
    "subject_access_child": Row("child_admin", kwargs=_child_kwargs),
    "subject_access_json": Row("child_admin", kwargs=_child_kwargs, download=True),
    "subject_access_pdf": Row("child_admin", kwargs=_child_kwargs, heavy=True, download=True),
    # -- the Django admin (its per-model pages are added by ``admin_rows``)
    "admin:index": Row("admin"),
    "admin:login": Row("admin_login"),
    "admin:logout": Row("admin_logout", get=False, post=lambda t: {}),
    "admin:password_change": Row("admin"),
    "admin:password_change_done": Row("admin"),
    "admin:autocomplete": Row("admin_api"),
    "admin:jsi18n": Row("admin"),
    "admin:view_on_site": Row("admin_api", kwargs=lambda t: {"content_type_id": 1, "object_id": 1}),
    "admin:app_list": Row("admin", kwargs=lambda t: {"app_label": "agencies"}),
    "admin/(?P<url>.*)$": Row("admin_api", kwargs=lambda t: {"url": "no-such-page/"}),
}

CASE_SCOPES = ("case", "case_business_manager", "case_admin", "child_admin")
ADMIN_MODEL_PAGES = ("changelist", "add", "change", "delete", "history")


def admin_rows() -> dict[str, Row]:
    """The pages of every registered ModelAdmin, tried on an object of the other partnership
    (``MatrixWorld.foreign_admin_objects`` must name one for each model)."""
    rows: dict[str, Row] = {}
    for model in admin.site._registry:
        opts = model._meta
        label = opts.label

        def foreign(t: Target, label: str = label) -> dict[str, Any]:
            return {"object_id": t.m.foreign_admin_objects[label].pk}

        prefix = f"admin:{opts.app_label}_{opts.model_name}"
        rows[f"{prefix}_changelist"] = Row("admin_changelist", model=label)
        rows[f"{prefix}_add"] = Row("admin_add")
        for page in ("change", "delete", "history"):
            rows[f"{prefix}_{page}"] = Row("admin_foreign_object", kwargs=foreign)
        rows[f"admin/{opts.app_label}/{opts.model_name}/<path:object_id>/"] = Row(
            "admin_foreign_object", kwargs=foreign
        )
    # Django's UserAdmin adds a password page (superusers only here).
    rows["admin:auth_user_password_change"] = Row(
        "admin_foreign_object", kwargs=lambda t: {"id": t.m.foreign_admin_objects["auth.User"].pk}
    )
    return rows


def all_rows() -> dict[str, Row]:
    return {**ROWS, **admin_rows()}


# -- every URL pattern of the project ----------------------------------------------------------


@dataclass(frozen=True)
class Pattern:
    key: str  # the name (namespaced), or the route for an unnamed pattern
    name: str | None
    route: str


def url_patterns() -> list[Pattern]:
    """Every URL pattern, walking the resolver recursively (included apps, the admin)."""
    found: list[Pattern] = []

    def walk(patterns: list[Any], prefix: str, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = namespace
                if pattern.namespace:
                    inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
                walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            elif isinstance(pattern, URLPattern):
                route = prefix + str(pattern.pattern)
                name = None
                if pattern.name:
                    name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                found.append(Pattern(key=name or route, name=name, route=route))

    walk(get_resolver().url_patterns, "", "")
    return found


# -- what must not change --------------------------------------------------------------------

# Tables a refused request may legitimately write to: sessions and the person -> sessions map
# (signing in and out), audit trails and the access log (a denied attempt is itself recorded,
# append-only), django-axes' attempt logs (a failed sign-in is counted), the admin's log, and
# the stored render of a case's Appendix 2 PDF (a permitted download stores the render it made:
# derived from the case, never case data itself; ADR 0010).
# allauth's authenticators are counted (none may appear or vanish); their "last used" time is
# not compared. Case data is never excluded.
_MAY_CHANGE = re.compile(
    r"^(sessions\.|admin\.logentry$|accounts\.signedinsession$|records\.accessevent$|axes\.)"
    r"|^records\.recordrender$|audit",
    re.IGNORECASE,
)


def snapshot() -> dict[str, Any]:
    """Every row count (bar sessions and audit trails) and the state of every case, clock,
    notification and learning theme tag."""
    from escalations.models import StageEntry
    from reports.models import CaseLearningTheme

    state: dict[str, Any] = {}
    for model in apps.get_models():
        if _MAY_CHANGE.search(model._meta.label_lower):
            continue
        state[model._meta.label] = model._default_manager.count()
    state["cases"] = list(ProfessionalDifference.objects.order_by("pk").values())
    state["clocks"] = list(StageEntry.objects.order_by("pk").values())
    state["notifications"] = list(Notification.objects.order_by("pk").values_list("pk", "read_at"))
    state["themes"] = sorted(CaseLearningTheme.objects.values_list("difference_id", "theme_id"))
    return state
