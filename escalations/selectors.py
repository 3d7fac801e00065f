"""The only readers of "which cases may this person see" (spec §5).

Every view, list, search, export, PDF and report goes through these. A case the person may
not see is a 404, never a 403.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from guardian.shortcuts import get_objects_for_user

from escalations.models import ProfessionalDifference

VIEW_PERMISSION = "escalations.view_professionaldifference"


def differences_visible_to(user: Any) -> QuerySet[ProfessionalDifference]:
    """Every case ``user`` may see, by the object permissions the services grant.

    Global permissions never count (a model-level "view" permission must not show every
    case), nor does being a superuser: operators are not parties to cases.
    """
    if not user.is_authenticated or not user.is_active:
        return ProfessionalDifference.objects.none()
    return get_objects_for_user(
        user,
        VIEW_PERMISSION,
        klass=ProfessionalDifference,
        accept_global_perms=False,
        with_superuser=False,
    )


def difference_get_for(user: Any, pk: int) -> ProfessionalDifference:
    """The case ``pk`` if ``user`` may see it; 404 otherwise."""
    try:
        return differences_visible_to(user).select_related("partnership", "category").get(pk=pk)
    except ProfessionalDifference.DoesNotExist:
        raise Http404("No such case.") from None


def difference_visible_to_user(user: Any, difference: ProfessionalDifference) -> bool:
    """Whether ``user`` may see ``difference``."""
    return differences_visible_to(user).filter(pk=difference.pk).exists()
