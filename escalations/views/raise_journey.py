"""Raise a difference: a GOV.UK question-per-page journey ending in check your answers.

Answers live in ``request.session["raise"]`` (JSON: ints, strings, lists and dicts), so nothing
typed is lost going back or on an error, and every page pre-fills from them. Each question is
``raise/<step>/`` (URL name ``raise_step``). A step reached before the steps it depends on are
answered redirects to the first unanswered one. ``?change=1`` (from check your answers) returns
to check your answers after saving. The forms check shapes only; ``difference_raise`` decides.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, URLPattern, path, reverse

from agencies.models import Agency, AgencyMembership, AgencyRole, Category
from agencies.selectors import (
    agencies_held_by,
    agencies_of_partnership,
    categories_of_partnership,
    memberships_in_agencies,
)
from escalations import errors
from escalations.errors import DifferenceRefused
from escalations.forms.raise_journey import (
    MAX_CHILDREN,
    URGENT,
    YES,
    AddAnotherChildForm,
    AgencyForm,
    CategoryForm,
    ChildForm,
    ComplaintForm,
    ConfirmForm,
    ContextForm,
    ImmediateRiskForm,
    IssueForm,
    NamedProfessionalsForm,
    OtherAgenciesForm,
    RemoveChildForm,
    TrackForm,
    UrgentManagerForm,
)
from escalations.services import ChildDetails, NamedProfessionalDetails, difference_raise
from escalations.states import Context

SESSION_KEY = "raise"

AGENCY = "agency"
IMMEDIATE_RISK = "immediate-risk"
EMERGENCY = "emergency"
URGENT_MANAGER = "urgent-manager"
COMPLAINT = "complaint"
COMPLAINTS_PROCEDURE = "complaints-procedure"
CHILD = "child"
CHILDREN = "children"
REMOVE_CHILD = "remove-child"
OTHER_AGENCIES = "other-agencies"
IN_HOUSE = "in-house-procedures"
NAMED = "named-professionals"
CATEGORY = "category"
CONTEXT = "context"
ISSUE = "issue"
CHECK = "check-answers"

STOP_PAGES = (COMPLAINTS_PROCEDURE, IN_HOUSE)
QUESTION_TEMPLATE = "escalations/raise/question.html"
MANAGER_ROLES = [AgencyRole.LINE_MANAGER.value, AgencyRole.SAFEGUARDING_LEAD.value]


def _display_name(user: User) -> str:
    return (user.get_full_name() or user.get_username()).strip()


@dataclass(frozen=True)
class Person:
    """Someone in the partnership directory, as one choice (their roles in one agency)."""

    key: str
    agency: Agency
    user: User
    role: str
    name: str


def _people(
    agency_ids: list[int], *, roles: list[str] | None = None, exclude_user_id: int | None = None
) -> dict[str, Person]:
    """One entry per person per agency, keyed ``"<agency id>-<user id>"``."""
    grouped: dict[tuple[int, int], list[AgencyMembership]] = {}
    for membership in memberships_in_agencies(agency_ids, roles):
        if membership.user_id == exclude_user_id:
            continue
        grouped.setdefault((membership.agency_id, membership.user_id), []).append(membership)
    people: dict[str, Person] = {}
    for (agency_id, user_id), held in grouped.items():
        titles = list(dict.fromkeys(m.job_title for m in held if m.job_title))
        role = ", ".join(titles) or ", ".join(m.get_role_display() for m in held)
        key = f"{agency_id}-{user_id}"
        people[key] = Person(
            key=key,
            agency=held[0].agency,
            user=held[0].user,
            role=role,
            name=_display_name(held[0].user),
        )
    return people


@dataclass
class Journey:
    """One request's view of the journey: who is raising, their answers, where they are."""

    request: HttpRequest
    user: User
    agencies: list[Agency]
    answers: dict[str, Any]
    change: bool = False
    _cache: dict[str, Any] = field(default_factory=dict)

    # -- answers ---------------------------------------------------------------------------

    def save(self) -> None:
        self.request.session[SESSION_KEY] = self.answers

    @property
    def agency(self) -> Agency:
        """The agency the difference is raised for (later steps are guarded on it)."""
        chosen = self.answers.get("agency")
        for agency in self.agencies:
            if agency.pk == chosen:
                return agency
        raise Http404("No agency chosen")

    def other_agency_ids(self) -> list[int]:
        """The chosen other agencies, less the raiser's own."""
        own = self.answers.get("agency")
        return [pk for pk in self.answers.get("other_agencies", []) if pk != own]

    def own_agency_ignored(self) -> bool:
        chosen = self.answers.get("other_agencies", [])
        return self.answers.get("agency") in chosen and len(chosen) > 1

    def children(self) -> list[dict[str, Any]]:
        return list(self.answers.get("children") or [])

    def partnership_agencies(self) -> list[Agency]:
        if "agencies" not in self._cache:
            self._cache["agencies"] = agencies_of_partnership(self.agency.partnership_id)
        return cast(list[Agency], self._cache["agencies"])

    def other_agencies(self) -> list[Agency]:
        ids = self.other_agency_ids()
        return [agency for agency in self.partnership_agencies() if agency.pk in ids]

    def named_people(self) -> dict[str, Person]:
        if "people" not in self._cache:
            self._cache["people"] = _people(self.other_agency_ids(), exclude_user_id=self.user.pk)
        return cast(dict[str, Person], self._cache["people"])

    def managers(self) -> dict[str, Person]:
        if "managers" not in self._cache:
            self._cache["managers"] = {
                str(person.user.pk): person
                for person in _people([self.agency.pk], roles=MANAGER_ROLES).values()
            }
        return cast(dict[str, Person], self._cache["managers"])

    # -- the path through the questions ----------------------------------------------------

    def path(self) -> list[tuple[str, bool]]:
        """The steps this person's answers lead through, each with whether it is answered."""
        a = self.answers
        steps: list[tuple[str, bool]] = []
        if len(self.agencies) > 1:
            steps.append((AGENCY, "agency" in a))
        steps.append((IMMEDIATE_RISK, "immediate_risk" in a))
        if a.get("immediate_risk") == YES:
            steps.append((EMERGENCY, "track" in a))
            if a.get("track") == URGENT:
                steps.append((URGENT_MANAGER, "urgent_manager" in a))
        steps.append((COMPLAINT, "complaint" in a))
        if a.get("complaint") == YES:
            steps.append((COMPLAINTS_PROCEDURE, False))
            return steps
        steps.append((CHILD, bool(self.children())))
        steps.append((CHILDREN, bool(a.get("children_done"))))
        steps.append((OTHER_AGENCIES, "other_agencies" in a))
        if "other_agencies" in a and not self.other_agency_ids():
            steps.append((IN_HOUSE, False))
            return steps
        steps.append((NAMED, "named" in a))
        steps.append((CATEGORY, "category" in a))
        steps.append((CONTEXT, "context" in a))
        steps.append((ISSUE, "issue" in a))
        steps.append((CHECK, False))
        return steps

    def first_unanswered(self) -> str:
        return next(step for step, answered in self.path() if not answered)

    def blocked(self, step: str) -> str | None:
        """The step to go to instead of ``step``, if ``step`` cannot be reached yet."""
        names = [name for name, _ in self.path()]
        position = CHILDREN if step == REMOVE_CHILD else step
        if position not in names:
            return self.first_unanswered()
        for name, answered in self.path()[: names.index(position)]:
            if not answered:
                return name
        return None

    # -- where to go -----------------------------------------------------------------------

    def url(self, step: str, *, change: bool = False, **query: Any) -> str:
        if step == CHECK:
            change = False
        if change:
            query["change"] = 1
        url = reverse("raise_step", kwargs={"step": step})
        return f"{url}?{urlencode(query)}" if query else url

    def previous(self, step: str) -> str:
        names = [name for name, _ in self.path()]
        if step in names and names.index(step) > 0:
            return self.url(names[names.index(step) - 1])
        return reverse("raise_start")

    def back(self, step: str) -> str:
        """The Back link: the previous question (check your answers when changing)."""
        if self.change:
            return self.url(CHECK)
        children = self.children()
        if step == CHILD and (children or self.request.GET.get("child")):
            return self.url(CHILDREN)
        if step == REMOVE_CHILD:
            return self.url(CHILDREN)
        if step == CHILDREN and children:
            return self.url(CHILD, child=len(children))
        return self.previous(step)

    def after(self, step: str) -> HttpResponse:
        """Where to go once ``step`` is saved: the next question, or back to check answers."""
        if self.change:
            target = self.first_unanswered()
            return redirect(self.url(target, change=target not in STOP_PAGES))
        names = [name for name, _ in self.path()]
        if step not in names or names.index(step) + 1 >= len(names):
            return redirect(self.url(self.first_unanswered()))
        return redirect(self.url(names[names.index(step) + 1]))

    # -- rendering -------------------------------------------------------------------------

    def data(self) -> Any:
        return self.request.POST if self.request.method == "POST" else None

    def submitted(self, form: forms.Form) -> bool:
        return self.request.method == "POST" and form.is_valid()

    def render(self, step: str, template: str, **context: Any) -> HttpResponse:
        context.setdefault("back_url", self.back(step))
        return render(self.request, template, context)

    def question(
        self, step: str, form: forms.Form, name: str, *, inline: bool = False, **context: Any
    ) -> HttpResponse:
        return self.render(
            step, QUESTION_TEMPLATE, form=form, field=form[name], inline=inline, **context
        )


