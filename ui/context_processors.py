"""What every page needs: the service's name and the person's partnership."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from agencies.models import PartnershipRole
from agencies.selectors import roles_held

SERVICE_NAME = "Resolving professional differences"


def service(request: HttpRequest) -> dict[str, Any]:
    """The partnership shown in the header (the person's own, or the first one)."""
    partnership_name = "Safeguarding Children Partnership"
    user: Any = request.user
    reads_reports = False
    administers = False
    if user.is_authenticated:
        held = roles_held(user)
        reads_reports = any(
            roles & {PartnershipRole.BUSINESS_MANAGER, PartnershipRole.ADMINISTRATOR}
            for roles in held.by_partnership.values()
        )
        administers = any(
            PartnershipRole.ADMINISTRATOR in roles for roles in held.by_partnership.values()
        )
        if held.partnership_names:
            # The first by name (read with the roles: no query of its own).
            partnership_name = min(held.partnership_names.values())
    return {
        "service_name": SERVICE_NAME,
        "partnership_name": partnership_name,
        "reads_reports": reads_reports,
        "administers": administers,
    }
