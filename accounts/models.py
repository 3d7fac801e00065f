"""Which sessions belong to whom, so that sign-out and deactivation can end them all."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class SignedInSession(models.Model):
    """One signed-in session of a person (the key of a row in django_session)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="signed_in_sessions"
    )
    session_key = models.CharField(max_length=40, unique=True)
    signed_in_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "signed-in session"

    def __str__(self) -> str:
        return f"session of user {self.user_id} since {self.signed_in_at:%Y-%m-%d %H:%M}"
