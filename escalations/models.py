"""The professional difference (the case), its children, parties and state machine.

Models hold state and the legal transitions only. Transition methods set the fields that
belong to the edge; who may take an edge is in ``escalations.rules``; services do the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from agencies.models import Agency, Category, Partnership, Track
from escalations import rules
from escalations.states import (
    FINAL_OUTCOMES,
    RESOLVABLE_STAGES,
    STAGE_RANK,
    Context,
    Status,
)


def _escalating_from(stage: str) -> Any:
    """Condition: the case is at ``stage``, or partially resolved there."""

    def condition(difference: ProfessionalDifference) -> bool:
        return difference.stage == stage

    condition.__name__ = f"escalating_from_{stage}"
    return condition


def _who(rule: Callable[[ProfessionalDifference, Any], bool]) -> Any:
    """A rule of escalations.rules as a transition ``permission=`` (django-fsm types it for any
    Model; ours are written for this one)."""
    return rule


def _when(condition: Callable[[ProfessionalDifference], bool]) -> Any:
    """A predicate as a transition condition (typed as for _who)."""
    return condition


def _partial_outcome_below_final_referral(difference: ProfessionalDifference) -> bool:
    return difference.stage in RESOLVABLE_STAGES


def _partial_outcome_at_final_referral(difference: ProfessionalDifference) -> bool:
    return difference.stage == Status.FINAL_REFERRAL


class ProfessionalDifference(ConcurrentTransitionMixin, models.Model):
    partnership = models.ForeignKey(
        Partnership, on_delete=models.PROTECT, related_name="differences"
    )
    reference = models.CharField(max_length=20, unique=True, null=True, blank=True)

    # The raiser, as at the time of raising: a later job change must not rewrite history.
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="differences_raised"
    )
    raiser_name = models.CharField(max_length=200)
    raiser_role = models.CharField(max_length=200)
    raiser_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    raiser_agency_name = models.CharField(max_length=200)

    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="differences")
    context = models.CharField(max_length=40, choices=Context.choices)
    issue = models.TextField()

    is_urgent = models.BooleanField(default=False)
    urgent_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The manager or safeguarding lead named when the urgent track was taken.",
    )

    status = FSMField(
        max_length=20, choices=Status.choices, default=Status.IDENTIFIED, protected=True
    )
    # The working stage the case is at, or was at when an outcome was recorded.
    stage = models.CharField(max_length=20, choices=Status.choices, default=Status.IDENTIFIED)
    highest_stage = models.CharField(
        max_length=20, choices=Status.choices, default=Status.IDENTIFIED
    )
    stage_entered_at = models.DateTimeField(default=timezone.now)

    raised_at = models.DateTimeField(default=timezone.now, db_index=True)
    outcome_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    # Appendix 2 items 13–16 and the learning review.
    escalated_to = models.TextField(blank=True)
    learning = models.TextField(blank=True)
    additional_comments = models.TextField(blank=True)
    protocol_amendment_recommended = models.BooleanField(null=True, blank=True)
    protocol_amendment_note = models.TextField(blank=True)

    linked_cases = models.ManyToManyField(
        "self", symmetrical=False, blank=True, related_name="linked_from"
    )

    # Retention (ADR 0006): a legal hold stops anonymisation; the daily scan marks a closed
    # case past the partnership's retention period as due; an administrator confirms.
    legal_hold = models.BooleanField(default=False)
    legal_hold_reason = models.TextField(blank=True)
    legal_hold_set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    legal_hold_set_at = models.DateTimeField(null=True, blank=True)
    anonymisation_due_at = models.DateTimeField(null=True, blank=True)
    anonymised_at = models.DateTimeField(null=True, blank=True)
    anonymised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-raised_at", "-pk"]
        indexes = [
            # A list filtered by status walks those cases newest first (and serves what the
            # (partnership, status) index it replaced served).
            models.Index(
                fields=["partnership", "status", "raised_at"], name="difference_status_raised_idx"
            ),
            # The case list walks a partnership's cases newest (or oldest) first.
            models.Index(fields=["partnership", "raised_at"], name="difference_raised_idx"),
            # The monitoring report lists the protocol amendments recommended by the cases
            # closed in the period, by closing date: a few cases in a hundred recommend one,
            # so this index is small, and the list no longer reads every case (29 ms at
            # 100,000 cases, now under 1 ms).
            models.Index(
                fields=["partnership", "closed_at"],
                name="difference_amendment_idx",
                condition=models.Q(protocol_amendment_recommended=True),
            ),
        ]

    def __str__(self) -> str:
        return self.reference or f"Difference {self.pk}"

    # -- facts -----------------------------------------------------------------------------

    def party_agency_ids(self) -> frozenset[int]:
        """Ids of every agency party to the case, the raising agency included (cached)."""
        cached: frozenset[int] | None = self.__dict__.get("_party_agency_ids")
        if cached is None:
            cached = frozenset(self.parties.values_list("agency_id", flat=True))
            self.__dict__["_party_agency_ids"] = cached
        return cached

    def forget_parties(self) -> None:
        """Drop the cached party ids after parties change."""
        self.__dict__.pop("_party_agency_ids", None)

    @property
    def track(self) -> str:
        return Track.URGENT if self.is_urgent else Track.STANDARD

    def _enter(self, stage: str) -> None:
        self.stage = stage
        self.stage_entered_at = timezone.now()
        if STAGE_RANK[stage] > STAGE_RANK[self.highest_stage]:
            self.highest_stage = stage

    def _record_outcome(self) -> None:
        self.outcome_at = timezone.now()

    # -- transitions (spec §3) -------------------------------------------------------------

    @transition(
        field=status,
        source=Status.IDENTIFIED,
        target=Status.CLARIFICATION,
        permission=_who(rules.is_raiser),
    )
    def start_clarification(self) -> None:
        """identified → clarification."""
        self._enter(Status.CLARIFICATION)

    @transition(
        field=status,
        source=Status.IDENTIFIED,
        target=Status.STAGE_2,
        permission=_who(rules.may_open_urgent_track),
    )
    def open_urgent_track(self) -> None:
        """identified → stage_2, when the child's immediate welfare is a concern."""
        self._enter(Status.STAGE_2)

    @transition(
        field=status,
        source=Status.CLARIFICATION,
        target=Status.WITHDRAWN,
        permission=_who(rules.is_raiser),
    )
    def withdraw(self) -> None:
        """clarification → withdrawn: no practice issue remains."""
        self._record_outcome()

    @transition(
        field=status,
        source=Status.CLARIFICATION,
        target=Status.STAGE_1,
        permission=_who(rules.is_raiser),
    )
    def begin_stage_1(self) -> None:
        """clarification → stage_1."""
        self._enter(Status.STAGE_1)

    @transition(
        field=status,
        source=[Status.STAGE_1, Status.PARTIALLY_RESOLVED],
        target=Status.STAGE_2,
        conditions=[_escalating_from(Status.STAGE_1)],
        permission=_who(rules.may_escalate_from_current_stage),
    )
    def escalate_to_stage_2(self) -> None:
        """stage_1 (or partially resolved there) → stage_2."""
        self._enter(Status.STAGE_2)

    @transition(
        field=status,
        source=[Status.STAGE_2, Status.PARTIALLY_RESOLVED],
        target=Status.STAGE_3,
        conditions=[_escalating_from(Status.STAGE_2)],
        permission=_who(rules.may_escalate_from_current_stage),
    )
    def escalate_to_stage_3(self) -> None:
        """stage_2 (or partially resolved there) → stage_3."""
        self._enter(Status.STAGE_3)

    @transition(
        field=status,
        source=[Status.STAGE_3, Status.PARTIALLY_RESOLVED],
        target=Status.STAGE_4,
        conditions=[_escalating_from(Status.STAGE_3)],
        permission=_who(rules.may_escalate_from_current_stage),
    )
    def escalate_to_stage_4(self) -> None:
        """stage_3 (or partially resolved there) → stage_4."""
        self._enter(Status.STAGE_4)

    @transition(
        field=status,
        source=[Status.STAGE_4, Status.PARTIALLY_RESOLVED],
        target=Status.FINAL_REFERRAL,
        conditions=[_escalating_from(Status.STAGE_4)],
        permission=_who(rules.may_escalate_from_current_stage),
    )
    def refer_to_final_body(self) -> None:
        """stage_4 (or partially resolved there) → final_referral."""
        self._enter(Status.FINAL_REFERRAL)

    @transition(
        field=status,
        source=[*RESOLVABLE_STAGES, Status.FINAL_REFERRAL],
        target=Status.RESOLVED,
        permission=_who(rules.may_record_outcome),
    )
    def resolve(self) -> None:
        """stage_1–4 or final_referral → resolved."""
        self._record_outcome()

    @transition(
        field=status,
        source=[*RESOLVABLE_STAGES, Status.FINAL_REFERRAL],
        target=Status.PARTIALLY_RESOLVED,
        permission=_who(rules.may_record_outcome),
    )
    def resolve_partially(self) -> None:
        """stage_1–4 or final_referral → partially_resolved."""
        self._record_outcome()

    @transition(
        field=status,
        source=Status.FINAL_REFERRAL,
        target=Status.NOT_RESOLVED,
        permission=_who(rules.may_record_outcome),
    )
    def record_not_resolved(self) -> None:
        """final_referral → not_resolved: the body's decision."""
        self._record_outcome()

    @transition(
        field=status,
        source=list(FINAL_OUTCOMES),
        target=Status.LEARNING_REVIEW,
        permission=_who(rules.nobody),
    )
    def begin_learning_review(self) -> None:
        """resolved / not_resolved / withdrawn → learning_review (automatic)."""

    @transition(
        field=status,
        source=Status.PARTIALLY_RESOLVED,
        target=Status.LEARNING_REVIEW,
        conditions=[_when(_partial_outcome_below_final_referral)],
        permission=_who(rules.may_record_outcome),
    )
    def accept_partial_outcome(self) -> None:
        """partially_resolved → learning_review: the raising agency escalates no further."""

    @transition(
        field=status,
        source=Status.PARTIALLY_RESOLVED,
        target=Status.LEARNING_REVIEW,
        conditions=[_when(_partial_outcome_at_final_referral)],
        permission=_who(rules.nobody),
    )
    def end_partial_final_referral(self) -> None:
        """partially_resolved after final referral → learning_review (automatic: no stage is
        left)."""

    @transition(
        field=status,
        source=Status.LEARNING_REVIEW,
        target=Status.CLOSED,
        permission=_who(rules.is_business_manager),
    )
    def close(self) -> None:
        """learning_review → closed."""
        self.closed_at = timezone.now()


