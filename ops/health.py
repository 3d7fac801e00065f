"""The health check behind /healthz: the database, the Redis broker, the last deadline scan.

Cheap enough for a load balancer to call every few seconds: one SELECT (which also reads the
last scan's time) and one Redis PING with a short timeout. It reports no secrets: no URLs, host
names or error texts, only ok/error.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import redis
from django.conf import settings

from ops.heartbeats import heartbeat_last
from ops.models import Heartbeat

logger = logging.getLogger(__name__)

OK = "ok"
ERROR = "error"
NOT_CONFIGURED = "not-configured"


@dataclass(frozen=True)
class Health:
    database: str
    redis: str
    last_deadline_scan: datetime | None

    @property
    def healthy(self) -> bool:
        return self.database == OK and self.redis in (OK, NOT_CONFIGURED)

    def as_json(self) -> dict[str, Any]:
        scan = self.last_deadline_scan
        return {
            "status": OK if self.healthy else ERROR,
            "database": self.database,
            "redis": self.redis,
            "last_deadline_scan": scan.isoformat() if scan else None,
        }


def redis_broker_url() -> str | None:
    """The broker URL when the broker is Redis, else None (e.g. the filesystem broker)."""
    url = str(settings.CELERY_BROKER_URL or "")
    return url if url.startswith(("redis://", "rediss://", "unix://")) else None


@lru_cache(maxsize=4)
def _redis_client(url: str, timeout: float) -> redis.Redis:
    # One client (and so one connection pool) per URL for the life of the process.
    return redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)


def _database() -> tuple[str, datetime | None]:
    try:
        return OK, heartbeat_last(Heartbeat.DEADLINE_SCAN)
    except Exception as error:  # any failure means the app cannot serve
        logger.warning("health check: database error: %s", type(error).__name__)
        return ERROR, None


def _redis() -> str:
    url = redis_broker_url()
    if url is None:
        return NOT_CONFIGURED
    try:
        _redis_client(url, float(settings.HEALTHZ_REDIS_TIMEOUT)).ping()
    except Exception as error:  # refused, timed out, auth failed: all the same to a balancer
        logger.warning("health check: Redis error: %s", type(error).__name__)
        return ERROR
    return OK


def health_check() -> Health:
    database, last_scan = _database()
    return Health(database=database, redis=_redis(), last_deadline_scan=last_scan)
