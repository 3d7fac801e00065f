"""The allauth pages this service exposes, and no others: no sign-up, no e-mail management,
no password reset, no third-party accounts. Each keeps allauth's URL name, which allauth's
own code reverses."""

from __future__ import annotations

from allauth.account import views as account_views
from allauth.mfa.base import views as mfa_views
from allauth.mfa.recovery_codes import views as recovery_code_views
from allauth.mfa.totp import views as totp_views
from django.urls import path
from django.views.generic import RedirectView

urlpatterns = [
    path("reauthenticate/", account_views.reauthenticate, name="account_reauthenticate"),
    path("inactive/", account_views.account_inactive, name="account_inactive"),
    path("two-factor/", mfa_views.index, name="mfa_index"),
    path("two-factor/code/", mfa_views.authenticate, name="mfa_authenticate"),
    path("two-factor/reauthenticate/", mfa_views.reauthenticate, name="mfa_reauthenticate"),
    path("two-factor/set-up/", totp_views.activate_totp, name="mfa_activate_totp"),
    # Two-factor authentication is compulsory: there is no turning it off.
    path(
        "two-factor/turn-off/",
        RedirectView.as_view(pattern_name="mfa_index"),
        name="mfa_deactivate_totp",
    ),
    path(
        "two-factor/recovery-codes/",
        recovery_code_views.view_recovery_codes,
        name="mfa_view_recovery_codes",
    ),
    path(
        "two-factor/recovery-codes/new/",
        recovery_code_views.generate_recovery_codes,
        name="mfa_generate_recovery_codes",
    ),
    path(
        "two-factor/recovery-codes/download/",
        recovery_code_views.download_recovery_codes,
        name="mfa_download_recovery_codes",
    ),
]