def _journey(request: HttpRequest) -> Journey | None:
    """The journey for this request, or None when the person holds no agency role."""
    user = cast(User, request.user)
    agencies = agencies_held_by(user)
    if not agencies:
        return None
    stored = request.session.get(SESSION_KEY)
    answers: dict[str, Any] = dict(stored) if isinstance(stored, dict) else {}
    if answers.get("agency") not in {agency.pk for agency in agencies}:
        answers.pop("agency", None)
    if len(agencies) == 1:
        answers["agency"] = agencies[0].pk
    return Journey(
        request=request,
        user=user,
        agencies=agencies,
        answers=answers,
        change=request.GET.get("change") == "1",
    )


def _cannot_raise(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "escalations/raise/cannot_raise.html",
        {"back_url": reverse("home")},
    )


def _child_index(journey: Journey, raw: str | None) -> int | None:
    """A 0-based index from a 1-based ``?child=`` value, or None when it is not a child."""
    if raw is None or not raw.isdigit():
        return None
    index = int(raw) - 1
    return index if 0 <= index < len(journey.children()) else None


# -- the steps -------------------------------------------------------------------------------


def _agency_label(journey: Journey, agency: Agency) -> str:
    partnerships = {a.partnership_id for a in journey.agencies}
    return f"{agency.name} ({agency.partnership.name})" if len(partnerships) > 1 else agency.name


