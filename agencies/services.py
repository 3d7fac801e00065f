"""Writers for partnerships, agencies and roles.

Holding a role is kept in two places that must agree: the membership row (what the admin
shows) and the role's auth Group (what django-guardian grants case visibility to). These
services are the only code that changes either.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import Group, User
from django.db import transaction

from agencies.models import (
    DEFAULT_CATEGORIES,
    DEFAULT_TIMEFRAMES,
    Agency,
    AgencyMembership,
    AgencyRole,
    AgencyRoleGroup,
    Category,
    Partnership,
    PartnershipMembership,
    PartnershipRole,
    PartnershipRoleGroup,
    StageTimeframe,
    Track,
)
from agencies.selectors import roles_held_forget


def agency_role_group(*, agency: Agency, role: str) -> Group:
    """The auth Group standing for everyone holding ``role`` in ``agency`` (made if missing)."""
    link = AgencyRoleGroup.objects.select_related("group").filter(agency=agency, role=role).first()
    if link is not None:
        return link.group
    group, _ = Group.objects.get_or_create(name=f"agency:{agency.pk}:{role}")
    link, _ = AgencyRoleGroup.objects.get_or_create(
        agency=agency, role=role, defaults={"group": group}
    )
    return link.group


def partnership_role_group(*, partnership: Partnership, role: str) -> Group:
    """The auth Group standing for everyone holding ``role`` in ``partnership``."""
    link = (
        PartnershipRoleGroup.objects.select_related("group")
        .filter(partnership=partnership, role=role)
        .first()
    )
    if link is not None:
        return link.group
    group, _ = Group.objects.get_or_create(name=f"partnership:{partnership.pk}:{role}")
    link, _ = PartnershipRoleGroup.objects.get_or_create(
        partnership=partnership, role=role, defaults={"group": group}
    )
    return link.group


@transaction.atomic
def partnership_defaults_ensure(*, partnership: Partnership) -> None:
    """Give a partnership its role groups, the seed categories and spec §4's timeframes."""
    for role in PartnershipRole.values:
        partnership_role_group(partnership=partnership, role=role)
    if not partnership.categories.exists():
        Category.objects.bulk_create(
            Category(partnership=partnership, name=name, position=i)
            for i, name in enumerate(DEFAULT_CATEGORIES)
        )
    existing = set(partnership.timeframes.values_list("stage", "track"))
    missing = []
    for stage, (standard, urgent) in DEFAULT_TIMEFRAMES.items():
        for track, (value, unit) in ((Track.STANDARD, standard), (Track.URGENT, urgent)):
            if (stage, track) not in existing:
                missing.append(
                    StageTimeframe(
                        partnership=partnership, stage=stage, track=track, value=value, unit=unit
                    )
                )
    StageTimeframe.objects.bulk_create(missing)


@transaction.atomic
def partnership_create(*, name: str, slug: str, **fields: Any) -> Partnership:
    """Create a partnership with its defaults."""
    partnership = Partnership.objects.create(name=name, slug=slug, **fields)
    partnership_defaults_ensure(partnership=partnership)
    return partnership


@transaction.atomic
def agency_create(*, partnership: Partnership, name: str, agency_type: str) -> Agency:
    """Add an agency to a partnership, with a role group for each agency role."""
    agency = Agency.objects.create(partnership=partnership, name=name, agency_type=agency_type)
    agency_role_groups_ensure(agency=agency)
    return agency


def agency_role_groups_ensure(*, agency: Agency) -> None:
    """Make sure every agency role has its group (idempotent)."""
    for role in AgencyRole.values:
        agency_role_group(agency=agency, role=role)


@transaction.atomic
def agency_membership_grant(
    *, user: User, agency: Agency, role: str, job_title: str = ""
) -> AgencyMembership:
    """Give ``user`` the ``role`` in ``agency`` (idempotent)."""
    membership, created = AgencyMembership.objects.get_or_create(
        user=user, agency=agency, role=role, defaults={"job_title": job_title}
    )
    if not created and job_title and membership.job_title != job_title:
        membership.job_title = job_title
        membership.save(update_fields=["job_title"])
    agency_role_group(agency=agency, role=role).user_set.add(user)
    roles_held_forget(user)
    return membership


@transaction.atomic
def agency_membership_revoke(*, membership: AgencyMembership) -> None:
    """Take a role away; the person stops seeing the cases that role showed them."""
    group = agency_role_group(agency=membership.agency, role=membership.role)
    group.user_set.remove(membership.user)
    membership.delete()


@transaction.atomic
def partnership_membership_grant(
    *, user: User, partnership: Partnership, role: str
) -> PartnershipMembership:
    """Give ``user`` a partnership-wide ``role`` (idempotent)."""
    membership, _ = PartnershipMembership.objects.get_or_create(
        user=user, partnership=partnership, role=role
    )
    group = partnership_role_group(partnership=partnership, role=role)
    group.user_set.add(user)
    roles_held_forget(user)
    return membership


@transaction.atomic
def partnership_membership_revoke(*, membership: PartnershipMembership) -> None:
    """Take a partnership-wide role away."""
    group = partnership_role_group(partnership=membership.partnership, role=membership.role)
    group.user_set.remove(membership.user)
    membership.delete()


def memberships_revoke(memberships: Iterable[AgencyMembership | PartnershipMembership]) -> None:
    """Revoke several memberships of either kind (used by the admin's bulk delete)."""
    for membership in memberships:
        if isinstance(membership, AgencyMembership):
            agency_membership_revoke(membership=membership)
        else:
            partnership_membership_revoke(membership=membership)
