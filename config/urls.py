"""Top-level URL configuration."""

from django.contrib import admin
from django.urls import path

admin.site.site_header = "Resolving professional differences: administration"
admin.site.site_title = "Resolving professional differences"

urlpatterns = [
    path("admin/", admin.site.urls),
]
