"""Re-authentication before sensitive downloads (allauth's records in the session)."""

from __future__ import annotations

import time

from allauth.account import app_settings
from allauth.account.internal.flows.login import get_authentication_records
from allauth.core.exceptions import ReauthenticationRequired
from django.http import HttpRequest


def recently_reauthenticated(request: HttpRequest) -> bool:
    """Whether the person re-entered their password or a code within the timeout."""
    user = request.user
    if not user.is_authenticated:
        return False
    records = [r for r in get_authentication_records(request, user) if r.get("reauthenticated")]
    if not records:
        return False
    return time.time() - records[-1]["at"] < app_settings.REAUTHENTICATION_TIMEOUT


def require_recent_reauthentication(request: HttpRequest) -> None:
    """Call AFTER the visibility check: raises ReauthenticationRequired, which allauth's
    middleware turns into a redirect to the re-authentication page that returns here."""
    if not recently_reauthenticated(request):
        raise ReauthenticationRequired()