class Child(models.Model):
    difference = models.ForeignKey(
        ProfessionalDifference, on_delete=models.CASCADE, related_name="children"
    )
    name = models.CharField(max_length=200)
    date_of_birth = models.DateField(null=True, blank=True)
    address = models.TextField(blank=True)
    school = models.CharField("early years placement or school", max_length=200, blank=True)
    lead_professional = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["difference", "pk"]
        verbose_name_plural = "children"

    def __str__(self) -> str:
        return self.name

    @property
    def initials(self) -> str:
        return "".join(part[0].upper() for part in self.name.split() if part)


class Party(models.Model):
    """An agency party to the case; the raising agency is a party too."""

    difference = models.ForeignKey(
        ProfessionalDifference, on_delete=models.CASCADE, related_name="parties"
    )
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="party_to")
    is_raising = models.BooleanField(default=False)
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["difference", "-is_raising", "pk"]
        verbose_name_plural = "parties"
        constraints = [
            models.UniqueConstraint(fields=["difference", "agency"], name="party_unique"),
        ]

    def __str__(self) -> str:
        return str(self.agency)


class NamedProfessional(models.Model):
    """A professional of another party agency, named on the case where known."""

    difference = models.ForeignKey(
        ProfessionalDifference, on_delete=models.CASCADE, related_name="named_professionals"
    )
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="named_on",
    )
    name = models.CharField(max_length=200)
    role = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["difference", "pk"]

    def __str__(self) -> str:
        return self.name


