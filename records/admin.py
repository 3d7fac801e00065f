"""The access log, read-only in the Django admin, for partnership administrators (their own
partnerships' entries only) and operators (superusers: every entry)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest

from agencies.admin import administered_partnership_ids
from escalations.models import Child, ProfessionalDifference
from records.models import AccessEvent


def access_events_of_partnerships(partnership_ids: list[int]) -> Q:
    """Entries about the partnerships' cases, their children's pages, or naming them."""
    cases = ProfessionalDifference.objects.filter(partnership_id__in=partnership_ids).values("pk")
    children = Child.objects.filter(difference__partnership_id__in=partnership_ids).values("pk")
    return Q(partnership_id__in=partnership_ids) | Q(case_id__in=cases) | Q(child_id__in=children)


def _administers_a_partnership(request: HttpRequest) -> bool:
    user: Any = request.user
    if not (user.is_active and user.is_staff):
        return False
    ids = administered_partnership_ids(request)
    return ids is None or bool(ids)


@admin.register(AccessEvent)
class AccessEventAdmin(admin.ModelAdmin):
    list_display = ["at", "username", "url_name", "case_id", "child_id", "outcome", "status_code",
                    "ip_address"]  # fmt: skip
    list_filter = ["outcome"]
    search_fields = ["=username", "=case_id", "url_name"]
    show_full_result_count = False  # no COUNT(*) over a large log

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        ids = administered_partnership_ids(request)
        if ids is None:
            return queryset
        return queryset.filter(access_events_of_partnerships(ids))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _administers_a_partnership(request)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return _administers_a_partnership(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
