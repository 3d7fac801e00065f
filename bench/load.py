"""Benchmark: the case list and the case page under load, with gunicorn and wrk (spec §7: case
list p95 ≤ 100 ms, case detail p95 ≤ 50 ms, at 4 concurrent clients on this 2-core machine).

Seeds the data once (``bench.seed``: 100,000 cases, 1,000,000 chronology entries), starts
gunicorn on a free loopback port with ``bench.settings`` (the service plus the bare baseline
views of ``bench/views.py``), signs people in by writing their sessions straight into the
database, and runs wrk (``bench/wrk.lua`` prints p50/p95/p99) against each page at 4 and 16
concurrent clients, each beside its bare baseline measured the same way. Then, in this
process, it times guardian's ``get_objects_for_user`` against a plain agency-membership filter
and the visibility query the service uses. The figures go to ``var/bench/load.json`` (read by
``bench.run``, which writes ``bench/results.md``) and to stdout; the exit status is non-zero
when a target is missed at 4 clients.

Knobs: BENCH_WORKERS (gunicorn workers, default one per core, as config/gunicorn.conf.py),
BENCH_DURATION (seconds a wrk run, 10), DATABASE_POOL (psycopg's pool, default on here).
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
django.setup()

from django.apps import apps  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Exists, OuterRef  # noqa: E402
from guardian.shortcuts import get_objects_for_user  # noqa: E402

from agencies.selectors import roles_held  # noqa: E402
from bench.seed import LoadData, seed  # noqa: E402
from escalations.models import Party, ProfessionalDifference  # noqa: E402
from escalations.selectors import (  # noqa: E402
    agency_oversight_scope,
    differences_visible_to,
    differences_visible_to_for_pages,
)

BASE_DIR = Path(__file__).resolve().parent.parent
OUT_DIR = BASE_DIR / "var" / "bench"
WRK = shutil.which("wrk") or "/usr/bin/wrk"
# As the shipped gunicorn configuration: one sync worker per core (at least 2).
WORKERS = int(os.environ.get("BENCH_WORKERS", max(2, os.cpu_count() or 1)))
DURATION = int(os.environ.get("BENCH_DURATION", 10))
CONCURRENCY = (4, 16)
TARGET_CONCURRENCY = 4
LIST_TARGET_MS = 100.0
DETAIL_TARGET_MS = 50.0
IN_PROCESS_RUNS = 30


@dataclass
class Measure:
    """One wrk run."""

    name: str
    url: str
    clients: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    rps: float
    requests: int
    errors: int
    load: float  # 1-minute load average just before the run


@dataclass
class Row:
    """A page at one concurrency beside its baseline."""

    name: str
    clients: int
    target_ms: float | None
    page: Measure
    baseline: Measure
    ratio_p95: float = field(init=False)
    passed: bool | None = field(init=False)

    def __post_init__(self) -> None:
        self.ratio_p95 = self.page.p95_ms / self.baseline.p95_ms if self.baseline.p95_ms else 0
        self.passed = (
            None
            if self.target_ms is None or self.clients != TARGET_CONCURRENCY
            else self.page.p95_ms <= self.target_ms and self.page.errors == 0
        )


# -- signing in ---------------------------------------------------------------------------


def mfa_enrol(user: User) -> None:
    """Give the bench user a TOTP authenticator when allauth's MFA app is installed, so a
    middleware that requires an enrolled authenticator lets the session through (the session
    itself is written directly, as after a completed sign-in)."""
    if not apps.is_installed("allauth.mfa"):
        return
    from allauth.mfa.models import Authenticator
    from allauth.mfa.utils import encrypt

    Authenticator.objects.get_or_create(
        user=user,
        type=Authenticator.Type.TOTP,
        defaults={"data": {"secret": encrypt("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")}},
    )


def session_cookie(user: User) -> str:
    """A signed-in session for ``user``, as the Cookie header value."""
    mfa_enrol(user)
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    # As after a completed sign-in with the second factor (accounts.sessions): the sign-in
    # time for the 12-hour limit, and the authenticator already checked.
    from accounts.services import session_track
    from accounts.sessions import MFA_ENROLLED, SIGNED_IN_AT, TRACKED_KEY

    store[SIGNED_IN_AT] = time.time()
    store[MFA_ENROLLED] = True
    store.create()
    session_track(user=user, session_key=store.session_key)
    store[TRACKED_KEY] = store.session_key
    store.save()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


# -- gunicorn and wrk ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_gunicorn(port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "BEHIND_TLS_PROXY": "true",  # wrk sends X-Forwarded-Proto: https, as a proxy would
        "DATABASE_POOL": os.environ.get("DATABASE_POOL", "true"),
        "LOG_LEVEL": "WARNING",
        # Production's gunicorn settings (config/gunicorn.conf.py: preloaded and warmed, the
        # collector's threshold, worker restarts), with the bench's port, workers and log.
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": str(WORKERS),
        "GUNICORN_ACCESS_LOG": "-" if os.environ.get("BENCH_ACCESS_LOG") else "/dev/null",
        "GUNICORN_LOG_LEVEL": "warning",
    }
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    log = (OUT_DIR / "gunicorn.log").open("wb")
    process = subprocess.Popen(  # noqa: S603 (our own gunicorn, fixed arguments)
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "config/gunicorn.conf.py",
         "config.wsgi:application"],
        cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    for _ in range(100):
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited: see {OUT_DIR / 'gunicorn.log'}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("gunicorn did not start listening in 20 s")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def fetch(url: str, cookie: str) -> tuple[int, str]:
    request = urllib.request.Request(  # noqa: S310 (loopback URL we built)
        url, headers={"Cookie": cookie, "X-Forwarded-Proto": "https"}
    )

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""


def drain(base: str, clients: int) -> None:
    """Wait until the requests wrk left in flight are answered: as many health checks as wrk
    had connections, at once, queue behind them. Without this a slow run's leftovers (a slow
    baseline, say) are counted in the next run's tail."""
    from concurrent.futures import ThreadPoolExecutor

    def ask(_: int) -> object:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=60) as response:  # noqa: S310
                return response.status
        except urllib.error.URLError as error:
            return error

    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(ask, range(clients)))


