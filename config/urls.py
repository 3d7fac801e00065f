"""Top-level URL configuration."""

from allauth.account import views as account_views
from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

# The admin signs in through the service's sign-in (with its second factor), never its own form.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

urlpatterns = [
    # Sign-in and sign-out are allauth's (username, password, then the authenticator code);
    # allauth's own code reverses its names, so each path carries both.
    path("sign-in/", account_views.login, name="sign_in"),
    path("sign-in/", account_views.login, name="account_login"),
    path("sign-out/", account_views.logout, name="sign_out"),
    path("sign-out/", account_views.logout, name="account_logout"),
    path("account/", include("accounts.urls")),
    path("admin/", admin.site.urls),
    path("reports/", include("reports.urls")),
    path("", include("escalations.urls")),
    path("", include("records.urls")),
]

handler404 = "ui.views.page_not_found"
handler500 = "ui.views.server_error"
