"""Learning themes, configured per partnership by its administrators in the admin."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from agencies.admin import PartnershipScopedAdmin, administered_partnership_ids
from reports.models import LearningTheme


def _administers_a_partnership(request: HttpRequest) -> bool:
    user: Any = request.user
    if not (user.is_active and user.is_staff):
        return False
    ids = administered_partnership_ids(request)
    return ids is None or bool(ids)


@admin.register(LearningTheme)
class LearningThemeAdmin(PartnershipScopedAdmin):
    """A partnership administrator manages their own partnership's themes (no model permission
    needed: holding the administrator role is the permission). Themes in use cannot be deleted:
    make them inactive instead."""

    list_display = ["name", "partnership", "position", "active"]
    list_editable = ["position", "active"]
    list_filter = ["active"]
    search_fields = ["name"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _administers_a_partnership(request)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return _administers_a_partnership(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _administers_a_partnership(request)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return _administers_a_partnership(request)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        if obj is not None and LearningTheme.objects.filter(pk=obj.pk, tags__isnull=False).exists():
            return False
        return _administers_a_partnership(request)