def wrk(name: str, url: str, cookie: str, clients: int, seconds: int) -> Measure:
    parts = urllib.parse.urlsplit(url)
    drain(f"{parts.scheme}://{parts.netloc}", clients)
    load = os.getloadavg()[0]
    result = subprocess.run(  # noqa: S603 (wrk with arguments we built)
        [WRK, "-t", str(min(clients, 2)), "-c", str(clients), "-d", f"{seconds}s",
         "--timeout", "10s", "-s", str(BASE_DIR / "bench" / "wrk.lua"), url],
        env={**os.environ, "BENCH_COOKIE": cookie}, capture_output=True, text=True, check=True,
    )  # fmt: skip
    line = next(ln for ln in result.stdout.splitlines() if ln.startswith("BENCH-JSON "))
    data = json.loads(line.removeprefix("BENCH-JSON "))
    errors = sum(data[k] for k in data if k.startswith("errors_"))
    return Measure(
        name=name,
        url=url,
        clients=clients,
        p50_ms=data["p50"] / 1000,
        p95_ms=data["p95"] / 1000,
        p99_ms=data["p99"] / 1000,
        rps=data["requests"] / (data["duration_us"] / 1e6),
        requests=data["requests"],
        errors=errors,
        load=load,
    )


# -- in process: the price of object permissions ------------------------------------------


def timed(run: Callable[[], object], runs: int = IN_PROCESS_RUNS) -> dict[str, float]:
    run()
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        timings.append((time.perf_counter() - started) * 1000)
    ordered = sorted(timings)
    return {
        "p50_ms": statistics.median(timings),
        "p95_ms": ordered[min(len(ordered) - 1, round(0.95 * len(ordered)))],
    }


def plain_filter(user: User) -> Any:
    """The cases of the person's agencies (or partnerships), with no object permissions."""
    agencies, partnerships = agency_oversight_scope(user)
    if partnerships:
        return ProfessionalDifference.objects.filter(partnership_id__in=partnerships)
    return ProfessionalDifference.objects.filter(
        Exists(Party.objects.filter(difference=OuterRef("pk"), agency_id__in=agencies))
    )


def _first_page(queryset: Any) -> object:
    return list(queryset.order_by("-raised_at", "-pk").values_list("pk", flat=True)[:50])


def _count(queryset: Any) -> object:
    return queryset.count()


def _guardian(user: User) -> Any:
    return get_objects_for_user(
        user,
        "escalations.view_professionaldifference",
        klass=ProfessionalDifference,
        accept_global_perms=False,
        with_superuser=False,
    )


def _once(run: Callable[[Any], object], make: Callable[[User], Any], user: User) -> object:
    return run(make(user))


def permissions_price(people: dict[str, User]) -> list[dict[str, Any]]:
    """guardian's query, the service's paging form, and a plain filter, in this process."""
    rows = []
    shapes: list[tuple[str, Callable[[Any], object], int]] = [
        ("first page of 50", _first_page, IN_PROCESS_RUNS),
        ("count", _count, 5),
    ]
    for label, user in people.items():
        roles_held(user)  # cached per person, as in a request
        for shape, run, runs in shapes:
            makers: list[tuple[str, Callable[[User], Any]]] = [
                ("guardian", _guardian),
                ("service", differences_visible_to_for_pages),
                ("plain", plain_filter),
            ]
            figures = {
                name: timed(functools.partial(_once, run, make, user), runs)
                for name, make in makers
            }
            rows.append(
                {
                    "who": label,
                    "shape": shape,
                    "visible": differences_visible_to(user).count(),
                    **figures,
                    "ratio_guardian": figures["guardian"]["p50_ms"] / figures["plain"]["p50_ms"],
                    "ratio_service": figures["service"]["p50_ms"] / figures["plain"]["p50_ms"],
                }
            )
    return rows