class Action(models.Model):
    """An action agreed as a result of the difference, with an owner and a timescale."""

    difference = models.ForeignKey(
        ProfessionalDifference, on_delete=models.CASCADE, related_name="actions"
    )
    description = models.TextField()
    owner = models.CharField(max_length=200)
    due_date = models.DateField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["difference", "pk"]

    def __str__(self) -> str:
        return self.description[:60]


class StageEntry(models.Model):
    """One entry into a timed stage, with its stage clock.

    ``next_check_at`` is the next moment the deadline scan must look at this entry: the
    reminder moment until the reminder is recorded, then the due moment until the breach is
    recorded, then never (null). Leaving the stage or pausing the clock also clears it, so the
    scan is one indexed range query.
    """

    difference = models.ForeignKey(
        ProfessionalDifference, on_delete=models.CASCADE, related_name="stage_entries"
    )
    stage = models.CharField(max_length=20, choices=Status.choices)
    track = models.CharField(max_length=10, choices=Track.choices)
    entered_at = models.DateTimeField()
    due_at = models.DateTimeField()
    remind_at = models.DateTimeField(null=True, blank=True)
    left_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    pause_reason = models.TextField(blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True)
    shortened_reason = models.TextField(
        blank=True, help_text="Why the owner set a due date shorter than the timeframe."
    )

    class Meta:
        ordering = ["difference", "entered_at", "pk"]
        verbose_name_plural = "stage entries"
        indexes = [
            models.Index(
                fields=["next_check_at"],
                name="stage_entry_next_check_idx",
                condition=models.Q(next_check_at__isnull=False),
            ),
            # The case list sorted by due date walks the running clocks in due order.
            models.Index(
                fields=["due_at", "difference"],
                name="stage_entry_open_due_idx",
                condition=models.Q(left_at__isnull=True),
            ),
        ]
        constraints = [
            # At most one running clock per case.
            models.UniqueConstraint(
                fields=["difference"],
                condition=models.Q(left_at__isnull=True),
                name="stage_entry_one_open_per_case",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_stage_display()} from {self.entered_at:%d %b %Y %H:%M}"

    @property
    def is_overdue(self) -> bool:
        if self.breached_at is not None:
            return True
        end = self.left_at or self.paused_at or timezone.now()
        return end > self.due_at

    def schedule_next_check(self) -> None:
        """Set ``next_check_at`` from the clock's state (called by the services that change it)."""
        if self.left_at is not None or self.paused_at is not None:
            self.next_check_at = None
        elif self.reminded_at is None and self.remind_at is not None:
            self.next_check_at = self.remind_at
        elif self.breached_at is None:
            self.next_check_at = self.due_at
        else:
            self.next_check_at = None


class ClockEventKind(models.TextChoices):
    REMINDER = "reminder", "Reminder"
    BREACH = "breach", "Breach"


class ClockEvent(models.Model):
    """A reminder or a breach of one stage entry, recorded at most once (the constraint)."""

    stage_entry = models.ForeignKey(
        StageEntry,
        on_delete=models.CASCADE,
        related_name="events",
        db_index=False,  # clock_event_once (stage_entry, kind) serves it
    )
    kind = models.CharField(max_length=10, choices=ClockEventKind.choices)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["stage_entry", "kind"], name="clock_event_once"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.stage_entry}"


