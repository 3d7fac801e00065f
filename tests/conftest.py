"""Personas and the test world.

Partnership P has agencies A (the raiser's, children's social care), B (the other party,
police) and C (not a party, a school); partnership Q has agency D. Every agency has a person in
every agency role; P has a business manager, a final-referral body member and an
administrator; Q has a business manager. ``raiser`` is A's practitioner; ``b_named`` is B's
practitioner, named on cases.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import connection

from agencies.models import Agency, AgencyRole, AgencyType, Category, Partnership, PartnershipRole
from agencies.services import agency_membership_grant, partnership_membership_grant
from tests.factories.directory import AgencyFactory, PartnershipFactory, UserFactory
from tests.support.mfa import enrol

AGENCY_ROLES = tuple(AgencyRole.values)


@dataclass
class World:
    partnership: Partnership
    other_partnership: Partnership
    agency_a: Agency
    agency_b: Agency
    agency_c: Agency
    agency_d: Agency
    category: Category
    people: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        people = self.__dict__.get("people", {})
        if name in people:
            return people[name]
        raise AttributeError(name)


def build_world() -> World:
    """Create the test world (see the module docstring)."""
    p = PartnershipFactory(name="Partnership P", slug="p")
    q = PartnershipFactory(name="Partnership Q", slug="q")
    a = AgencyFactory(
        partnership=p, name="A social care", agency_type=AgencyType.CHILDRENS_SOCIAL_CARE
    )
    b = AgencyFactory(partnership=p, name="B police", agency_type=AgencyType.POLICE)
    c = AgencyFactory(partnership=p, name="C school", agency_type=AgencyType.SCHOOL)
    d = AgencyFactory(
        partnership=q, name="D social care", agency_type=AgencyType.CHILDRENS_SOCIAL_CARE
    )
    world = World(
        partnership=p,
        other_partnership=q,
        agency_a=a,
        agency_b=b,
        agency_c=c,
        agency_d=d,
        category=Category.objects.filter(partnership=p).first(),  # type: ignore[arg-type]
    )
    for prefix, agency in (("a", a), ("b", b), ("c", c), ("d", d)):
        for role in AGENCY_ROLES:
            user = UserFactory(username=f"{prefix}_{role}", enrolled=False)
            agency_membership_grant(user=user, agency=agency, role=role)
            world.people[f"{prefix}_{role}"] = user
    world.people["raiser"] = world.people["a_practitioner"]
    world.people["b_named"] = world.people["b_practitioner"]
    second = UserFactory(username="a_practitioner_2", enrolled=False)
    agency_membership_grant(user=second, agency=a, role=AgencyRole.PRACTITIONER)
    world.people["a_other_practitioner"] = second
    for name, partnership, role in (
        ("business_manager", p, PartnershipRole.BUSINESS_MANAGER),
        ("final_body_member", p, PartnershipRole.FINAL_REFERRAL_MEMBER),
        ("administrator", p, PartnershipRole.ADMINISTRATOR),
        ("q_business_manager", q, PartnershipRole.BUSINESS_MANAGER),
        ("q_final_body_member", q, PartnershipRole.FINAL_REFERRAL_MEMBER),
    ):
        user = UserFactory(username=name, enrolled=False)
        partnership_membership_grant(user=user, partnership=partnership, role=role)
        world.people[name] = user
    world.people["outsider"] = UserFactory(username="outsider", enrolled=False)
    world.people["superuser"] = UserFactory(
        username="root", is_superuser=True, is_staff=True, enrolled=False
    )
    # Everyone signs in with a second factor: one TOTP authenticator each, in one INSERT.
    enrol({user.pk: user for user in world.people.values()}.values())
    return world


@pytest.fixture(autouse=True)
def _empty_cache() -> Any:
    """allauth keeps rate limits and used TOTP codes in the cache, and each process its copy of
    the partnerships' configuration (``agencies.config``) and of who has many grants
    (``escalations.selectors``): each test starts clean."""
    from django.core.cache import cache

    from agencies.config import forget_partnership_config
    from escalations.selectors import forget_grant_counts

    cache.clear()
    forget_partnership_config()
    forget_grant_counts()
    yield
    cache.clear()
    forget_partnership_config()
    forget_grant_counts()


@pytest.fixture
def world(db: Any) -> World:
    return build_world()


@pytest.fixture
def practitioner_a(world: World) -> Any:
    return world.raiser


@pytest.fixture
def manager_a(world: World) -> Any:
    return world.a_line_manager


@pytest.fixture
def practitioner_b(world: World) -> Any:
    return world.b_practitioner


@pytest.fixture
def outsider(world: World) -> Any:
    return world.outsider


def _service_missing(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} is required in CI but is not available.")
    pytest.skip(f"needs {what}")


@pytest.fixture
def postgres(db: Any) -> None:
    """Skip (fail in CI) unless the tests run on PostgreSQL."""
    if connection.vendor != "postgresql":
        _service_missing("PostgreSQL (set DATABASE_URL)")


@pytest.fixture
def postgres_transactional(transactional_db: Any) -> None:
    """As ``postgres``, for tests that need real commits (threads, triggers)."""
    if connection.vendor != "postgresql":
        _service_missing("PostgreSQL (set DATABASE_URL)")
