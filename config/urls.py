"""Top-level URL configuration."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path(
        "sign-in/",
        auth_views.LoginView.as_view(
            template_name="registration/sign_in.html", redirect_authenticated_user=True
        ),
        name="sign_in",
    ),
    path("sign-out/", auth_views.LogoutView.as_view(), name="sign_out"),
    path("admin/", admin.site.urls),
    path("reports/", include("reports.urls")),
    path("", include("escalations.urls")),
    path("", include("records.urls")),
]

handler404 = "ui.views.page_not_found"
handler500 = "ui.views.server_error"
