"""Pages: children (being built)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
