"""Session limits and compulsory multi-factor authentication.

``SessionLimitsMiddleware`` ends a session 12 hours after sign-in however active it is (the
30-minute idle limit is Django's own: SESSION_COOKIE_AGE with SESSION_SAVE_EVERY_REQUEST),
and keeps the person -> sessions table current. ``MFARequiredMiddleware`` sends anyone
signed in without an authenticator to the authenticator set-up page, whatever they ask for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode

from accounts.services import session_forget
from accounts.sessions import MFA_ENROLLED, is_past_absolute_limit, track

# The only pages someone without an authenticator may reach once signed in.
MFA_SETUP_URL_NAMES = frozenset({"mfa_activate_totp", "sign_out", "account_logout"})
PRIMARY_TYPES = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)


class SessionLimitsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            if is_past_absolute_limit(request):
                return self._end(request)
            track(request, user)
        return self.get_response(request)

    def _end(self, request: HttpRequest) -> HttpResponse:
        """End this session only (the person's other devices keep theirs)."""
        session_forget(session_key=request.session.session_key)
        request.session.flush()
        request.user = AnonymousUser()
        messages.info(request, "You have been signed out: a session lasts at most 12 hours.")
        query = urlencode({REDIRECT_FIELD_NAME: request.get_full_path()})
        return HttpResponseRedirect(f"{reverse('sign_in')}?{query}")


class MFARequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        user = request.user
        if not user.is_authenticated or request.session.get(MFA_ENROLLED):
            return None
        if Authenticator.objects.filter(user=user, type__in=PRIMARY_TYPES).exists():
            request.session[MFA_ENROLLED] = True
            return None
        match = request.resolver_match
        if match is not None and match.url_name in MFA_SETUP_URL_NAMES:
            return None
        if request.path.startswith(settings.STATIC_URL or "/static/"):
            return None
        return HttpResponseRedirect(reverse("mfa_activate_totp"))
