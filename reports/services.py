"""Writers of the reports app: tagging a case with learning themes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from agencies.models import PartnershipRole
from agencies.selectors import roles_held
from escalations.errors import DifferenceRefused
from escalations.models import ProfessionalDifference
from escalations.states import Status
from records.services import audit_record
from reports.models import CaseLearningTheme, LearningTheme

TAGGABLE_STATUSES = (Status.LEARNING_REVIEW, Status.CLOSED)

NOT_BUSINESS_MANAGER = "Only the partnership's business manager can record learning themes."
NOT_IN_LEARNING_REVIEW = (
    "Learning themes are recorded at the learning review: this case has not reached it yet."
)
UNKNOWN_THEME = "Choose learning themes from the partnership's list."


def difference_tag_learning_themes(
    *, actor: Any, difference_id: int, theme_ids: Iterable[int]
) -> list[LearningTheme]:
    """Set the case's learning themes to ``theme_ids`` (the business manager, once the case is
    in learning review or closed). Themes already on the case stay allowed even if since made
    inactive; new ones must be active themes of the case's partnership."""
    wanted = {int(pk) for pk in theme_ids}
    with transaction.atomic():
        difference = ProfessionalDifference.objects.select_for_update().get(pk=difference_id)
        if not roles_held(actor).in_partnership(
            difference.partnership_id, PartnershipRole.BUSINESS_MANAGER
        ):
            raise DifferenceRefused(NOT_BUSINESS_MANAGER)
        if difference.status not in TAGGABLE_STATUSES:
            raise DifferenceRefused(NOT_IN_LEARNING_REVIEW)
        current = set(
            CaseLearningTheme.objects.filter(difference=difference).values_list(
                "theme_id", flat=True
            )
        )
        themes = {
            theme.pk: theme
            for theme in LearningTheme.objects.filter(
                partnership_id=difference.partnership_id, pk__in=wanted
            )
        }
        if set(themes) != wanted or any(
            not theme.active and pk not in current for pk, theme in themes.items()
        ):
            raise DifferenceRefused(UNKNOWN_THEME, field="themes")
        CaseLearningTheme.objects.filter(difference=difference).exclude(
            theme_id__in=wanted
        ).delete()
        CaseLearningTheme.objects.bulk_create(
            CaseLearningTheme(difference=difference, theme_id=pk) for pk in wanted - current
        )
        if wanted != current:
            names = ", ".join(sorted(theme.name for theme in themes.values())) or "none"
            audit_record(
                actor=actor,
                action="learning themes recorded",
                difference=difference,
                detail=f"Learning themes: {names}.",
            )
        return sorted(themes.values(), key=lambda theme: (theme.position, theme.name))
