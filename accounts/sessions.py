"""Session keys this app keeps in each signed-in session."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from accounts.services import session_track

# When the person signed in (seconds since the epoch): the 12-hour absolute limit.
SIGNED_IN_AT = "accounts.signed_in_at"
# The session key last recorded in SignedInSession (a cycled key is recorded again).
TRACKED_KEY = "accounts.tracked_key"
# Set once the person is known to have an authenticator (no query on every request).
MFA_ENROLLED = "accounts.mfa_enrolled"
# When the session's expiry was last pushed 30 minutes on (accounts.middleware).
RENEWED_AT = "accounts.renewed_at"


def absolute_age() -> int:
    return int(getattr(settings, "SESSION_ABSOLUTE_AGE", 12 * 60 * 60))


def record_sign_in(request: HttpRequest, user: Any) -> None:
    """Start the absolute clock and remember the session for sign-out everywhere."""
    request.session[SIGNED_IN_AT] = time.time()
    request.session.pop(MFA_ENROLLED, None)
    track(request, user)


def track(request: HttpRequest, user: Any) -> None:
    key = request.session.session_key
    if key and request.session.get(TRACKED_KEY) != key:
        session_track(user=user, session_key=key)
        request.session[TRACKED_KEY] = key


def is_past_absolute_limit(request: HttpRequest) -> bool:
    signed_in_at = request.session.get(SIGNED_IN_AT)
    if not isinstance(signed_in_at, int | float):
        # A session without a recorded sign-in predates this control: end it.
        return True
    return time.time() - signed_in_at >= absolute_age()