def step_agency(journey: Journey) -> HttpResponse:
    """Which agency are you raising this for?"""
    choices = [(str(a.pk), _agency_label(journey, a)) for a in journey.agencies]
    initial = journey.answers.get("agency")
    form = AgencyForm(
        journey.data(),
        agencies=choices,
        initial={"agency": str(initial) if initial else None},
    )
    if journey.submitted(form):
        chosen = int(form.cleaned_data["agency"])
        if chosen != initial:
            journey.answers.pop("urgent_manager", None)
            partnership_of: dict[Any, int] = {a.pk: a.partnership_id for a in journey.agencies}
            if partnership_of.get(initial) != partnership_of[chosen]:
                # Another partnership: its agencies, people and categories differ.
                for key in ("other_agencies", "named", "unlisted", "category"):
                    journey.answers.pop(key, None)
        journey.answers["agency"] = chosen
        journey.save()
        return journey.after(AGENCY)
    return journey.question(AGENCY, form, "agency")


def step_immediate_risk(journey: Journey) -> HttpResponse:
    """Screening: is a child at immediate risk of significant harm?"""
    form = ImmediateRiskForm(
        journey.data(), initial={"immediate_risk": journey.answers.get("immediate_risk")}
    )
    if journey.submitted(form):
        journey.answers["immediate_risk"] = form.cleaned_data["immediate_risk"]
        journey.save()
        if journey.answers["immediate_risk"] == YES:
            # Always show the emergency route after a yes, also when changing an answer.
            return redirect(journey.url(EMERGENCY, change=journey.change))
        return journey.after(IMMEDIATE_RISK)
    return journey.question(IMMEDIATE_RISK, form, "immediate_risk", inline=True)


def step_emergency(journey: Journey) -> HttpResponse:
    """The emergency route, then the urgent track or the standard track."""
    form = TrackForm(journey.data(), initial={"track": journey.answers.get("track")})
    if journey.submitted(form):
        journey.answers["track"] = form.cleaned_data["track"]
        journey.save()
        return journey.after(EMERGENCY)
    return journey.render(EMERGENCY, "escalations/raise/emergency.html", form=form)


