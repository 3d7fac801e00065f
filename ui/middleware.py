"""Response headers Django has no setting for."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


def permissions_policy(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[..., HttpResponse]:
    """Send ``PERMISSIONS_POLICY`` (switching off camera, microphone, location…) on every
    response that does not already set one."""
    policy = getattr(settings, "PERMISSIONS_POLICY", "")

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        if policy and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = policy
        return response

    return middleware
