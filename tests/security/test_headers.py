"""Security headers on page responses, and production settings that `check --deploy` passes."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse

from tests.conftest import World
from tests.support.mfa import forget_used_code, totp_code

pytestmark = pytest.mark.django_db


def _directives(header: str) -> dict[str, list[str]]:
    parts = [part.strip().split() for part in header.split(";") if part.strip()]
    return {part[0]: part[1:] for part in parts}


@override_settings(SECURE_SSL_REDIRECT=False)
def test_a_page_carries_the_security_headers(world: World, client: Client) -> None:
    client.force_login(world.raiser)
    response = client.get("/", secure=True)
    assert response.status_code == 200
    csp = _directives(response["Content-Security-Policy"])
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"]
    assert csp["form-action"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["style-src"] == ["'self'"]
    nonces = [source for source in csp["script-src"] if source.startswith("'nonce-")]
    assert csp["script-src"][0] == "'self'" and len(nonces) == 1
    assert not any("unsafe" in source for values in csp.values() for source in values)
    # Every inline script of the page carries this response's nonce, and no other.
    body = response.content.decode()
    nonce = nonces[0][len("'nonce-") : -1]
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", body)
    assert inline, "base.html has the GOV.UK js-enabled snippet"
    assert all(f'nonce="{nonce}"' in attributes for attributes in inline), inline
    assert " style=" not in body and "<style" not in body
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]


def test_each_response_has_its_own_nonce(world: World, client: Client) -> None:
    first = client.get("/sign-in/")["Content-Security-Policy"]
    second = client.get("/sign-in/")["Content-Security-Policy"]
    assert first != second


def test_the_404_page_has_the_policy_too(world: World, client: Client) -> None:
    client.force_login(world.raiser)
    response = client.get("/cases/999999/")
    assert response.status_code == 404
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


@override_settings(SECURE_SSL_REDIRECT=False, SECURE_HSTS_SECONDS=31536000)
def test_https_responses_send_hsts(client: Client) -> None:
    response = client.get("/sign-in/", secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")


def test_cookies_are_secure_and_httponly_in_production_settings() -> None:
    # The test settings are the production settings with a throwaway key (DEBUG off).
    assert settings.DEBUG is False
    assert settings.SESSION_COOKIE_SECURE and settings.SESSION_COOKIE_HTTPONLY
    assert settings.CSRF_COOKIE_SECURE and settings.CSRF_COOKIE_HTTPONLY
    assert settings.SECURE_HSTS_SECONDS >= 31536000
    assert settings.SECURE_HSTS_INCLUDE_SUBDOMAINS


def test_the_session_cookie_is_sent_secure_and_httponly(world: World, client: Client) -> Any:
    response = client.post(
        "/sign-in/",
        {"login": "a_practitioner", "password": "a-test-password-123"},
        secure=True,
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")  # then the second factor
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["secure"] and cookie["httponly"]
    assert cookie["samesite"] == "Lax"


def test_check_deploy_reports_nothing_with_production_settings() -> None:
    import os
    import subprocess
    import sys

    # Not DJANGO_ALLOW_ASYNC_UNSAFE either: the browser tests set it in this process.
    unset = ("DJANGO_DEBUG", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(
        SECRET_KEY="x" * 20 + "-production-like-key-for-the-check-only-0123456789",
        ALLOWED_HOSTS="example.org",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_sign_in_never_redirects_off_site(world: World, client: Client) -> None:
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example/"):
        response = client.post(
            "/sign-in/",
            {"login": "a_practitioner", "password": "a-test-password-123", "next": target},
        )
        assert response.status_code == 302
        assert response["Location"] == reverse("mfa_authenticate"), target
        code = totp_code()
        response = client.post(reverse("mfa_authenticate"), {"code": code})
        assert response.status_code == 302
        assert response["Location"] == "/", (target, response["Location"])
        client.logout()
        forget_used_code(world.raiser, code)
