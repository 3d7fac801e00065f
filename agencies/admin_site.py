"""The Django admin site: only partnership administrators (and superusers) may enter it.

Being staff is not enough: a staff account that administers no partnership is refused at the
door (the admin's sign-in page), whatever model permissions it holds. Inside, every ModelAdmin
limits itself to the partnerships the person administers (``agencies.admin``).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest


def administers_a_partnership(user: Any) -> bool:
    from agencies.models import PartnershipMembership, PartnershipRole

    return PartnershipMembership.objects.filter(
        user=user, role=PartnershipRole.ADMINISTRATOR
    ).exists()


class PartnershipAdminSite(admin.AdminSite):
    site_header = "Resolving professional differences: administration"
    site_title = "Resolving professional differences"

    def has_permission(self, request: HttpRequest) -> bool:
        user: Any = request.user
        if not (user.is_active and user.is_staff):
            return False
        return bool(user.is_superuser) or administers_a_partnership(user)


class PartnershipAdminConfig(AdminConfig):
    """django.contrib.admin with the site that admits partnership administrators only."""

    default_site = "agencies.admin_site.PartnershipAdminSite"
