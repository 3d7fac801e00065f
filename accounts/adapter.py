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

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        """Failed passwords are django-axes' to count (10 per account and per address, with
        its lockout page); allauth's own "login_failed" limit, which would refuse sooner with
        another message, stays for what axes never sees: wrong authenticator codes."""

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
