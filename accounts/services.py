"""Session bookkeeping: the only writers of SignedInSession."""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from accounts.models import SignedInSession


def session_track(*, user: Any, session_key: str | None) -> None:
    """Remember that this session belongs to this person."""
    if not session_key or user is None or user.pk is None:
        return
    SignedInSession.objects.update_or_create(session_key=session_key, defaults={"user": user})
    # Forget this person's sessions that have since expired, so the table stays small.
    live = Session.objects.filter(expire_date__gt=timezone.now()).values("session_key")
    SignedInSession.objects.filter(user=user).exclude(session_key=session_key).exclude(
        session_key__in=live
    ).delete()


def session_forget(*, session_key: str | None) -> None:
    """Forget one session (it has ended on its own)."""
    if session_key:
        SignedInSession.objects.filter(session_key=session_key).delete()


@transaction.atomic
def sessions_end_all(*, user: Any) -> int:
    """End every session of this person at once (every device); the number ended."""
    keys = list(SignedInSession.objects.filter(user=user).values_list("session_key", flat=True))
    ended, _ = Session.objects.filter(session_key__in=keys).delete()
    SignedInSession.objects.filter(user=user).delete()
    return ended
