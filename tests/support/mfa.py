"""Test people's second factor: a TOTP authenticator with a known secret, and its codes."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from allauth.mfa.utils import encrypt
from django.core.cache import cache

# Base32, as authenticator apps take it. Every test person shares it.
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DP"


def enrol(users: Iterable[Any], secret: str = TOTP_SECRET) -> None:
    """Give each person a TOTP authenticator (one INSERT for them all)."""
    Authenticator.objects.bulk_create(
        Authenticator(user=user, type=Authenticator.Type.TOTP, data={"secret": encrypt(secret)})
        for user in users
    )


# A code asked for now stays valid at least this long: allauth accepts only the current
# 30-second window (no tolerance), and a browser test takes a second or more on a busy machine
# between reading the code and the server checking it.
FRESH_FOR_SECONDS = 5.0


def totp_code(secret: str = TOTP_SECRET, at: float | None = None) -> str:
    """The code an authenticator app shows now (or at ``at``), by allauth's own HOTP. Now,
    within the last ``FRESH_FOR_SECONDS`` of a window, it waits for the next window first, as
    a person would wait for the app's next code rather than type one about to expire."""
    if at is None:
        left = 30 - time.time() % 30
        if left < FRESH_FOR_SECONDS:
            time.sleep(left + 0.05)
    counter = int(time.time() if at is None else at) // 30
    return format_hotp_value(hotp_value(secret, counter))


def forget_used_code(user: Any, code: str) -> None:
    """allauth refuses a code used twice within its 30 seconds (replay protection). A test
    that signs the same person in twice within one window forgets the first use."""
    cache.delete(f"allauth.mfa.totp.used?user={user.pk}&code={code}")


def reauthenticate(client: Any, password: str = "a-test-password-123") -> None:
    """Re-enter the password on the re-authentication page, as before a download."""
    from django.urls import reverse

    response = client.post(reverse("account_reauthenticate"), {"password": password})
    assert response.status_code == 302, response
