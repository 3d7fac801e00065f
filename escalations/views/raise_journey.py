"""Raise a difference (being built)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path


@login_required
def raise_start(request: HttpRequest) -> HttpResponse:
    """The start of the raise journey."""
    return render(request, "escalations/home.html", {})


urlpatterns: list[URLPattern] = [path("raise/", raise_start, name="raise_start")]