def step_urgent_manager(journey: Journey) -> HttpResponse:
    """Urgent track: the line manager or safeguarding lead who agreed it."""
    managers = journey.managers()
    choices = [
        (
            key,
            f"{p.name} (you) — {p.role}"
            if p.user.pk == journey.user.pk
            else f"{p.name} — {p.role}",
        )
        for key, p in managers.items()
    ]
    initial = journey.answers.get("urgent_manager")
    form = UrgentManagerForm(
        journey.data(),
        agency_name=journey.agency.name,
        managers=choices,
        initial={"urgent_manager": str(initial) if initial else None},
    )
    if not choices:
        return journey.render(
            URGENT_MANAGER,
            "escalations/raise/no_managers.html",
            agency=journey.agency,
            emergency_url=journey.url(EMERGENCY),
        )
    if journey.submitted(form):
        journey.answers["urgent_manager"] = int(form.cleaned_data["urgent_manager"])
        journey.save()
        return journey.after(URGENT_MANAGER)
    return journey.question(URGENT_MANAGER, form, "urgent_manager")


def step_complaint(journey: Journey) -> HttpResponse:
    """Screening: is this a complaint about an individual professional?"""
    form = ComplaintForm(journey.data(), initial={"complaint": journey.answers.get("complaint")})
    if journey.submitted(form):
        journey.answers["complaint"] = form.cleaned_data["complaint"]
        journey.save()
        return journey.after(COMPLAINT)
    return journey.question(COMPLAINT, form, "complaint", inline=True)


def step_complaints_procedure(journey: Journey) -> HttpResponse:
    """Stop: complaints go to the professional's organisation."""
    return journey.render(
        COMPLAINTS_PROCEDURE,
        "escalations/raise/complaints_procedure.html",
        change_url=journey.url(COMPLAINT),
    )


def _child_initial(child: dict[str, Any]) -> dict[str, Any]:
    born = child.get("date_of_birth")
    return {
        "name": child.get("name", ""),
        "date_of_birth": date.fromisoformat(born) if born else None,
        "address": child.get("address", ""),
        "school": child.get("school", ""),
        "lead_professional": child.get("lead_professional", ""),
    }


def step_child(journey: Journey) -> HttpResponse:
    """Add a child, or change one (``?child=N``)."""
    children = journey.children()
    raw = journey.request.GET.get("child")
    index = _child_index(journey, raw)
    if raw is not None and index is None:
        return redirect(journey.url(CHILDREN if children else CHILD, change=journey.change))
    if index is None and len(children) >= MAX_CHILDREN:
        return redirect(journey.url(CHILDREN, change=journey.change))
    initial = _child_initial(children[index]) if index is not None else None
    form = ChildForm(journey.data(), initial=initial)
    if journey.submitted(form):
        data = form.cleaned_data
        born: date | None = data["date_of_birth"]
        child = {
            "name": data["name"],
            "date_of_birth": born.isoformat() if born else None,
            "address": data["address"],
            "school": data["school"],
            "lead_professional": data["lead_professional"],
        }
        if index is None:
            children.append(child)
            journey.answers["children_done"] = False
        else:
            children[index] = child
        journey.answers["children"] = children
        journey.save()
        if index is not None and journey.change:
            return journey.after(CHILD)
        return redirect(journey.url(CHILDREN, change=journey.change))
    if index is not None:
        title = f"Change {children[index]['name']}'s details"
    else:
        title = "Add another child" if children else "Add a child"
    return journey.render(CHILD, "escalations/raise/child.html", form=form, title=title)


def step_children(journey: Journey) -> HttpResponse:
    """You have added N children: add another?"""
    children = journey.children()
    if not children:
        return redirect(journey.url(CHILD, change=journey.change))
    form = AddAnotherChildForm(journey.data(), children_count=len(children))
    if journey.submitted(form):
        if form.cleaned_data["add_another"] == YES:
            journey.answers["children_done"] = False
            journey.save()
            return redirect(journey.url(CHILD, change=journey.change))
        journey.answers["children_done"] = True
        journey.save()
        return journey.after(CHILDREN)
    rows = [
        {
            "child": child,
            "born": date.fromisoformat(child["date_of_birth"]) if child["date_of_birth"] else None,
            "change_url": journey.url(CHILD, change=journey.change, child=number),
            "remove_url": journey.url(REMOVE_CHILD, change=journey.change, child=number),
        }
        for number, child in enumerate(children, start=1)
    ]
    return journey.render(
        CHILDREN, "escalations/raise/children.html", form=form, rows=rows, count=len(children)
    )


