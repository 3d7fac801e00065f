"""allauth adapters: no self sign-up; set-up of the first authenticator right after
sign-in needs no second password prompt."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from allauth.mfa.models import Authenticator
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        """Accounts are made by partnership administrators, never by sign-up."""
        return False

    def is_reauthentication_required(self, *, app: str, **kwargs: Any) -> bool:
        request = context.request
        user = getattr(request, "user", None)
        if (
            app == "allauth.mfa"
            and user is not None
            and user.is_authenticated
            and not Authenticator.objects.filter(user=user).exists()
        ):
            # Enrolment: the person has only their password, which they gave at sign-in
            # moments ago (the MFA middleware allows nothing else until they enrol).
            return False
        return super().is_reauthentication_required(app=app, **kwargs)