# -- the run ------------------------------------------------------------------------------


def case_for(data: LoadData, user: User) -> int:
    """A case the manager sees: the newest open Stage 2 case of their agency (10 entries)."""
    case = (
        differences_visible_to(user)
        .filter(partnership=data.partnership, status="stage_2")
        .order_by("-raised_at", "-pk")
        .values_list("pk", flat=True)
        .first()
    )
    assert case is not None
    return case


def main() -> int:
    if connection.vendor != "postgresql":
        print("The benchmark runs on PostgreSQL: set DATABASE_URL.", file=sys.stderr)
        return 2
    data = seed()
    manager, business = data.line_manager, data.business_manager
    case = case_for(data, manager)
    cookies = {manager.pk: session_cookie(manager), business.pk: session_cookie(business)}
    visible = {
        "line manager": differences_visible_to(manager).count(),
        "business manager": differences_visible_to(business).count(),
    }
    print(
        f"{data.cases:,} cases, {data.entries:,} chronology entries in {data.partnership.name}; "
        f"the line manager sees {visible['line manager']:,}, the business manager "
        f"{visible['business manager']:,}; gunicorn {WORKERS} workers, "
        f"DATABASE_POOL={os.environ.get('DATABASE_POOL', 'true')}, wrk {DURATION} s a run",
        flush=True,
    )
    # (name, user, page, baseline, target)
    pages: list[tuple[str, User, str, str, float]] = [
        ("case list, first page (line manager)", manager,
         "/cases/", "/bench/bare/cases/", LIST_TARGET_MS),
        ("case list, filtered: Stage 2 (line manager)", manager,
         "/cases/?status=stage_2", "/bench/bare/cases/?status=stage_2", LIST_TARGET_MS),
        ("case list, by due date (line manager)", manager,
         "/cases/?sort=due", "/bench/bare/cases/?sort=due", LIST_TARGET_MS),
        ("case list, first page (business manager, every case)", business,
         "/cases/", "/bench/bare/cases/", LIST_TARGET_MS),
        ("case page, 10 entries (line manager)", manager,
         f"/cases/{case}/", f"/bench/bare/cases/{case}/", DETAIL_TARGET_MS),
    ]  # fmt: skip
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_gunicorn(port)
    rows: list[Row] = []
    try:
        for name, user, page, baseline, _ in pages:
            for url in (page, baseline):
                status, body = fetch(base + url, cookies[user.pk])
                if status != 200 or "LOAD-" not in body:
                    raise SystemExit(f"{url} as {user.username}: HTTP {status}, not the page")
            # Warm every worker (imports, template loading, connections).
            wrk(name, base + page, cookies[user.pk], 4, 2)
            wrk(name, base + baseline, cookies[user.pk], 4, 1)
        for clients in CONCURRENCY:
            for name, user, page, baseline, target in pages:
                measured = wrk(name, base + page, cookies[user.pk], clients, DURATION)
                bare = wrk(name, base + baseline, cookies[user.pk], clients, DURATION)
                row = Row(name, clients, target, measured, bare)
                rows.append(row)
                verdict = {True: "PASS", False: "MISS", None: "(no target at this load)"}
                print(
                    f"{clients:>2} clients  {name}: p50 {measured.p50_ms:.1f} ms, p95 "
                    f"{measured.p95_ms:.1f} ms, p99 {measured.p99_ms:.1f} ms, "
                    f"{measured.rps:.0f} req/s, {measured.errors} errors (load "
                    f"{measured.load:.2f}) | bare p95 {bare.p95_ms:.1f} ms, {bare.rps:.0f} "
                    f"req/s | ×{row.ratio_p95:.1f} | target p95 ≤ {target:.0f} ms "
                    f"{verdict[row.passed]}",
                    flush=True,
                )
    finally:
        stop(server)
    price = permissions_price({"line manager": manager, "business manager": business})
    for item in price:
        print(
            f"visibility, {item['who']} ({item['visible']:,} cases), {item['shape']}: "
            f"get_objects_for_user p50 {item['guardian']['p50_ms']:.1f} ms, the list's "
            f"differences_visible_to_for_pages {item['service']['p50_ms']:.1f} ms, plain filter "
            f"{item['plain']['p50_ms']:.1f} ms (×{item['ratio_guardian']:.1f}, "
            f"×{item['ratio_service']:.1f})",
            flush=True,
        )
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUT_DIR / "load.json").write_text(
        json.dumps(
            {
                "cases": data.cases,
                "entries": data.entries,
                "visible": visible,
                "workers": WORKERS,
                "pool": os.environ.get("DATABASE_POOL", "true"),
                "duration_s": DURATION,
                "rows": [asdict(row) for row in rows],
                "permissions": price,
            },
            indent=2,
        )
    )
    missed = [row for row in rows if row.passed is False]
    for row in missed:
        print(f"MISSED: {row.name} at {row.clients} clients: p95 {row.page.p95_ms:.1f} ms")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
