"""Session limits and compulsory multi-factor authentication.

``SessionLimitsMiddleware`` ends a session 12 hours after sign-in however active it is, and
keeps the person -> sessions table current. The 30-minute idle limit is the database
row's expiry (SESSION_COOKIE_AGE), renewed by ``RenewingSessionMiddleware``: it stands in
for Django's SessionMiddleware and saves the session (a new expiry) when it was last
renewed SESSION_RENEW_AFTER seconds ago or more, instead of on every request
(SESSION_SAVE_EVERY_REQUEST). A session therefore ends after between 30 minutes less
SESSION_RENEW_AFTER and 30 minutes without a request: never later than the limit.
``MFARequiredMiddleware`` sends anyone signed in without an authenticator to the
authenticator set-up page, whatever they ask for.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode

from accounts.services import session_forget
from accounts.sessions import MFA_ENROLLED, RENEWED_AT, is_past_absolute_limit, track

# The only pages someone without an authenticator may reach once signed in.
MFA_SETUP_URL_NAMES = frozenset({"mfa_activate_totp", "sign_out", "account_logout"})
PRIMARY_TYPES = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)


class RenewingSessionMiddleware(SessionMiddleware):
    """Django's SessionMiddleware, saving a session with data only when it changed or when its
    expiry was last renewed ``SESSION_RENEW_AFTER`` seconds ago or more (one UPDATE a minute
    for an active person rather than one per request)."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        session = getattr(request, "session", None)
        if session is not None and not session.is_empty():
            accessed = session.accessed
            renewed_at = session.get(RENEWED_AT)
            now = time.time()
            due = not isinstance(renewed_at, int | float) or not (
                0 <= now - renewed_at < settings.SESSION_RENEW_AFTER
            )
            # A key that matched no live session loaded as empty: nothing to renew.
            if due and session.session_key:
                session[RENEWED_AT] = now
            # Reading the renewal time is not the page reading the session (Vary: Cookie).
            session.accessed = accessed
        return super().process_response(request, response)


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
