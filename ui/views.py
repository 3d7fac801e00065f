"""Error pages in the service's design."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import loader


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404: also what anyone gets for a case they may not see."""
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """500: rendered without the request context, which may be what broke."""
    context: dict[str, Any] = {
        "service_name": "Resolving professional differences",
        "partnership_name": "Safeguarding Children Partnership",
        # The nonce of this response's Content Security Policy (django-csp's middleware).
        "CSP_NONCE": getattr(request, "csp_nonce", ""),
    }
    return HttpResponse(loader.get_template("500.html").render(context), status=500)
