"""Who may see a partnership's monitoring reports: its business managers and administrators.

Everyone else gets 404 (never 403), as for cases.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from agencies.models import Partnership, PartnershipRole
from agencies.selectors import roles_held

REPORT_ROLES = (PartnershipRole.BUSINESS_MANAGER, PartnershipRole.ADMINISTRATOR)


def report_partnership_ids(user: Any) -> list[int]:
    """The partnerships whose reports ``user`` may see."""
    held = roles_held(user)
    return sorted(pk for pk in held.by_partnership if held.in_partnership(pk, *REPORT_ROLES))


def report_partnerships(user: Any) -> list[Partnership]:
    ids = report_partnership_ids(user)
    if not ids:
        return []
    return list(Partnership.objects.filter(pk__in=ids).order_by("name"))


def may_download_exact(user: Any, partnership_id: int) -> bool:
    """Administrators may ask for an internal copy with exact small counts."""
    return roles_held(user).in_partnership(partnership_id, PartnershipRole.ADMINISTRATOR)


def exact_by_setting() -> bool:
    """``REPORTS_EXACT_SMALL_COUNTS`` (default False): every download shows exact numbers."""
    return bool(getattr(settings, "REPORTS_EXACT_SMALL_COUNTS", False))
