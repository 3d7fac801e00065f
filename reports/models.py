"""Learning themes, the themes each case is tagged with, and the outcome ledger.

The report reads cases and their stage clocks, never the chronology. One fact it needs is only
in the chronology: *which* outcome a case ended with (the case's status moves on to learning
review in the same transaction). ``CaseOutcome`` keeps it, one row per case, written by a
receiver on the chronology's transition entries (``reports.signals``), backfilled by migration.
"""

from __future__ import annotations

from django.db import models

from agencies.models import Partnership
from escalations.models import ProfessionalDifference
from escalations.states import OUTCOMES, Status


class LearningTheme(models.Model):
    """A theme the learning review may tag a case with, configurable per partnership."""

    partnership = models.ForeignKey(
        Partnership, on_delete=models.CASCADE, related_name="learning_themes"
    )
    name = models.CharField(max_length=200)
    position = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(
        default=True, help_text="Inactive themes stay on old cases but cannot be chosen."
    )

    class Meta:
        ordering = ["partnership", "position", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["partnership", "name"], name="learning_theme_unique_name"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CaseLearningTheme(models.Model):
    """One learning theme tagged on one case (by the business manager at learning review)."""

    difference = models.ForeignKey(
        ProfessionalDifference, on_delete=models.CASCADE, related_name="learning_theme_tags"
    )
    theme = models.ForeignKey(LearningTheme, on_delete=models.PROTECT, related_name="tags")
    tagged_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["difference", "theme"]
        constraints = [
            models.UniqueConstraint(
                fields=["difference", "theme"], name="case_learning_theme_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.theme} on {self.difference}"


OUTCOME_CHOICES = [(value, Status(value).label) for value in OUTCOMES]


class CaseOutcome(models.Model):
    """The latest outcome recorded on a case (resolved, partially resolved, not resolved or
    withdrawn), copied from the chronology's transition entry when it is written."""

    difference = models.OneToOneField(
        ProfessionalDifference,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="report_outcome",
    )
    outcome = models.CharField(max_length=20, choices=OUTCOME_CHOICES)
    recorded_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.difference}: {self.get_outcome_display()}"
