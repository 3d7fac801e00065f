"""The states of a professional difference (spec §3) and facts about them."""

from __future__ import annotations

from django.db import models


class Status(models.TextChoices):
    IDENTIFIED = "identified", "Identified"
    CLARIFICATION = "clarification", "Clarification"
    STAGE_1 = "stage_1", "Stage 1: practitioners"
    STAGE_2 = "stage_2", "Stage 2: line managers and safeguarding leads"
    STAGE_3 = "stage_3", "Stage 3: senior managers"
    STAGE_4 = "stage_4", "Stage 4: directors and the partnership"
    FINAL_REFERRAL = "final_referral", "Final referral"
    RESOLVED = "resolved", "Resolved"
    PARTIALLY_RESOLVED = "partially_resolved", "Partially resolved"
    NOT_RESOLVED = "not_resolved", "Not resolved"
    WITHDRAWN = "withdrawn", "Withdrawn"
    LEARNING_REVIEW = "learning_review", "Learning review"
    CLOSED = "closed", "Closed"


# How far up the process a state is; a case remembers the highest rank it reached.
STAGE_RANK: dict[str, int] = {
    Status.IDENTIFIED: 0,
    Status.CLARIFICATION: 1,
    Status.STAGE_1: 2,
    Status.STAGE_2: 3,
    Status.STAGE_3: 4,
    Status.STAGE_4: 5,
    Status.FINAL_REFERRAL: 6,
}

# States in which the case is being worked on and a stage clock runs.
TIMED_STAGES: tuple[str, ...] = (
    Status.CLARIFICATION,
    Status.STAGE_1,
    Status.STAGE_2,
    Status.STAGE_3,
    Status.STAGE_4,
    Status.FINAL_REFERRAL,
)

# The escalation stages at which a difference can be resolved by its parties.
RESOLVABLE_STAGES: tuple[str, ...] = (
    Status.STAGE_1,
    Status.STAGE_2,
    Status.STAGE_3,
    Status.STAGE_4,
)

# Outcomes that go straight to the learning review.
FINAL_OUTCOMES: tuple[str, ...] = (Status.RESOLVED, Status.NOT_RESOLVED, Status.WITHDRAWN)

OUTCOMES: tuple[str, ...] = (
    Status.RESOLVED,
    Status.PARTIALLY_RESOLVED,
    Status.NOT_RESOLVED,
    Status.WITHDRAWN,
)

# The stage after each stage, for escalation.
NEXT_STAGE: dict[str, str] = {
    Status.STAGE_1: Status.STAGE_2,
    Status.STAGE_2: Status.STAGE_3,
    Status.STAGE_3: Status.STAGE_4,
    Status.STAGE_4: Status.FINAL_REFERRAL,
}

OPEN_STATES: tuple[str, ...] = (
    Status.IDENTIFIED,
    *TIMED_STAGES,
    Status.PARTIALLY_RESOLVED,
)


class Context(models.TextChoices):
    """What the issue was about (Appendix 2 item 9)."""

    CHILD_PROTECTION_REFERRAL = "child_protection_referral", "Child protection referral"
    EARLY_HELP = "early_help", "Early help or CAF"
    OPEN_CASE = "open_case", "Open case"
    CHILD_PROTECTION_CONFERENCE = "child_protection_conference", "Child protection conference"
    CHILD_IN_NEED = "child_in_need", "Child in need"
    LOOKED_AFTER_CHILD = "looked_after_child", "Looked after child"
