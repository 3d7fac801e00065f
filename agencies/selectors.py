"""Readers of who holds which role."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.models import AnonymousUser, User

from agencies.models import (
    Agency,
    AgencyMembership,
    Category,
    Partnership,
    PartnershipMembership,
)
from ops.db import server_cursor

_CACHE_ATTRIBUTE = "_roles_held"


@dataclass(frozen=True)
class RolesHeld:
    """The roles one person holds, by agency id and by partnership id."""

    by_agency: dict[int, frozenset[str]] = field(default_factory=dict)
    by_partnership: dict[int, frozenset[str]] = field(default_factory=dict)
    agency_partnership: dict[int, int] = field(default_factory=dict)
    # The name of every partnership above (for the page header).
    partnership_names: dict[int, str] = field(default_factory=dict)

    def in_agency(self, agency_id: int, *roles: str) -> bool:
        """Whether the person holds any of ``roles`` in the agency."""
        held = self.by_agency.get(agency_id, frozenset())
        return any(role in held for role in roles)

    def in_any_agency(self, agency_ids: frozenset[int] | set[int], *roles: str) -> bool:
        """Whether the person holds any of ``roles`` in any of the agencies."""
        return any(self.in_agency(agency_id, *roles) for agency_id in agency_ids)

    def in_partnership(self, partnership_id: int, *roles: str) -> bool:
        """Whether the person holds any of ``roles`` in the partnership."""
        held = self.by_partnership.get(partnership_id, frozenset())
        return any(role in held for role in roles)


def roles_held(user: User | AnonymousUser) -> RolesHeld:
    """Every role ``user`` holds (one query, then cached on the user object)."""
    if not user.is_authenticated or not user.is_active:
        return RolesHeld()
    cached = getattr(user, _CACHE_ATTRIBUTE, None)
    if cached is not None:
        return cached
    by_agency: dict[int, set[str]] = {}
    agency_partnership: dict[int, int] = {}
    by_partnership: dict[int, set[str]] = {}
    names: dict[int, str] = {}
    for kind, agency_id, partnership_id, role, name in _memberships(user.pk):
        names[partnership_id] = name
        if kind == "a" and agency_id is not None:
            by_agency.setdefault(agency_id, set()).add(role)
            agency_partnership[agency_id] = partnership_id
        else:
            by_partnership.setdefault(partnership_id, set()).add(role)
    held = RolesHeld(
        by_agency={k: frozenset(v) for k, v in by_agency.items()},
        by_partnership={k: frozenset(v) for k, v in by_partnership.items()},
        agency_partnership=agency_partnership,
        partnership_names=names,
    )
    setattr(user, _CACHE_ATTRIBUTE, held)
    return held


def _memberships(user_id: int) -> list[tuple[str, int | None, int, str, str]]:
    """(kind, agency id, partnership id, role, partnership name) of each role the person
    holds: "a" in an active agency, "p" in a partnership. One SQL query: every page asks, and
    composing two ORM queries cost more than running them."""
    from django.db import connection

    def table(model: type) -> str:
        return str(connection.ops.quote_name(model._meta.db_table))  # type: ignore[attr-defined]

    sql = (
        f"SELECT 'a', m.agency_id, a.partnership_id, m.role, p.name "  # noqa: S608
        f"FROM {table(AgencyMembership)} m INNER JOIN {table(Agency)} a ON a.id = m.agency_id "
        f"INNER JOIN {table(Partnership)} p ON p.id = a.partnership_id "
        "WHERE m.user_id = %s AND a.active = %s "
        "UNION ALL "
        "SELECT 'p', CAST(NULL AS INTEGER), m.partnership_id, m.role, p.name "
        f"FROM {table(PartnershipMembership)} m "
        f"INNER JOIN {table(Partnership)} p ON p.id = m.partnership_id "
        "WHERE m.user_id = %s"
    )
    # Run on every page: prepared, so PostgreSQL plans it once per connection (ops.db).
    with server_cursor(prepare=True) as cursor:
        cursor.execute(sql, [user_id, True, user_id])
        return list(cursor.fetchall())


def roles_held_forget(user: User) -> None:
    """Drop the cached roles (after a membership change in the same request)."""
    if hasattr(user, _CACHE_ATTRIBUTE):
        delattr(user, _CACHE_ATTRIBUTE)


# -- the raise journey's directory look-ups ---------------------------------------------------


def agencies_held_by(user: User | AnonymousUser) -> list[Agency]:
    """The active agencies in which ``user`` holds a role (those they may raise for)."""
    agency_ids = list(roles_held(user).by_agency)
    if not agency_ids:
        return []
    return list(
        Agency.objects.filter(pk__in=agency_ids, active=True)
        .select_related("partnership")
        .order_by("partnership__name", "name")
    )


def agencies_of_partnership(partnership_id: int) -> list[Agency]:
    """The partnership's active agencies, by name."""
    return list(Agency.objects.filter(partnership_id=partnership_id, active=True).order_by("name"))


def memberships_in_agencies(
    agency_ids: list[int], roles: list[str] | None = None
) -> list[AgencyMembership]:
    """The roles active people hold in the (active) agencies, with the person and agency
    loaded; only ``roles`` when given."""
    memberships = AgencyMembership.objects.filter(
        agency_id__in=agency_ids, agency__active=True, user__is_active=True
    ).select_related("user", "agency")
    if roles is not None:
        memberships = memberships.filter(role__in=roles)
    return list(
        memberships.order_by(
            "agency__name", "user__first_name", "user__last_name", "user__username", "role"
        )
    )


def categories_of_partnership(partnership_id: int) -> list[Category]:
    """The partnership's active categories, in their configured order."""
    return list(Category.objects.filter(partnership_id=partnership_id, active=True))


def partnerships_administered_by(user: User | AnonymousUser) -> list[int]:
    """Ids of the partnerships ``user`` administers (superusers get none: operators use the
    Django admin, and the administration pages are for partnership administrators)."""
    from agencies.models import PartnershipRole

    held = roles_held(user)
    return sorted(
        pk for pk, roles in held.by_partnership.items() if PartnershipRole.ADMINISTRATOR in roles
    )
