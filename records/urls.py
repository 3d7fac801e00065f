"""Routes of the records app: the Appendix 2 record as a PDF, and the administration pages
(access log, retention, subject access)."""

from django.urls import URLPattern, path

from records import administration, views

urlpatterns: list[URLPattern] = [
    path("cases/<int:pk>/record.pdf", views.case_record_pdf, name="case_record_pdf"),
    path("forms/appendix-2.pdf", views.blank_record_pdf, name="blank_record_pdf"),
    *administration.urlpatterns,
]
