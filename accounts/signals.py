"""Receivers: sign-in starts the clocks, sign-out and deactivation end every session."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.http import HttpRequest

from accounts.services import sessions_end_all
from accounts.sessions import record_sign_in


@receiver(user_logged_in, dispatch_uid="accounts.signed_in")
def signed_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        record_sign_in(request, user)


@receiver(user_logged_out, dispatch_uid="accounts.signed_out")
def signed_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """Signing out on one device signs the person out everywhere."""
    if user is not None and user.pk is not None:
        sessions_end_all(user=user)


@receiver(post_save, sender=get_user_model(), dispatch_uid="accounts.deactivated")
def deactivated(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    """A deactivated person loses every session at once."""
    if not created and not instance.is_active:
        sessions_end_all(user=instance)