def step_remove_child(journey: Journey) -> HttpResponse:
    """Are you sure you want to remove this child?"""
    index = _child_index(journey, journey.request.GET.get("child"))
    if index is None:
        return redirect(journey.url(CHILDREN, change=journey.change))
    children = journey.children()
    form = RemoveChildForm(journey.data(), child_name=children[index]["name"])
    if journey.submitted(form):
        if form.cleaned_data["remove"] == YES:
            del children[index]
            journey.answers["children"] = children
            if not children:
                journey.answers["children_done"] = False
            journey.save()
            messages.success(journey.request, "Child removed")
        return redirect(journey.url(CHILDREN if children else CHILD, change=journey.change))
    return journey.question(REMOVE_CHILD, form, "remove", inline=True)


def step_other_agencies(journey: Journey) -> HttpResponse:
    """Which agency or agencies is the difference with?"""
    own = journey.agency
    choices = [
        (str(a.pk), f"{a.name} (your agency)" if a.pk == own.pk else a.name)
        for a in journey.partnership_agencies()
    ]
    form = OtherAgenciesForm(
        journey.data(),
        agencies=choices,
        own_agency_name=own.name,
        initial={"other_agencies": [str(pk) for pk in journey.answers.get("other_agencies", [])]},
    )
    if journey.submitted(form):
        before = set(journey.other_agency_ids())
        journey.answers["other_agencies"] = [int(pk) for pk in form.cleaned_data["other_agencies"]]
        others = set(journey.other_agency_ids())
        if "named" in journey.answers:
            party_ids = {str(pk) for pk in others}
            journey.answers["named"] = [
                key for key in journey.answers["named"] if key.split("-")[0] in party_ids
            ]
        unlisted = journey.answers.get("unlisted")
        if unlisted and unlisted.get("agency") not in others:
            journey.answers["unlisted"] = {**unlisted, "agency": None}
        journey.save()
        if journey.change and others and others != before and "named" in journey.answers:
            # New agencies: offer their people before going back to check your answers.
            return redirect(journey.url(NAMED, change=True))
        return journey.after(OTHER_AGENCIES)
    return journey.question(OTHER_AGENCIES, form, "other_agencies")


def step_in_house(journey: Journey) -> HttpResponse:
    """Stop: the only other party chosen is the raiser's own agency."""
    return journey.render(
        IN_HOUSE,
        "escalations/raise/in_house.html",
        message=errors.IN_HOUSE_PROCEDURES,
        change_url=journey.url(OTHER_AGENCIES),
    )


def step_named(journey: Journey) -> HttpResponse:
    """The named professional(s) at the other agencies, from the directory or not listed."""
    people = journey.named_people()
    agencies = journey.other_agencies()
    unlisted = journey.answers.get("unlisted") or {}
    form = NamedProfessionalsForm(
        journey.data(),
        people=[(key, f"{p.name} — {p.role}, {p.agency.name}") for key, p in people.items()],
        agencies=[(str(a.pk), a.name) for a in agencies],
        initial={
            "named": journey.answers.get("named", []),
            "unlisted_name": unlisted.get("name", ""),
            "unlisted_role": unlisted.get("role", ""),
            "unlisted_agency": str(unlisted["agency"])
            if unlisted.get("agency")
            else (str(agencies[0].pk) if len(agencies) == 1 else ""),
        },
    )
    if journey.submitted(form):
        data = form.cleaned_data
        journey.answers["named"] = list(data.get("named", []))
        journey.answers["unlisted"] = {
            "name": data["unlisted_name"],
            "role": data["unlisted_role"],
            "agency": int(data["unlisted_agency"])
            if data["unlisted_name"] and data["unlisted_agency"]
            else None,
        }
        journey.save()
        return journey.after(NAMED)
    return journey.render(
        NAMED,
        "escalations/raise/named_professionals.html",
        form=form,
        own_agency_ignored=journey.own_agency_ignored(),
        own_agency=journey.agency,
    )


