"""The only readers of "which cases may this person see" (spec §5).

Every view, list, search, export, PDF and report goes through these. A case the person may
not see is a 404, never a 403.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from guardian.shortcuts import get_objects_for_user

from escalations.models import ProfessionalDifference

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
    from django.contrib.auth.models import Permission
    from django.db.models import Exists, OuterRef, Subquery

    from agencies.models import AgencyRoleGroup, PartnershipRoleGroup
    from escalations.models import DifferenceGroupObjectPermission, DifferenceUserObjectPermission

    if not user.is_authenticated or not user.is_active:
        return ProfessionalDifference.objects.none()
    app_label, codename = VIEW_PERMISSION.split(".")
    # A scalar subquery: PostgreSQL runs it once (an InitPlan), not once a row.
    permission = Subquery(
        Permission.objects.filter(content_type__app_label=app_label, codename=codename).values(
            "pk"
        )[:1]
    )
    group_ids = list(user.groups.values_list("pk", flat=True))
    # Whether there are that many, without counting them: is there a grant at that offset?
    many = (
        PROBE_FROM_GRANTS <= 0
        or DifferenceGroupObjectPermission.objects.filter(
            group_id__in=group_ids, permission=permission
        )
        .order_by()[PROBE_FROM_GRANTS - 1 : PROBE_FROM_GRANTS]
        .exists()
    )
    if not many:
        return differences_visible_to(user)
    # The partnerships the grants can be in: of the person's role groups, and of the cases
    # granted to them by name. A group that is no role group's leaves the walk unbounded.
    role_groups = dict(
        AgencyRoleGroup.objects.filter(group_id__in=group_ids).values_list(
            "group_id", "agency__partnership_id"
        )
    ) | dict(
        PartnershipRoleGroup.objects.filter(group_id__in=group_ids).values_list(
            "group_id", "partnership_id"
        )
    )
    partnerships = set(role_groups.values())
    own = DifferenceUserObjectPermission.objects.filter(
        content_object=OuterRef("pk"), user=user, permission=permission
    ).values("pk")
    grants = own.union(
        DifferenceGroupObjectPermission.objects.filter(
            content_object=OuterRef("pk"), group_id__in=group_ids, permission=permission
        ).values("pk"),
        all=True,
    )
    visible = ProfessionalDifference.objects.filter(Exists(grants))
    if set(role_groups) == set(group_ids):
        partnerships |= set(
            DifferenceUserObjectPermission.objects.filter(user=user, permission=permission)
            .values_list("content_object__partnership_id", flat=True)
            .distinct()
        )
        visible = visible.filter(partnership_id__in=sorted(partnerships))
    return visible


def _visibility_probe_sql() -> str:
    """The condition "the current row of the case table is granted to the person", as SQL
    over guardian's direct permission tables (the person's own grant, or their groups')."""
    from django.contrib.auth.models import Permission, User
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection

    from escalations.models import DifferenceGroupObjectPermission, DifferenceUserObjectPermission

    def table(model: Any) -> str:
        return str(connection.ops.quote_name(model._meta.db_table))

    user_groups = User.groups.through
    case = table(ProfessionalDifference)
    # Only table names from the models' metadata are formatted in; every value is a parameter.
    permission = (
        f"(SELECT p.id FROM {table(Permission)} p INNER JOIN {table(ContentType)} t "  # noqa: S608
        "ON p.content_type_id = t.id WHERE t.app_label = %s AND p.codename = %s LIMIT 1)"
    )
    return (
        f"(EXISTS (SELECT 1 FROM {table(DifferenceUserObjectPermission)} o "  # noqa: S608
        f"WHERE o.content_object_id = {case}.id AND o.user_id = %s "
        f"AND o.permission_id = {permission}) "
        f"OR EXISTS (SELECT 1 FROM {table(DifferenceGroupObjectPermission)} g "
        f"INNER JOIN {table(user_groups)} m ON m.group_id = g.group_id "
        f"WHERE g.content_object_id = {case}.id AND m.user_id = %s "
        f"AND g.permission_id = {permission}))"
    )


def _difference_by_probe(user: Any) -> QuerySet[ProfessionalDifference]:
    """The visible set as a correlated EXISTS, for reading one case by its key: only that
    case's grants are probed, whatever the size of the person's set. Written as SQL (the same
    condition the ORM's ``Exists(...) | Exists(...)`` builds) because composing those
    subqueries cost more CPU than the rest of a case page's queries together."""
    from django.db.models import BooleanField
    from django.db.models.expressions import RawSQL

    if not user.is_authenticated or not user.is_active:
        return ProfessionalDifference.objects.none()
    app_label, codename = VIEW_PERMISSION.split(".")
    granted = RawSQL(  # noqa: S611 (the values are parameters; see _visibility_probe_sql)
        _visibility_probe_sql(),
        (user.pk, app_label, codename, user.pk, app_label, codename),
        output_field=BooleanField(),
    )
    return ProfessionalDifference.objects.filter(granted)


def difference_get_for(user: Any, pk: int) -> ProfessionalDifference:
    """The case ``pk`` if ``user`` may see it; 404 otherwise."""
    try:
        return _difference_by_probe(user).select_related("partnership", "category").get(pk=pk)
    except ProfessionalDifference.DoesNotExist:
        raise Http404("No such case.") from None


def difference_visible_to_user(user: Any, difference: ProfessionalDifference) -> bool:
    """Whether ``user`` may see ``difference``."""
    return _difference_by_probe(user).filter(pk=difference.pk).exists()


# -- lists (home page, case list, a child's chronology) ---------------------------------------
# Every list below starts from ``differences_visible_to``: it only ever narrows that set.


def list_facts_lookups() -> list[Any]:
    """The prefetches of ``differences_with_list_facts``, for rows already fetched
    (``prefetch_related_objects``). Each goes to a plain list attribute (``list_children``,
    ``list_parties``, ``open_stage_entries``): a related manager per row would cost a
    queryset clone per row and prefetch, several milliseconds a page of 50; the partnership's
    closure days likewise go to ``list_closure_days``."""
    from django.db.models import Prefetch

    from agencies.models import ClosureDay
    from escalations.models import Child, Party, StageEntry

    return [
        Prefetch(
            "partnership__closure_days",
            queryset=ClosureDay.objects.order_by("partnership_id", "date"),
            to_attr="list_closure_days",
        ),
        Prefetch(
            "children",
            queryset=Child.objects.order_by("difference_id", "pk"),
            to_attr="list_children",
        ),
        Prefetch(
            "parties",
            queryset=Party.objects.select_related("agency").order_by(
                "difference_id", "-is_raising", "pk"
            ),
            to_attr="list_parties",
        ),
        Prefetch(
            "stage_entries",
            queryset=StageEntry.objects.filter(left_at__isnull=True).order_by(
                "difference_id", "pk"
            ),
            to_attr="open_stage_entries",
        ),
    ]


def differences_with_list_facts(
    queryset: QuerySet[ProfessionalDifference],
) -> QuerySet[ProfessionalDifference]:
    """What a row of a case list shows, fetched in a constant number of queries whatever the
    length: the partnership (and its closure days, for the clock), the children
    (``list_children``), the parties with their agencies (``list_parties``) and the running
    stage clock (``open_stage_entries``)."""
    return queryset.select_related("partnership").prefetch_related(*list_facts_lookups())


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
