"""Case pages (being built)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path


@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    """Cases this person may see."""
    return render(request, "escalations/home.html", {})


urlpatterns: list[URLPattern] = [path("cases/", case_list, name="case_list")]