def step_category(journey: Journey) -> HttpResponse:
    """Which category best describes the difference?"""
    categories = categories_of_partnership(journey.agency.partnership_id)
    initial = journey.answers.get("category")
    form = CategoryForm(
        journey.data(),
        categories=[(str(c.pk), c.name) for c in categories],
        initial={"category": str(initial) if initial else None},
    )
    if journey.submitted(form):
        journey.answers["category"] = int(form.cleaned_data["category"])
        journey.save()
        return journey.after(CATEGORY)
    return journey.question(CATEGORY, form, "category")


def step_context(journey: Journey) -> HttpResponse:
    """What was this issue about?"""
    form = ContextForm(journey.data(), initial={"context": journey.answers.get("context")})
    if journey.submitted(form):
        journey.answers["context"] = form.cleaned_data["context"]
        journey.save()
        return journey.after(CONTEXT)
    return journey.question(CONTEXT, form, "context")


def step_issue(journey: Journey) -> HttpResponse:
    """The issue, in the raiser's own words."""
    form = IssueForm(journey.data(), initial={"issue": journey.answers.get("issue", "")})
    if journey.submitted(form):
        journey.answers["issue"] = form.cleaned_data["issue"]
        journey.save()
        return journey.after(ISSUE)
    return journey.question(ISSUE, form, "issue")


# -- check your answers ----------------------------------------------------------------------


class Stale(Exception):
    """A stored answer no longer matches the directory (e.g. an agency was deactivated)."""

    def __init__(self, step: str) -> None:
        super().__init__(step)
        self.step = step


@dataclass
class Resolved:
    """The stored answers as the objects ``difference_raise`` takes."""

    agency: Agency
    is_urgent: bool
    urgent_manager: Person | None
    children: list[ChildDetails]
    other_agencies: list[Agency]
    named: list[NamedProfessionalDetails]
    named_labels: list[str]
    category: Category
    context: str
    issue: str


def _resolve(journey: Journey) -> Resolved:
    a = journey.answers
    agency = journey.agency
    is_urgent = a.get("immediate_risk") == YES and a.get("track") == URGENT
    manager = None
    if is_urgent:
        manager = journey.managers().get(str(a.get("urgent_manager")))
        if manager is None:
            raise Stale(URGENT_MANAGER)
    children = [
        ChildDetails(
            name=child["name"],
            date_of_birth=date.fromisoformat(child["date_of_birth"])
            if child.get("date_of_birth")
            else None,
            address=child.get("address", ""),
            school=child.get("school", ""),
            lead_professional=child.get("lead_professional", ""),
        )
        for child in journey.children()
    ]
    others = journey.other_agencies()
    if len(others) != len(journey.other_agency_ids()):
        raise Stale(OTHER_AGENCIES)
    people = journey.named_people()
    named: list[NamedProfessionalDetails] = []
    labels: list[str] = []
    for key in a.get("named", []):
        person = people.get(key)
        if person is None:
            raise Stale(NAMED)
        named.append(
            NamedProfessionalDetails(
                agency=person.agency, name=person.name, role=person.role, user=person.user
            )
        )
        labels.append(f"{person.name} — {person.role}, {person.agency.name}")
    unlisted = a.get("unlisted") or {}
    if unlisted.get("name"):
        unlisted_agency = next((o for o in others if o.pk == unlisted.get("agency")), None)
        if unlisted_agency is None:
            raise Stale(NAMED)
        named.append(
            NamedProfessionalDetails(
                agency=unlisted_agency, name=unlisted["name"], role=unlisted.get("role", "")
            )
        )
        role = f" — {unlisted['role']}" if unlisted.get("role") else ""
        labels.append(f"{unlisted['name']}{role}, {unlisted_agency.name} (not listed)")
    category = next(
        (c for c in categories_of_partnership(agency.partnership_id) if c.pk == a.get("category")),
        None,
    )
    if category is None:
        raise Stale(CATEGORY)
    if a.get("context") not in Context.values:
        raise Stale(CONTEXT)
    return Resolved(
        agency=agency,
        is_urgent=is_urgent,
        urgent_manager=manager,
        children=children,
        other_agencies=others,
        named=named,
        named_labels=labels,
        category=category,
        context=a["context"],
        issue=a.get("issue", ""),
    )


def _case_url(pk: int) -> str:
    try:
        return reverse("case_detail", args=[pk])
    except NoReverseMatch:  # the case pages are routed separately
        return f"/cases/{pk}/"


