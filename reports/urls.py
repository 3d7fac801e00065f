"""The monitoring report and the learning themes page (mounted under reports/)."""

from django.urls import path

from reports import views

urlpatterns = [
    path("", views.report, name="report"),
    path("download/<str:fmt>/", views.report_download, name="report_download"),
    path(
        "cases/<int:pk>/learning-themes/",
        views.case_learning_themes,
        name="case_learning_themes",
    ),
]
