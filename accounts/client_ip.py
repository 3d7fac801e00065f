"""The client's address, one rule for the access audit (records.access_log) and django-axes'
lockout per address."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or, behind ``ACCESS_AUDIT_TRUSTED_PROXIES`` trusted
    proxies, the address the outermost trusted proxy saw (counted from the right of
    X-Forwarded-For, which a client can fill with anything on the left)."""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = int(getattr(settings, "ACCESS_AUDIT_TRUSTED_PROXIES", 0) or 0)
    candidate = remote
    if proxies > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= proxies:
            candidate = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        try:
            return str(ipaddress.ip_address(remote))
        except ValueError:
            return None