def step_check(journey: Journey) -> HttpResponse:
    """Check your answers, then raise the difference."""
    try:
        resolved = _resolve(journey)
    except Stale as stale:
        journey.answers.pop(
            {
                URGENT_MANAGER: "urgent_manager",
                OTHER_AGENCIES: "other_agencies",
                NAMED: "named",
                CATEGORY: "category",
                CONTEXT: "context",
            }[stale.step],
            None,
        )
        journey.save()
        messages.warning(
            journey.request, "One of your answers is no longer available. Answer it again."
        )
        return redirect(journey.url(stale.step, change=True))
    form = ConfirmForm(journey.data())
    if journey.submitted(form):
        try:
            case = difference_raise(
                actor=journey.user,
                raiser_agency=resolved.agency,
                children=resolved.children,
                other_agencies=resolved.other_agencies,
                category=resolved.category,
                context=resolved.context,
                issue=resolved.issue,
                named_professionals=resolved.named,
                is_urgent=resolved.is_urgent,
                urgent_manager=resolved.urgent_manager.user if resolved.urgent_manager else None,
            )
        except DifferenceRefused as refused:
            form.add_error(None, refused.message)
        else:
            journey.request.session.pop(SESSION_KEY, None)
            messages.success(journey.request, f"Difference {case.reference} raised")
            return HttpResponseRedirect(_case_url(case.pk))
    children = [
        {"child": child, "change_url": journey.url(CHILD, change=True, child=number)}
        for number, child in enumerate(resolved.children, start=1)
    ]
    change = {
        name.replace("-", "_"): journey.url(name, change=True)
        for name in (
            AGENCY,
            IMMEDIATE_RISK,
            EMERGENCY,
            URGENT_MANAGER,
            COMPLAINT,
            CHILDREN,
            OTHER_AGENCIES,
            NAMED,
            CATEGORY,
            CONTEXT,
            ISSUE,
        )
    }
    return journey.render(
        CHECK,
        "escalations/raise/check_answers.html",
        form=form,
        resolved=resolved,
        answers=journey.answers,
        children=children,
        change=change,
        several_agencies=len(journey.agencies) > 1,
        own_agency_ignored=journey.own_agency_ignored(),
        context_label=Context(resolved.context).label,
        back_url=journey.url(ISSUE),
    )


STEPS: dict[str, Callable[[Journey], HttpResponse]] = {
    AGENCY: step_agency,
    IMMEDIATE_RISK: step_immediate_risk,
    EMERGENCY: step_emergency,
    URGENT_MANAGER: step_urgent_manager,
    COMPLAINT: step_complaint,
    COMPLAINTS_PROCEDURE: step_complaints_procedure,
    CHILD: step_child,
    CHILDREN: step_children,
    REMOVE_CHILD: step_remove_child,
    OTHER_AGENCIES: step_other_agencies,
    IN_HOUSE: step_in_house,
    NAMED: step_named,
    CATEGORY: step_category,
    CONTEXT: step_context,
    ISSUE: step_issue,
    CHECK: step_check,
}


# -- views -----------------------------------------------------------------------------------


@login_required
def raise_start(request: HttpRequest) -> HttpResponse:
    """The start page (POST: start again, clearing the answers)."""
    journey = _journey(request)
    if journey is None:
        return _cannot_raise(request)
    if request.method == "POST":
        request.session.pop(SESSION_KEY, None)
        return redirect("raise_start")
    return render(
        request,
        "escalations/raise/start.html",
        {
            "start_url": journey.url(journey.path()[0][0]),
            "in_progress": bool(request.session.get(SESSION_KEY)),
            "back_url": reverse("home"),
        },
    )


@login_required
def raise_step(request: HttpRequest, step: str) -> HttpResponse:
    """One step of the journey (guarded: an unanswered earlier step comes first)."""
    handler = STEPS.get(step)
    if handler is None:
        raise Http404("No such step")
    journey = _journey(request)
    if journey is None:
        return _cannot_raise(request)
    blocked = journey.blocked(step)
    if blocked is not None:
        return redirect(journey.url(blocked))
    return handler(journey)


urlpatterns: list[URLPattern] = [
    path("raise/", raise_start, name="raise_start"),
    path("raise/<slug:step>/", raise_step, name="raise_step"),
]