class NotificationKind(models.TextChoices):
    REMINDER = "reminder", "Stage due soon"
    BREACH = "breach", "Stage overdue"
    REACHED_STAGE = "reached_stage", "Case reached the notification stage"


class Notification(models.Model):
    """A notice to one person: shown on their home page until read, and e-mailed from this
    outbox (written in the same transaction as the event, delivered after commit).

    Its two references are checked by statement-level triggers on PostgreSQL (migration
    ``0007_notification_set_based_references``, ADR 0009), not by per-row foreign-key constraints: a
    deadline scan writes tens of thousands of notices at once, and checking each row's
    references one by one cost more than writing them. The triggers give the same guarantees
    (no notice without its person and case; neither can be deleted while a notice refers to
    it; the referenced rows are locked as a foreign key would lock them). Django's cascade
    still deletes a person's or a case's notices first.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,  # notification_unread_idx (recipient, read_at) serves it
        db_constraint=False,  # checked per statement: see the docstring
    )
    difference = models.ForeignKey(
        ProfessionalDifference,
        on_delete=models.CASCADE,
        related_name="notifications",
        db_constraint=False,  # checked per statement: see the docstring
    )
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    subject = models.CharField(max_length=250)
    # The e-mail body is rendered at delivery (templates/emails/<kind>_body.txt) from the case
    # and these: rendering ten thousand bodies inside a scan would outlast the scan itself.
    stage = models.CharField(max_length=20, choices=Status.choices, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    email_sent_at = models.DateTimeField(null=True, blank=True)
    email_attempts = models.PositiveSmallIntegerField(default=0)
    email_next_attempt_at = models.DateTimeField(null=True, blank=True, default=timezone.now)
    email_last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["email_next_attempt_at"],
                name="notification_outbox_idx",
                condition=models.Q(email_sent_at__isnull=True),
            ),
            models.Index(fields=["recipient", "read_at"], name="notification_unread_idx"),
        ]

    def __str__(self) -> str:
        return self.subject


class DifferenceUserObjectPermission(UserObjectPermissionBase):
    """Guardian's direct per-user permission on a case (faster than the generic table)."""

    content_object = models.ForeignKey(ProfessionalDifference, on_delete=models.CASCADE)


class DifferenceGroupObjectPermission(GroupObjectPermissionBase):
    """Guardian's direct per-group permission on a case."""

    content_object = models.ForeignKey(ProfessionalDifference, on_delete=models.CASCADE)
