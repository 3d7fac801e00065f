"""The service's URLs plus the bare baseline views (benchmark only, see bench/settings.py)."""

from django.urls import path

from bench import views
from config.urls import handler404, handler500
from config.urls import urlpatterns as service_urlpatterns

urlpatterns = [
    path("bench/bare/cases/", views.bare_case_list, name="bench_bare_case_list"),
    path("bench/bare/cases/<int:pk>/", views.bare_case_detail, name="bench_bare_case_detail"),
    *service_urlpatterns,
]

__all__ = ["handler404", "handler500", "urlpatterns"]
