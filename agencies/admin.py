"""Back-office configuration: partnerships, agencies, people and their roles.

Partnership administrators see and change only their own partnership's records; roles are
granted and revoked through the services so the role groups stay in step.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest

from agencies.models import (
    Agency,
    AgencyMembership,
    Category,
    ClosureDay,
    Partnership,
    PartnershipMembership,
    PartnershipRole,
    StageTimeframe,
)
from agencies.services import (
    agency_membership_grant,
    agency_membership_revoke,
    agency_role_groups_ensure,
    memberships_revoke,
    partnership_defaults_ensure,
    partnership_membership_grant,
    partnership_membership_revoke,
)


def administered_partnership_ids(request: HttpRequest) -> list[int] | None:
    """The partnerships the signed-in person administers; None means every one (superuser)."""
    user: Any = request.user
    if user.is_superuser:
        return None
    return list(
        PartnershipMembership.objects.filter(
            user=user, role=PartnershipRole.ADMINISTRATOR
        ).values_list("partnership_id", flat=True)
    )


class PartnershipScopedAdmin(admin.ModelAdmin):
    """Limits the admin to the partnerships the person administers."""

    partnership_path = "partnership"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        ids = administered_partnership_ids(request)
        if ids is None:
            return queryset
        return queryset.filter(**{f"{self.partnership_path}__in": ids})

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        ids = administered_partnership_ids(request)
        if ids is not None:
            model = db_field.related_model
            if model is Partnership:
                kwargs["queryset"] = Partnership.objects.filter(pk__in=ids)
            elif model is Agency:
                kwargs["queryset"] = Agency.objects.filter(partnership__in=ids)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class CategoryInline(admin.TabularInline):
    model = Category
    extra = 0


class StageTimeframeInline(admin.TabularInline):
    model = StageTimeframe
    extra = 0


class ClosureDayInline(admin.TabularInline):
    model = ClosureDay
    extra = 0


@admin.register(Partnership)
class PartnershipAdmin(PartnershipScopedAdmin):
    partnership_path = "pk"
    list_display = ["name", "nation", "final_referral_body_name", "notification_stage"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [StageTimeframeInline, CategoryInline, ClosureDayInline]

    def save_model(self, request: HttpRequest, obj: Partnership, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        partnership_defaults_ensure(partnership=obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(getattr(request.user, "is_superuser", False))

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return bool(getattr(request.user, "is_superuser", False))


class AgencyMembershipInline(admin.TabularInline):
    model = AgencyMembership
    extra = 0
    autocomplete_fields = ["user"]
    readonly_fields = ["user", "role", "job_title"]
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False  # roles are granted on the membership page, through the service


@admin.register(Agency)
class AgencyAdmin(PartnershipScopedAdmin):
    list_display = ["name", "agency_type", "partnership", "active"]
    list_filter = ["agency_type", "active"]
    search_fields = ["name"]
    inlines = [AgencyMembershipInline]

    def save_model(self, request: HttpRequest, obj: Agency, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        agency_role_groups_ensure(agency=obj)


@admin.register(AgencyMembership)
class AgencyMembershipAdmin(PartnershipScopedAdmin):
    partnership_path = "agency__partnership"
    list_display = ["user", "role", "agency", "job_title"]
    list_filter = ["role", "agency"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "agency__name"]
    autocomplete_fields = ["user"]

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        # A role is revoked and granted anew rather than edited, so groups stay in step.
        return ["user", "agency", "role"] if obj is not None else []

    def save_model(
        self, request: HttpRequest, obj: AgencyMembership, form: Any, change: bool
    ) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        saved = agency_membership_grant(
            user=obj.user, agency=obj.agency, role=obj.role, job_title=obj.job_title
        )
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: AgencyMembership) -> None:
        agency_membership_revoke(membership=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        memberships_revoke(list(queryset))


@admin.register(PartnershipMembership)
class PartnershipMembershipAdmin(PartnershipScopedAdmin):
    list_display = ["user", "role", "partnership"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    autocomplete_fields = ["user"]

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        return ["user", "partnership", "role"] if obj is not None else []

    def save_model(
        self, request: HttpRequest, obj: PartnershipMembership, form: Any, change: bool
    ) -> None:
        if change:
            return
        saved = partnership_membership_grant(
            user=obj.user, partnership=obj.partnership, role=obj.role
        )
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: PartnershipMembership) -> None:
        partnership_membership_revoke(membership=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        memberships_revoke(list(queryset))


# -- people and groups ----------------------------------------------------------------------
# Django's own User and Group admins would show every account of every partnership, and let
# anyone with "change user" make themselves a superuser. Here a partnership administrator
# sees the people of their partnerships (and accounts not yet in any partnership, to give
# them a role) and may change only names, e-mail and whether the account is active; groups
# (the role groups the services keep in step) are for superusers only.

User = get_user_model()
for _model in (User, Group):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


def _superuser(request: HttpRequest) -> bool:
    return bool(getattr(request.user, "is_superuser", False))


@admin.register(User)
class PartnershipUserAdmin(DjangoUserAdmin):
    limited_fieldsets = (
        (None, {"fields": ("username",)}),
        ("Personal info", {"fields": ("first_name", "last_name", "email")}),
        ("Status", {"fields": ("is_active", "last_login", "date_joined")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        ids = administered_partnership_ids(request)
        if ids is None:
            return queryset
        unplaced = Q(agency_memberships__isnull=True, partnership_memberships__isnull=True)
        return queryset.filter(
            Q(agency_memberships__agency__partnership__in=ids)
            | Q(partnership_memberships__partnership__in=ids)
            | (unplaced & Q(is_superuser=False, is_staff=False))
        ).distinct()

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if _superuser(request) or obj is None:
            return super().get_fieldsets(request, obj)
        return self.limited_fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if _superuser(request):
            return super().get_readonly_fields(request, obj)
        return ("username", "last_login", "date_joined")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _superuser(request)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return _superuser(request)

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> Any:
        # Setting someone's password would let the setter sign in as them.
        if not _superuser(request):
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)


@admin.register(Group)
class SuperuserGroupAdmin(DjangoGroupAdmin):
    def has_module_permission(self, request: HttpRequest) -> bool:
        return _superuser(request)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return _superuser(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _superuser(request)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return _superuser(request)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return _superuser(request)


# -- sign-in records -----------------------------------------------------------------------
# allauth's e-mail addresses and authenticators and django-axes' attempt logs register their
# own admins, which show every person of every partnership to anyone holding the model's
# "view" permission. They are for operators (superusers) only; a partnership administrator
# reads who did what in the access log (records.AccessEvent), scoped to their partnership.


class SuperuserOnlyMixin:
    def has_module_permission(self, request: HttpRequest) -> bool:
        return _superuser(request)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return _superuser(request)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return _superuser(request) and super().has_add_permission(request, *args)  # type: ignore[misc]

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return _superuser(request) and super().has_change_permission(request, obj)  # type: ignore[misc]

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return _superuser(request) and super().has_delete_permission(request, obj)  # type: ignore[misc]


SUPERUSER_ONLY_MODELS = (
    "account.EmailAddress",
    "mfa.Authenticator",
    "axes.AccessAttempt",
    "axes.AccessLog",
    "axes.AccessFailureLog",
)


def _superusers_only(label: str) -> None:
    from django.apps import apps

    model = apps.get_model(label)
    if not admin.site.is_registered(model):
        return
    registered = type(admin.site.get_model_admin(model))
    admin.site.unregister(model)
    admin.site.register(
        model, type(f"SuperuserOnly{registered.__name__}", (SuperuserOnlyMixin, registered), {})
    )


for _label in SUPERUSER_ONLY_MODELS:
    _superusers_only(_label)
