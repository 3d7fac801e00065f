"""Read-only views of cases for partnership administrators.

Cases are written only by the services (the pages of the app), so the admin can look but
not add, change or delete.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from agencies.admin import PartnershipScopedAdmin
from escalations.models import Child, NamedProfessional, Party, ProfessionalDifference, StageEntry
from records.models import Entry


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class ChildInline(ReadOnlyInline):
    model = Child


class PartyInline(ReadOnlyInline):
    model = Party


class NamedProfessionalInline(ReadOnlyInline):
    model = NamedProfessional


class StageEntryInline(ReadOnlyInline):
    model = StageEntry


class EntryInline(ReadOnlyInline):
    model = Entry
    fk_name = "difference"
    fields = ["created_at", "kind", "from_status", "to_status", "author_name", "reason"]


@admin.register(ProfessionalDifference)
class ProfessionalDifferenceAdmin(PartnershipScopedAdmin):
    list_display = ["reference", "status", "category", "raiser_agency_name", "raised_at"]
    list_filter = ["status", "is_urgent", "context"]
    search_fields = ["reference"]
    list_select_related = ["category"]
    inlines = [
        ChildInline,
        PartyInline,
        NamedProfessionalInline,
        StageEntryInline,
        EntryInline,
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
