"""Answers /healthz before the rest of the stack.

It sits first in MIDDLEWARE, so the check works over plain HTTP (no HTTPS redirect) and with
whatever Host header a load balancer or Docker health check sends (no ALLOWED_HOSTS check), and
it needs no session, user or CSRF token.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse

from ops.health import health_check

PATH = "/healthz"


class HealthCheckMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info != PATH:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        health = health_check()
        response = JsonResponse(health.as_json(), status=200 if health.healthy else 503)
        response["Cache-Control"] = "no-store"
        response["X-Content-Type-Options"] = "nosniff"
        return response
