"""Factories for partnerships, agencies and people (through the agencies services, so role
groups exist as they do in the app)."""

from __future__ import annotations

from typing import Any

import factory
from django.contrib.auth import get_user_model

from agencies.models import Agency, AgencyType, Partnership
from agencies.services import agency_create, partnership_create


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"person{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.invalid")
    password = factory.django.Password("a-test-password-123")

    @factory.post_generation
    def enrolled(obj: Any, create: bool, extracted: bool | None, **kwargs: Any) -> None:
        """Everyone has a second factor (a TOTP authenticator with the tests' known secret)
        unless made with ``enrolled=False``; build_world enrols its personas in one go."""
        if create and extracted is not False:
            from allauth.mfa.models import Authenticator

            if not Authenticator.objects.filter(user=obj).exists():
                from tests.support.mfa import enrol

                enrol([obj])


class PartnershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partnership

    name = factory.Sequence(lambda n: f"Partnership {n}")
    slug = factory.Sequence(lambda n: f"partnership-{n}")

    @classmethod
    def _create(cls, model_class: type[Partnership], *args: Any, **kwargs: Any) -> Partnership:
        return partnership_create(**kwargs)


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency

    partnership = factory.SubFactory(PartnershipFactory)
    name = factory.Sequence(lambda n: f"Agency {n}")
    agency_type = AgencyType.OTHER

    @classmethod
    def _create(cls, model_class: type[Agency], *args: Any, **kwargs: Any) -> Agency:
        return agency_create(**kwargs)
