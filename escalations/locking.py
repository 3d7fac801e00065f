"""Locking a case for a use case, shared by the services that change it."""

from __future__ import annotations

from escalations import errors
from escalations.errors import DifferenceRefused
from escalations.models import ProfessionalDifference
from escalations.states import Status

# (status, stage) of the case as the person saw it when they filled in the form.
ExpectedState = tuple[str, str] | None


def difference_lock(
    difference_id: int, expected_state: ExpectedState = None
) -> ProfessionalDifference:
    """The case, locked for this transaction (call inside ``atomic``). With
    ``expected_state``, refuse if the case moved on since the person saw it: another person
    acted first, and nothing they typed is saved over that."""
    difference = (
        ProfessionalDifference.objects.select_for_update()
        .select_related("partnership")
        .get(pk=difference_id)
    )
    if expected_state is not None and expected_state != (difference.status, difference.stage):
        raise DifferenceRefused(
            errors.MOVED_ON.format(status=Status(difference.status).label.lower())
        )
    return difference
