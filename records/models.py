"""The chronology: an append-only record of everything that happened on a case.

Entries are never edited or deleted. A correction is a new entry pointing at the one it
corrects. On PostgreSQL a trigger refuses UPDATE and DELETE (migration 0002).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from escalations.states import Status


class EntryKind(models.TextChoices):
    DISCUSSION = "discussion", "Discussion"
    MEETING = "meeting", "Meeting"
    CALL = "call", "Telephone call"
    CORRESPONDENCE = "correspondence", "Correspondence"
    REFLECTIVE_PRACTICE_MEETING = "reflective_practice_meeting", "Reflective practice meeting"
    TRANSITION = "transition", "Stage change"
    CLOCK = "clock", "Stage clock"
    CORRECTION = "correction", "Correction"


# The kinds a person records by hand (transitions are written by the services).
RECORDED_KINDS: tuple[str, ...] = (
    EntryKind.DISCUSSION,
    EntryKind.MEETING,
    EntryKind.CALL,
    EntryKind.CORRESPONDENCE,
    EntryKind.REFLECTIVE_PRACTICE_MEETING,
)


class Entry(models.Model):
    difference = models.ForeignKey(
        "escalations.ProfessionalDifference", on_delete=models.PROTECT, related_name="entries"
    )
    kind = models.CharField(max_length=40, choices=EntryKind.choices)
    # The case's state when the entry was written.
    status = models.CharField(max_length=20, choices=Status.choices)
    occurred_at = models.DateTimeField(default=timezone.now)
    method = models.CharField(max_length=100, blank=True)
    participants = models.TextField(blank=True)
    facts = models.TextField(blank=True)
    opinion = models.TextField("professional opinion", blank=True)
    outcome = models.TextField("outcome agreed", blank=True)

    # For stage changes: the edge taken and why.
    transition = models.CharField(max_length=40, blank=True)
    from_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    reason = models.TextField(blank=True)

    corrects = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrections"
    )

    # Who wrote it, as at the time; null author means the system (an automatic transition).
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    author_name = models.CharField(max_length=200)
    author_role = models.CharField(max_length=300, blank=True)
    author_agency_name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["difference", "created_at", "pk"]
        verbose_name_plural = "entries"
        indexes = [
            models.Index(fields=["difference", "created_at"], name="entry_chronology_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind="correction") | models.Q(corrects__isnull=False),
                name="entry_correction_points_at_an_entry",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.occurred_at:%d %b %Y}"

    def save(self, *args: object, **kwargs: object) -> None:
        # Append-only in every database: PostgreSQL's trigger is the real guard, this
        # catches the mistake early on SQLite too (including a new object given an old id).
        if not self._state.adding or (
            self.pk is not None and type(self).objects.filter(pk=self.pk).exists()
        ):
            raise EntryIsAppendOnly(ENTRY_IS_APPEND_ONLY)
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise EntryIsAppendOnly(ENTRY_IS_APPEND_ONLY)


ENTRY_IS_APPEND_ONLY = (
    "Chronology entries are never edited or deleted. Record a correction that refers to it."
)


class EntryIsAppendOnly(Exception):
    """Raised when code tries to change or remove a chronology entry."""


class AuditEvent(models.Model):
    """Who did what to which case, for actions that are not chronology entries (e.g. a PDF
    download)."""

    difference = models.ForeignKey(
        "escalations.ProfessionalDifference",
        on_delete=models.PROTECT,
        null=True,
        related_name="audit_events",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    action = models.CharField(max_length=60)
    detail = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_id} at {self.at:%d %b %Y %H:%M}"


class AccessOutcome(models.TextChoices):
    ALLOWED = "allowed", "Allowed"
    DENIED = "denied", "Denied"
    FAILED = "failed", "Failed"


ACCESS_EVENT_IS_APPEND_ONLY = "Access audit entries are never edited or deleted."


class AccessEvent(models.Model):
    """One request for a case-scoped page, a download, or a refused attempt (ADR 0007).

    Written by ``records.access_log.AccessAuditMiddleware`` with one INSERT and no look-up:
    the case and child are the ids in the URL (plain integers, not foreign keys, so an attempt
    on a case that does not exist is recorded too). Append-only: a PostgreSQL trigger refuses
    UPDATE and DELETE (migration ``access_event_append_only_trigger``).
    """

    at = models.DateTimeField(default=timezone.now)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    # The username as at the request (the account may be renamed later).
    username = models.CharField(max_length=150, blank=True)
    url_name = models.CharField(max_length=120)
    method = models.CharField(max_length=10)
    case_id = models.PositiveBigIntegerField(null=True, blank=True)
    child_id = models.PositiveBigIntegerField(null=True, blank=True)
    # Set by views that know it without a query (reports, administration pages).
    partnership_id = models.PositiveBigIntegerField(null=True, blank=True)
    status_code = models.PositiveSmallIntegerField()
    outcome = models.CharField(max_length=10, choices=AccessOutcome.choices)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-pk"]
        indexes = [
            models.Index(fields=["case_id", "-id"], name="access_event_case_idx"),
            models.Index(fields=["child_id", "-id"], name="access_event_child_idx"),
            models.Index(fields=["partnership_id", "-id"], name="access_event_partnership_idx"),
            models.Index(fields=["username", "-id"], name="access_event_username_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.url_name} by {self.username or 'nobody'}: {self.outcome}"

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise EntryIsAppendOnly(ACCESS_EVENT_IS_APPEND_ONLY)
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise EntryIsAppendOnly(ACCESS_EVENT_IS_APPEND_ONLY)


class RecordRender(models.Model):
    """The Appendix 2 PDF of a case's current content, rendered once without the footer's
    generated line, which each download stamps on (ADR 0010; ``records.record_pdf``).

    One row per case, replaced when the content changes. ``key`` is the SHA-256 of the
    record's HTML, stylesheet, WeasyPrint version and stamping version: a download serves the
    row only when the key of the record as it reads now matches, so a stored render is never
    stale. Anonymisation deletes the row; deleting the case deletes it too.
    """

    difference = models.OneToOneField(
        "escalations.ProfessionalDifference",
        on_delete=models.CASCADE,
        related_name="record_render",
    )
    key = models.CharField(max_length=64)
    pdf = models.BinaryField()
    pages = models.PositiveIntegerField()
    rendered_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Record PDF of case {self.difference_id} ({self.pages} pages)"
