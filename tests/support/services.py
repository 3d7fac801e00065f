"""Real services the tests need: found, or the test skips locally and fails in CI."""

from __future__ import annotations

import os

import pytest


def live_redis_url(default: str | None = None) -> str:
    """REDIS_URL (else CELERY_BROKER_URL, else ``default``) when a Redis answers there."""
    url = os.environ.get("REDIS_URL") or os.environ.get("CELERY_BROKER_URL") or default
    problem = "REDIS_URL is not set"
    if url:
        import redis

        try:
            redis.Redis.from_url(url, socket_connect_timeout=1).ping()
            return url
        except Exception as error:
            problem = f"Redis at {url} is not answering ({type(error).__name__})"
    if os.environ.get("CI"):
        pytest.fail(f"Redis is required in CI: {problem}.")
    pytest.skip(f"needs Redis: {problem}")
