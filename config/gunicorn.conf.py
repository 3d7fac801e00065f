"""gunicorn's settings, from the environment: `gunicorn -c config/gunicorn.conf.py config.wsgi`.

Every variable is documented in .env.example; the defaults suit one container behind a proxy.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from typing import Any


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


# Where to listen: 0.0.0.0:8000 in the container; a port of its own in the CI smoke test.
bind = [os.environ.get("GUNICORN_BIND", "").strip() or "0.0.0.0:8000"]
# Sync worker processes: each serves one request at a time. One per core: the pages are CPU
# work (the database answers in a few milliseconds), and more processes than cores only make
# the kernel time-slice requests against each other. On the 2-core bench (bench/results.md)
# 4 workers gave the case list a p95 of about 150 ms at 4 clients and 2 workers about 60 ms.
# Raise it when requests wait on I/O (a database on a distant host).
workers = _int("WEB_CONCURRENCY", max(2, multiprocessing.cpu_count()))
# A request taking longer than this (seconds) has its worker killed and restarted.
timeout = _int("GUNICORN_TIMEOUT", 30)
# On a restart or stop, running requests get this long (seconds) to finish.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# Keep-alive with the proxy in front (seconds).
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Restart each worker after about this many requests, so a slow leak cannot grow (0: never).
# Not often: a new worker opens new database connections, whose server processes load their
# catalogue caches on their first queries, so its first requests are several times slower.
# At 1,000 the bench's workers restarted every half-minute and that cold start set the case
# list's p95 (about 140 ms where it is about 100 ms without restarts).
max_requests = _int("GUNICORN_MAX_REQUESTS", 20_000)
max_requests_jitter = max_requests // 10
# The proxies whose X-Forwarded-* headers are trusted: comma-separated addresses, or * when
# only the proxy can reach gunicorn (as in docker-compose.yml, where web is on a private
# network). Django itself trusts X-Forwarded-Proto only with BEHIND_TLS_PROXY=true.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "").strip() or "127.0.0.1,::1"
# Access log and error log on standard output, where docker compose logs reads them.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "").strip() or "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "").strip() or "info"
# The worker heartbeat files in memory, not on the container's overlay file system.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108
proc_name = "resolving-differences"

# The application is loaded once, in the master, and every worker is a fork of it: a worker
# started after GUNICORN_MAX_REQUESTS has the URLconf, the views and the compiled templates
# already (``config.wsgi.warm_up``), and shares their memory with the others.
preload_app = True


def when_ready(server: Any) -> None:
    """In the master, once the application is loaded and before the first fork: warm it up,
    then move every object it made out of the collector's sight (``gc.freeze``), so that no
    worker's collection walks them, nor touches their memory, which would copy the pages it
    shares with the master."""
    from config.wsgi import warm_up

    warm_up()
    gc.collect()
    gc.freeze()


def post_fork(server: Any, worker: Any) -> None:
    """In each worker: the collector's young-generation threshold of a web worker
    (GUNICORN_GC_THRESHOLD, config/collector.py)."""
    from config.collector import use_web_worker_threshold

    use_web_worker_threshold()
