"""The only readers of "which cases may this person see" (spec §5).

Every view, list, search, export, PDF and report goes through these. A case the person may
not see is a 404, never a 403.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.http import Http404
from guardian.shortcuts import get_objects_for_user

from escalations.models import ProfessionalDifference
from escalations.working_time import WorkingCalendar
from ops.db import server_cursor

if TYPE_CHECKING:
    from escalations.models import StageEntry

VIEW_PERMISSION = "escalations.view_professionaldifference"


def differences_visible_to(user: Any) -> QuerySet[ProfessionalDifference]:
    """Every case ``user`` may see, by the object permissions the services grant.

    Global permissions never count (a model-level "view" permission must not show every
    case), nor does being a superuser: operators are not parties to cases.
    """
    if not user.is_authenticated or not user.is_active:
        return ProfessionalDifference.objects.none()
    return get_objects_for_user(
        user,
        VIEW_PERMISSION,
        klass=ProfessionalDifference,
        accept_global_perms=False,
        with_superuser=False,
    )


# Below this many grants a person's whole set is hashed (``differences_visible_to``); from it
# up, each row a page reads is probed instead.
PROBE_FROM_GRANTS = 2000


def differences_visible_to_for_pages(user: Any) -> QuerySet[ProfessionalDifference]:
    """The same cases as ``differences_visible_to`` (the same guardian grant tables and the
    same rules: no global permissions, no superuser), written for one page of a list.

    ``get_objects_for_user`` asks ``pk IN (every case the person's grants cover)``, which
    PostgreSQL answers by hashing all of that person's grants before it reads the first row:
    cheap for a practitioner with a few dozen, about 13 ms for a manager who sees 14,000 of
    100,000 cases and 100 ms or more for a business manager who sees all of them, on every
    page. For a person with PROBE_FROM_GRANTS grants or more the grants are a correlated
    EXISTS instead (their own grant, or one of their groups'), so a page that walks an index
    in its sort order probes the grants of only the rows it reads and stops at the page's
    LIMIT; the walk is bounded to the partnerships their grants can be in (a filter the
    grants imply, so it changes nothing in the result), so another partnership's cases are
    never walked. For counts and other reads of the whole set, use ``differences_visible_to``.
    """
    if not user.is_authenticated or not user.is_active:
        return ProfessionalDifference.objects.none()
    many, bounded, partnerships, group_ids, permission_id = _grant_facts(user)
    if not many or permission_id is None:
        return differences_visible_to(user)
    # The groups as values: a join to the person's group memberships inside the probe would
    # be run (a scan of that small table) once for every row the page walks.
    visible = _difference_by_probe(user, group_ids=group_ids, permission_id=permission_id)
    if bounded:
        visible = visible.filter(partnership_id__in=sorted(partnerships))
    return visible


# Per process: (database alias, user id) -> (has PROBE_FROM_GRANTS grants or more, until when).
_MANY_GRANTS: dict[tuple[str, int], tuple[bool, float]] = {}
MANY_GRANTS_SECONDS = 60.0
MANY_GRANTS_REMEMBERED = 10_000


def _grant_facts(user: Any) -> tuple[bool, bool, set[int], list[int], int | None]:
    """In one query: whether the person's groups hold PROBE_FROM_GRANTS grants or more (is
    there a grant at that offset? nothing is counted), whether every group of theirs is a role
    group (so their grants can only be in known partnerships), and those partnerships: of
    their role groups and of the cases granted to them by name; their groups; and the id of
    the view permission (``view_permission_id``: a page's probe compares with a value). SQL like
    ``_visibility_probe_sql`` (composing it with the ORM cost more than running it)."""
    from django.contrib.auth.models import User
    from django.db import connection

    from agencies.models import Agency, AgencyRoleGroup, PartnershipRoleGroup
    from escalations.models import DifferenceGroupObjectPermission, DifferenceUserObjectPermission

    permission_id = view_permission_id()
    if permission_id is None:  # before migrations: nobody sees anything
        return False, True, set(), [], None
    members = _table(User.groups.through)
    group_grants = _table(DifferenceGroupObjectPermission)
    own_grants = _table(DifferenceUserObjectPermission)
    # Whether the person has many grants only chooses between two forms of the same query,
    # never what it finds: known from a recent page, it is not looked for again (walking up to
    # PROBE_FROM_GRANTS grants cost more than the rest of this query).
    key = (connection.alias, user.pk)
    known = _MANY_GRANTS.get(key)
    remembered = known[0] if known is not None and known[1] > time.monotonic() else None
    if remembered is not None:
        reach, reach_params = ("1" if remembered else "0"), []
    else:
        reach = (
            f"CASE WHEN EXISTS (SELECT 1 FROM {group_grants} g INNER JOIN {members} n "  # noqa: S608
            "ON n.group_id = g.group_id WHERE n.user_id = %s AND g.permission_id = %s "
            "LIMIT 1 OFFSET %s) THEN 1 ELSE 0 END"
        )
        reach_params = [user.pk, permission_id, max(PROBE_FROM_GRANTS - 1, 0)]
    sql = (
        # The person's groups, each with the partnership of its role (if it is a role group's)
        # and whether the groups' grants reach the offset.
        f"SELECT 'g', m.group_id, a.{_column(Agency, 'partnership')}, "  # noqa: S608
        f"r.{_column(PartnershipRoleGroup, 'partnership')}, "
        f"{reach} "
        f"FROM {members} m "
        f"LEFT JOIN {_table(AgencyRoleGroup)} ar "
        f"ON ar.{_column(AgencyRoleGroup, 'group')} = m.group_id "
        f"LEFT JOIN {_table(Agency)} a ON a.id = ar.{_column(AgencyRoleGroup, 'agency')} "
        f"LEFT JOIN {_table(PartnershipRoleGroup)} r "
        f"ON r.{_column(PartnershipRoleGroup, 'group')} = m.group_id "
        f"WHERE m.user_id = %s "
        "UNION ALL "
        # The partnerships of the cases granted to the person by name.
        "SELECT DISTINCT 'u', CAST(NULL AS INTEGER), "
        f"d.{_column(ProfessionalDifference, 'partnership')}, CAST(NULL AS INTEGER), 0 "
        f"FROM {own_grants} o INNER JOIN {_table(ProfessionalDifference)} d "
        f"ON d.id = o.{_column(DifferenceUserObjectPermission, 'content_object')} "
        f"WHERE o.{_column(DifferenceUserObjectPermission, 'user')} = %s "
        f"AND o.{_column(DifferenceUserObjectPermission, 'permission')} = %s"
    )
    params = [
        *reach_params,
        user.pk,
        user.pk,
        permission_id,
    ]
    many = PROBE_FROM_GRANTS <= 0
    bounded = True
    partnerships: set[int] = set()
    group_ids: list[int] = []
    # Not prepared (ops.db): PostgreSQL's plan for any person reads every grant by name.
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
        for kind, group_id, agency_partnership, role_partnership, reached in rows:
            if kind == "g":
                group_ids.append(group_id)
                many = many or bool(reached)
                if agency_partnership is None and role_partnership is None:
                    # A group that is no role group's: its grants could be anywhere.
                    bounded = False
                partnerships |= {p for p in (agency_partnership, role_partnership) if p}
            else:
                partnerships.add(agency_partnership)
    if remembered is None:
        if len(_MANY_GRANTS) >= MANY_GRANTS_REMEMBERED:
            _MANY_GRANTS.clear()
        _MANY_GRANTS[key] = (many, time.monotonic() + MANY_GRANTS_SECONDS)
    return many, bounded, partnerships, sorted(group_ids), permission_id


def _visibility_probe_sql(group_count: int | None = None) -> str:
    """The condition "the current row of the case table is granted to the person", as SQL
    over guardian's direct permission tables (the person's own grant, or their groups').
    Their groups are read by a join to their memberships, or, given ``group_count``, are
    that many parameters (none: the person's own grants only). The permission is a
    parameter: its id (``view_permission_id``)."""
    from django.contrib.auth.models import User

    from escalations.models import DifferenceGroupObjectPermission, DifferenceUserObjectPermission

    case = _table(ProfessionalDifference)
    # Only table names from the models' metadata are formatted in; every value is a parameter.
    # One EXISTS over both kinds of grant (UNION ALL), not two ORed: PostgreSQL turns an
    # ORed EXISTS into a hashed subplan that reads every grant of the person's groups first
    # (14,000 for a manager) where this probes only the rows a page walks.
    own = (
        f"SELECT 1 FROM {_table(DifferenceUserObjectPermission)} o "  # noqa: S608
        f"WHERE o.content_object_id = {case}.id AND o.user_id = %s AND o.permission_id = %s"
    )
    if group_count == 0:
        return f"EXISTS ({own})"
    groups = (
        f"INNER JOIN {_table(User.groups.through)} m ON m.group_id = g.group_id "
        f"WHERE g.content_object_id = {case}.id AND m.user_id = %s "
        if group_count is None
        else f"WHERE g.content_object_id = {case}.id "
        f"AND g.group_id IN ({', '.join(['%s'] * group_count)}) "
    )
    return (
        f"EXISTS ({own} UNION ALL "  # noqa: S608
        f"SELECT 1 FROM {_table(DifferenceGroupObjectPermission)} g {groups}"
        "AND g.permission_id = %s)"
    )


def _difference_by_probe(
    user: Any, *, group_ids: list[int] | None = None, permission_id: int | None = None
) -> QuerySet[ProfessionalDifference]:
    """The visible set as a correlated EXISTS, for reading one case by its key (or a page
    walked in index order): only those cases' grants are probed, whatever the size of the
    person's set. Written as SQL (the same condition the ORM's ``Exists(...) | Exists(...)``
    builds) because composing those subqueries cost more CPU than the rest of a case page's
    queries together. ``group_ids``: the person's groups, and ``permission_id``: the view
    permission's id, when read just before."""
    from django.db.models import BooleanField
    from django.db.models.expressions import RawSQL

    if permission_id is None:
        permission_id = view_permission_id()
    if not user.is_authenticated or not user.is_active or permission_id is None:
        return ProfessionalDifference.objects.none()
    params: list[Any] = [user.pk, permission_id]
    if group_ids is None:
        params += [user.pk, permission_id]
    elif group_ids:
        params += [*group_ids, permission_id]
    granted = RawSQL(  # noqa: S611 (the values are parameters; see _visibility_probe_sql)
        _visibility_probe_sql(None if group_ids is None else len(group_ids)),
        params,
        output_field=BooleanField(),
    )
    return ProfessionalDifference.objects.filter(granted)


_PERMISSION_IDS: dict[str, int] = {}
BIGINT_MAX = 2**63 - 1


def view_permission_id() -> int | None:
    """The id of the view permission (None before migrations made it), read once per
    process and database: a constant the probes compare with, where looking it up by app
    label and codename in each query cost its planning more than the rest of a case page's
    lookup. Forgotten after migrations (``forget_permission_ids``), which may make it anew."""
    from django.contrib.auth.models import Permission
    from django.db import connection

    found = _PERMISSION_IDS.get(connection.alias)
    if found is None:
        app_label, codename = VIEW_PERMISSION.split(".")
        found = (
            Permission.objects.filter(content_type__app_label=app_label, codename=codename)
            .values_list("pk", flat=True)
            .first()
        )
        if found is not None:
            _PERMISSION_IDS[connection.alias] = found
    return found


def forget_permission_ids(**kwargs: Any) -> None:
    """``post_migrate`` receiver: a migration, or a test's flush, may give permissions new ids
    (and people's grants may be gone)."""
    _PERMISSION_IDS.clear()
    forget_grant_counts()


def forget_grant_counts() -> None:
    """Forget who was seen to have many grants (tests, after changing PROBE_FROM_GRANTS)."""
    _MANY_GRANTS.clear()


def difference_get_for(user: Any, pk: int) -> ProfessionalDifference:
    """The case ``pk`` (with its partnership and category) if ``user`` may see it; 404
    otherwise. Read with SQL as the ORM would (``_RowPlan``): composing the query and its
    visibility probe cost more than running it, on every page about a case."""

    from agencies.models import Category, Partnership

    permission_id = view_permission_id()
    if not user.is_authenticated or not user.is_active or permission_id is None:
        raise Http404("No such case.")
    if not 0 < pk <= BIGINT_MAX:  # a URL may carry any number; no case has it
        raise Http404("No such case.")
    case_table = _table(ProfessionalDifference)
    case, partnership, category = (
        _plan(ProfessionalDifference, case_table), _plan(Partnership, "p"), _plan(Category, "c")
    )  # fmt: skip
    sql = (
        f"SELECT {case.columns}, {partnership.columns}, {category.columns} "  # noqa: S608
        f"FROM {case_table} "
        f"INNER JOIN {_table(Partnership)} p "
        f"ON p.id = {case_table}.{_column(ProfessionalDifference, 'partnership')} "
        f"INNER JOIN {_table(Category)} c "
        f"ON c.id = {case_table}.{_column(ProfessionalDifference, 'category')} "
        f"WHERE {case_table}.id = %s AND {_visibility_probe_sql()}"
    )
    # Run for every case opened: prepared (ops.db).
    with server_cursor(prepare=True) as cursor:
        cursor.execute(sql, [pk, user.pk, permission_id, user.pk, permission_id])
        row = cursor.fetchone()
    if row is None:
        raise Http404("No such case.")
    difference = case.build(row)
    difference._state.fields_cache["partnership"] = partnership.build(row, case.width)
    difference._state.fields_cache["category"] = category.build(row, case.width + partnership.width)
    return difference  # type: ignore[no-any-return]


def difference_visible_to_user(user: Any, difference: ProfessionalDifference) -> bool:
    """Whether ``user`` may see ``difference``."""
    return _difference_by_probe(user).filter(pk=difference.pk).exists()


# -- lists (home page, case list, a child's chronology) ---------------------------------------
# Every list below starts from ``differences_visible_to``: it only ever narrows that set.


@dataclass(frozen=True)
class ChildFact:
    pk: int
    name: str
    date_of_birth: date | None


@dataclass
class ListFacts:
    """What a row of a case list shows beyond the case's own columns."""

    calendar: WorkingCalendar
    children: list[ChildFact] = field(default_factory=list)
    # The agencies of the parties other than the raising one, in the order they joined.
    other_agencies: list[str] = field(default_factory=list)
    # The running stage entry with only the fields its clock reads (CLOCK_FIELDS): any other
    # would be read from the database on access, a query a row.
    running: StageEntry | None = None


def _table(model: Any) -> str:
    from django.db import connection

    return str(connection.ops.quote_name(model._meta.db_table))


def _column(model: Any, name: str) -> str:
    from django.db import connection

    return str(connection.ops.quote_name(model._meta.get_field(name).column))


def list_facts(cases: Sequence[Any]) -> dict[int, ListFacts]:
    """The children, other agencies, running stage clock and working calendar of each case,
    in three queries whatever the number of cases (none for no cases), sent together
    (``_select_all``), the calendars from the partnership configuration
    (``agencies.config``). ``cases``: the cases, or anything with their ``pk`` and
    ``partnership_id``.

    Values, not model instances, except the running stage entries (the clock reads them), and
    every query is written as SQL: building a page's children, parties, agencies and
    partnerships as models, and composing each query, cost more than the queries themselves
    (several milliseconds a page of fifty). Only table and column names from the models'
    metadata are formatted into the SQL; every value is a parameter."""
    from django.db import connection

    from agencies.config import partnership_configs
    from agencies.models import Agency
    from escalations.models import Child, Party

    if not cases:
        return {}
    ids = [case.pk for case in cases]
    configs = partnership_configs(case.partnership_id for case in cases)
    children: dict[int, list[ChildFact]] = {pk: [] for pk in ids}
    agencies: dict[int, list[str]] = {pk: [] for pk in ids}
    ch, pa, ag = (_table(m) for m in (Child, Party, Agency))
    by_case, case_ids = _in(_column(Child, "difference"), ids)
    children_sql = (
        f"SELECT {_column(Child, 'difference')}, id, {_column(Child, 'name')}, "  # noqa: S608
        f"{_column(Child, 'date_of_birth')} FROM {ch} WHERE {by_case} "
        f"ORDER BY {_column(Child, 'difference')}, id"
    )
    party_of_case, _ = _in(f"t.{_column(Party, 'difference')}", ids)
    others_sql = (
        f"SELECT t.{_column(Party, 'difference')}, a.{_column(Agency, 'name')} "  # noqa: S608
        f"FROM {pa} t INNER JOIN {ag} a ON a.id = t.{_column(Party, 'agency')} "
        f"WHERE {party_of_case} AND t.{_column(Party, 'is_raising')} = %s "
        f"ORDER BY t.{_column(Party, 'difference')}, t.id"
    )
    with connection.cursor() as cursor:
        child_rows, other_rows, running_rows = _select_all(
            cursor,
            [
                (children_sql, case_ids),
                (others_sql, [*case_ids, False]),
                _running_entries_sql(ids, CLOCK_FIELDS),
            ],
        )
    for difference_id, pk, name, born in child_rows:
        children[difference_id].append(ChildFact(pk, name, born))
    for difference_id, agency_name in other_rows:
        agencies[difference_id].append(agency_name)
    running = _running_entries_from(running_rows, CLOCK_FIELDS)
    facts = {
        case.pk: ListFacts(
            calendar=configs[case.partnership_id].calendar,
            children=children[case.pk],
            other_agencies=agencies[case.pk],
        )
        for case in cases
    }
    for difference_id, entry in running.items():
        facts[difference_id].running = entry
    return facts


def differences_with_due_at(
    queryset: QuerySet[ProfessionalDifference],
) -> QuerySet[ProfessionalDifference]:
    """Annotate ``due_at``: when the running stage clock falls due (null when none runs)."""
    from django.db.models import F, FilteredRelation, Q

    return queryset.alias(
        open_clock=FilteredRelation(
            "stage_entries", condition=Q(stage_entries__left_at__isnull=True)
        )
    ).annotate(due_at=F("open_clock__due_at"))


def differences_waiting_for(user: Any) -> QuerySet[ProfessionalDifference]:
    """Cases the person may see where they own the current stage or must respond.

    The raiser at identified, clarification and Stage 1 (and when partially resolved at
    Stage 1); a named professional at Stage 1; line managers and safeguarding leads of a party
    agency at Stage 2, senior managers at Stage 3, directors at Stage 4 (each also when
    partially resolved there, since they may take it to the next stage); final-referral body
    members and business managers at final referral; business managers at learning review.
    """
    from django.db.models import Exists, OuterRef, Q

    from agencies.models import AgencyRole, PartnershipRole
    from agencies.selectors import roles_held
    from escalations.models import NamedProfessional, Party
    from escalations.states import Status

    visible = differences_visible_to(user)
    if not user.is_authenticated:
        return visible

    def at(stage: str) -> Q:
        return Q(status=stage) | Q(status=Status.PARTIALLY_RESOLVED, stage=stage)

    def party_agency_in(agency_ids: list[int]) -> Q:
        return Q(Exists(Party.objects.filter(difference=OuterRef("pk"), agency_id__in=agency_ids)))

    held = roles_held(user)
    conditions = Q(
        raised_by=user,
        status__in=[Status.IDENTIFIED, Status.CLARIFICATION, Status.STAGE_1],
    ) | Q(raised_by=user, status=Status.PARTIALLY_RESOLVED, stage=Status.STAGE_1)
    conditions |= Q(status=Status.STAGE_1) & Q(
        Exists(NamedProfessional.objects.filter(difference=OuterRef("pk"), user=user))
    )
    for stage, roles in (
        (Status.STAGE_2, {AgencyRole.LINE_MANAGER, AgencyRole.SAFEGUARDING_LEAD}),
        (Status.STAGE_3, {AgencyRole.SENIOR_MANAGER}),
        (Status.STAGE_4, {AgencyRole.DIRECTOR}),
    ):
        agency_ids = sorted(a for a, held_roles in held.by_agency.items() if held_roles & roles)
        if agency_ids:
            conditions |= at(stage) & party_agency_in(agency_ids)
    final_body = sorted(
        p
        for p, held_roles in held.by_partnership.items()
        if held_roles & {PartnershipRole.FINAL_REFERRAL_MEMBER, PartnershipRole.BUSINESS_MANAGER}
    )
    if final_body:
        conditions |= Q(status=Status.FINAL_REFERRAL, partnership_id__in=final_body)
    business = sorted(
        p
        for p, held_roles in held.by_partnership.items()
        if PartnershipRole.BUSINESS_MANAGER in held_roles
    )
    if business:
        conditions |= Q(status=Status.LEARNING_REVIEW, partnership_id__in=business)
    return visible.filter(conditions)


def differences_raised_by(user: Any) -> QuerySet[ProfessionalDifference]:
    """The cases the person raised (that they may see), open ones first, newest first."""
    from django.db.models import Case, IntegerField, Value, When

    from escalations.states import OPEN_STATES

    return (
        differences_visible_to(user)
        .filter(raised_by=user)
        .annotate(
            closed_rank=Case(
                When(status__in=OPEN_STATES, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("closed_rank", "-raised_at", "-pk")
    )


def agency_oversight_scope(user: Any) -> tuple[list[int], list[int]]:
    """The agencies where the person is a line manager, safeguarding lead, senior manager or
    director, and the partnerships where they are the business manager."""
    from agencies.models import AgencyRole, PartnershipRole
    from agencies.selectors import roles_held

    held = roles_held(user)
    oversight = {
        AgencyRole.LINE_MANAGER,
        AgencyRole.SAFEGUARDING_LEAD,
        AgencyRole.SENIOR_MANAGER,
        AgencyRole.DIRECTOR,
    }
    agencies = sorted(a for a, roles in held.by_agency.items() if roles & oversight)
    partnerships = sorted(
        p for p, roles in held.by_partnership.items() if PartnershipRole.BUSINESS_MANAGER in roles
    )
    return agencies, partnerships


def differences_of_my_agencies(user: Any) -> QuerySet[ProfessionalDifference]:
    """For managers, leads, senior managers, directors and business managers: the cases they
    may see that their agency is party to, or of their partnership. Empty for anyone else."""
    from django.db.models import Exists, OuterRef, Q

    from escalations.models import Party

    agencies, partnerships = agency_oversight_scope(user)
    if not agencies and not partnerships:
        return ProfessionalDifference.objects.none()
    scope = Q(partnership_id__in=partnerships) | Exists(
        Party.objects.filter(difference=OuterRef("pk"), agency_id__in=agencies)
    )
    return differences_visible_to(user).filter(scope).order_by("-raised_at", "-pk")


def child_get_for(user: Any, child_pk: int) -> Any:
    """The child ``child_pk`` if they are on a case ``user`` may see; 404 otherwise."""
    from escalations.models import Child

    child = (
        Child.objects.filter(pk=child_pk, difference__in=differences_visible_to(user))
        .only("pk", "name", "date_of_birth", "difference_id")
        .first()
    )
    if child is None:
        raise Http404("No such child.")
    return child


def differences_about_child(user: Any, child: Any) -> QuerySet[ProfessionalDifference]:
    """Every case ``user`` may see about ``child``: the same name (any case) and date of
    birth, matched only inside the visible set. Without a date of birth a child cannot be
    matched safely, so only their own case is returned."""
    from escalations.models import Child

    visible = differences_visible_to(user)
    if child.date_of_birth is None:
        return visible.filter(pk=child.difference_id)
    same_child = Child.objects.filter(
        difference__in=differences_visible_to(user),
        name__iexact=child.name,
        date_of_birth=child.date_of_birth,
    ).values("difference_id")
    return visible.filter(pk__in=same_child)


def notifications_unread_for(user: Any, limit: int = 20) -> list[Any]:
    """The person's unread in-app notices, newest first."""
    from escalations.models import Notification

    if not user.is_authenticated:
        return []
    return list(
        Notification.objects.filter(recipient=user, read_at__isnull=True)
        .select_related("difference")
        .order_by("-created_at", "-pk")[:limit]
    )


def differences_filtered(
    queryset: QuerySet[ProfessionalDifference], user: Any, filters: dict[str, Any]
) -> QuerySet[ProfessionalDifference]:
    """Narrow a visible set by the case list's filters (keys of ``CaseFilterForm``).

    Searching by a child's name only ever looks inside ``queryset``, so it cannot reveal a
    case the person may not see.
    """
    import re
    from datetime import datetime, time, timedelta

    from django.db.models import Exists, OuterRef, Q
    from django.utils import timezone

    from escalations.models import Child, Party, StageEntry

    if filters.get("status"):
        queryset = queryset.filter(status=filters["status"])
    if filters.get("stage"):
        queryset = queryset.filter(stage=filters["stage"])
    if filters.get("agency") is not None:
        queryset = queryset.filter(
            Exists(Party.objects.filter(difference=OuterRef("pk"), agency=filters["agency"]))
        )
    if filters.get("category") is not None:
        queryset = queryset.filter(category=filters["category"])
    if filters.get("breached"):
        queryset = queryset.filter(
            Exists(StageEntry.objects.filter(difference=OuterRef("pk"), breached_at__isnull=False))
        )
    if filters.get("urgent"):
        queryset = queryset.filter(is_urgent=True)
    if filters.get("mine"):
        queryset = queryset.filter(raised_by=user)
    if filters.get("raised_from"):
        start = timezone.make_aware(datetime.combine(filters["raised_from"], time.min))
        queryset = queryset.filter(raised_at__gte=start)
    if filters.get("raised_to"):
        day_after = filters["raised_to"] + timedelta(days=1)
        queryset = queryset.filter(
            raised_at__lt=timezone.make_aware(datetime.combine(day_after, time.min))
        )
    text = " ".join(str(filters.get("q") or "").split())
    if re.fullmatch(r"PD-\d{4}-\d+", text, flags=re.IGNORECASE):
        # A whole case reference: the unique index finds it (no child is named like one).
        queryset = queryset.filter(reference=text.upper())
    elif text:
        queryset = queryset.filter(
            Q(reference__icontains=text)
            | Exists(Child.objects.filter(difference=OuterRef("pk"), name__icontains=text))
        )
    return queryset


# -- the case page -----------------------------------------------------------------------------


class _RowPlan:
    """How to read one model's rows from hand-written SQL: its columns, in the order of its
    concrete fields, and the database converters the ORM would apply to each (a SQLite
    datetime, a JSON field), worked out once per model and database."""

    def __init__(self, model: Any, alias: str, only: tuple[str, ...] | None = None) -> None:
        from django.db import connection

        fields = model._meta.concrete_fields
        if only is not None:
            # A deferred instance of these fields alone (the rest load on access, as with
            # the ORM's ``only``), for a page that reads a few columns of many rows.
            fields = [f for f in fields if f.name in only or f.attname in only]
        self.model = model
        self.field_names = None if only is None else [f.attname for f in fields]
        self.width = len(fields)
        self.columns = ", ".join(f"{alias}.{connection.ops.quote_name(f.column)}" for f in fields)
        self.converters: list[tuple[int, Any, list[Any]]] = []
        for index, model_field in enumerate(fields):
            expression = model_field.get_col(model._meta.db_table)
            found = connection.ops.get_db_converters(expression) + model_field.get_db_converters(
                connection
            )
            if found:
                self.converters.append((index, expression, found))

    def build(self, row: Sequence[Any], start: int = 0) -> Any:
        from django.db import connection

        values = list(row[start : start + self.width])
        for index, expression, converters in self.converters:
            value = values[index]
            for converter in converters:
                value = converter(value, expression, connection)
            values[index] = value
        return self.model.from_db(connection.alias, self.field_names, values)


_ROW_PLANS: dict[tuple[str, str, Any, tuple[str, ...] | None], _RowPlan] = {}


def _plan(model: Any, alias: str, only: tuple[str, ...] | None = None) -> _RowPlan:
    from django.db import connection

    key = (connection.alias, alias, model, only)
    plan = _ROW_PLANS.get(key)
    if plan is None:
        plan = _ROW_PLANS[key] = _RowPlan(model, alias, only)
    return plan


def _in(column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
    """``column IN (values)`` and its parameters. On PostgreSQL, ``column = ANY(%s)`` with
    the values as one array: the statement's text is then the same for every page, so the
    driver parses it once (it re-parses, uncached, any long statement with a placeholder per
    value: half a millisecond a list page), and the plan is the same as IN's."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [list(values)]
    return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)


def _select_all(cursor: Any, statements: Sequence[tuple[str, Sequence[Any]]]) -> list[list[Any]]:
    """The rows of each SELECT in ``statements`` (SQL and parameters). On PostgreSQL they are
    sent as one query and their results read one after another (``nextset``): one round trip
    to the server instead of one each, which a page of several reads otherwise pays in
    waiting and in the driver's work per query. Elsewhere (SQLite takes one statement at a
    time) one query each."""
    from django.db import connection

    if connection.vendor != "postgresql" or len(statements) < 2:
        results = []
        for sql, params in statements:
            cursor.execute(sql, list(params))
            results.append(cursor.fetchall())
        return results
    cursor.execute(
        "; ".join(sql for sql, _ in statements), [value for _, ps in statements for value in ps]
    )
    results = [cursor.fetchall()]
    while len(results) < len(statements):
        if not cursor.cursor.nextset():  # pragma: no cover (PostgreSQL answers every one)
            raise RuntimeError("fewer results than statements")
        results.append(cursor.fetchall())
    return results


# What a stage clock reads of a running stage entry (``clock_for``), for lists.
CLOCK_FIELDS = ("id", "difference", "due_at", "left_at", "paused_at", "breached_at")


def _running_entries_sql(
    ids: Sequence[int], only: tuple[str, ...] | None = None
) -> tuple[str, list[Any]]:
    """The SQL reading the running stage entries of the cases in ``ids`` (``only`` those
    fields), for ``_running_entries_from``."""
    from escalations.models import StageEntry as StageEntryModel

    plan = _plan(StageEntryModel, "t", only)
    difference = _column(StageEntryModel, "difference")
    condition, params = _in(f"t.{difference}", ids)
    return (
        f"SELECT {plan.columns} FROM {_table(StageEntryModel)} t "  # noqa: S608
        f"WHERE {condition} AND t.{_column(StageEntryModel, 'left_at')} IS NULL "
        f"ORDER BY t.{difference}, t.id",
        params,
    )


def _running_entries_from(
    rows: Sequence[Sequence[Any]], only: tuple[str, ...] | None = None
) -> dict[int, StageEntry]:
    """The running stage entry (the first, should there be more) of each case."""
    from escalations.models import StageEntry as StageEntryModel

    plan = _plan(StageEntryModel, "t", only)
    running: dict[int, StageEntry] = {}
    for row in rows:
        entry = plan.build(row)
        running.setdefault(entry.difference_id, entry)
    return running


@dataclass
class CasePageFacts:
    """Everything the case page shows beyond the case's own row, read in seven SELECTs sent
    together (``_select_all``: one round trip on PostgreSQL) (the
    working calendar from the cached partnership configuration, ``agencies.config``, as the
    case list's)."""

    children: list[Any]
    parties: list[Any]  # raising party first, each with its agency
    named_professionals: list[Any]  # each with its agency
    actions: list[Any]
    linked_ids: set[int]
    entries: list[Any]  # in the order they happened
    running: StageEntry | None
    calendar: WorkingCalendar


def case_page_facts(difference: ProfessionalDifference) -> CasePageFacts:
    """The case's children, parties, named professionals, actions, links, chronology, running
    stage clock and working calendar, as model instances, in the order the ORM would give them.

    Written as SQL for the same reason as ``list_facts``: composing eight ORM queries cost
    more than running them (about a fifth of the page). Only table and column names from the
    models' metadata are formatted into the SQL; the case's id is a parameter. The case's
    own ``difference`` relation is set on each instance, as a related manager would."""
    from django.db import connection

    from agencies.config import partnership_config
    from agencies.models import Agency
    from escalations.models import Action, Child, NamedProfessional, Party
    from records.models import Entry

    pk = difference.pk
    links = ProfessionalDifference.linked_cases.through
    link_from = _column(links, "from_professionaldifference")
    link_to = _column(links, "to_professionaldifference")

    def attach(instance: Any) -> Any:
        instance._state.fields_cache["difference"] = difference
        return instance

    def own_sql(model: Any, order: str, *, with_agency: bool = False) -> tuple[str, list[Any]]:
        """The SQL reading the model's rows of this case, each with its agency when asked."""
        columns, join = _plan(model, "t").columns, ""
        if with_agency:
            columns += f", {_plan(Agency, 'a').columns}"
            join = f"INNER JOIN {_table(Agency)} a ON a.id = t.{_column(model, 'agency')} "
        return (
            f"SELECT {columns} FROM {_table(model)} t {join}"  # noqa: S608
            f"WHERE t.{_column(model, 'difference')} = %s ORDER BY {order}",
            [pk],
        )

    def own(model: Any, rows: list[Any], *, with_agency: bool = False) -> list[Any]:
        plan, agency_plan = _plan(model, "t"), _plan(Agency, "a")
        found = []
        for row in rows:
            instance = attach(plan.build(row))
            if with_agency:
                instance._state.fields_cache["agency"] = agency_plan.build(row, plan.width)
            found.append(instance)
        return found

    raising_first = f"t.{_column(Party, 'is_raising')} DESC, t.id"
    in_time_order = f"t.{_column(Entry, 'occurred_at')}, t.{_column(Entry, 'created_at')}, t.id"
    links_sql = (
        f"SELECT {link_from}, {link_to} FROM {_table(links)} "  # noqa: S608
        f"WHERE {link_from} = %s OR {link_to} = %s"
    )
    with connection.cursor() as cursor:
        rows = _select_all(
            cursor,
            [
                own_sql(Child, "t.id"),
                own_sql(Party, raising_first, with_agency=True),
                own_sql(NamedProfessional, "t.id", with_agency=True),
                own_sql(Action, "t.id"),
                own_sql(Entry, in_time_order),
                _running_entries_sql([pk]),
                (links_sql, [pk, pk]),
            ],
        )
    child_rows, party_rows, named_rows, action_rows, entry_rows, running_rows, link_rows = rows
    children = own(Child, child_rows)
    parties = own(Party, party_rows, with_agency=True)
    named = own(NamedProfessional, named_rows, with_agency=True)
    actions = own(Action, action_rows)
    entries = own(Entry, entry_rows)
    found = _running_entries_from(running_rows).get(pk)
    running = attach(found) if found is not None else None
    linked_ids = {to if from_ == pk else from_ for from_, to in link_rows}
    return CasePageFacts(
        children=children,
        parties=parties,
        named_professionals=named,
        actions=actions,
        linked_ids=linked_ids,
        entries=entries,
        running=running,
        calendar=partnership_config(difference.partnership_id).calendar,
    )
