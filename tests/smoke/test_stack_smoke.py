"""The CI smoke test: the production processes, for real, against PostgreSQL and Redis.

What docker-compose.yml runs, without Docker: `migrate`, `collectstatic` (WhiteNoise's
compressed manifest storage, as the image build does), gunicorn with config/gunicorn.conf.py,
a Celery worker and one Celery beat, each a separate process with the production settings
(config.settings) and its configuration in environment variables only. Then, over HTTP with a
cookie jar and the forms' CSRF tokens, like a browser without JavaScript: /healthz, sign in,
raise a case through the raise journey, start its clarification, and, once its due date has
been brought forward to a few seconds away, wait for the real beat to schedule the deadline
scan, the real worker to record the breach, and the outbox e-mail to arrive over SMTP. It also
runs the compose file's health-check commands against these processes. Every process it starts
is stopped at the end, pass or fail.

Skips without PostgreSQL or Redis (REDIS_URL); fails in CI instead.
"""

from __future__ import annotations

import contextlib
import email
import html
import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection
from django.utils import timezone

from escalations.deadlines import stage_clock_shorten
from escalations.models import ProfessionalDifference, StageEntry
from escalations.states import Status
from tests.conftest import World, build_world
from tests.support.mfa import totp_code
from tests.support.services import live_redis_url

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PASSWORD = "a-test-password-123"
SCAN_INTERVAL_SECONDS = 2
START_TIMEOUT = 60
BREACH_TIMEOUT = 45

# One xdist process runs every test that uses the shared Redis database (one of them flushes it).
pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.xdist_group("redis")]


# -- the processes --------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Stack:
    """The processes, their logs and how to reach them."""

    workdir: Path
    environ: dict[str, str]
    base_url: str = ""
    smtp_messages: list[email.message.Message] = field(default_factory=list)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def log(self, name: str) -> Path:
        return self.workdir / f"{name}.log"

    def start(self, name: str, *command: str) -> subprocess.Popen[bytes]:
        """A process in its own session, so that stopping it stops its children too."""
        process = subprocess.Popen(  # noqa: S603 (our own commands)
            command, cwd=ROOT, env=self.environ, stdin=subprocess.DEVNULL,
            stdout=self.log(name).open("ab"), stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        self.processes[name] = process
        return process

    def run(self, name: str, *command: str, timeout: float = 120) -> None:
        """A one-shot command, which must succeed (like the `migrate` service)."""
        process = self.start(name, *command)
        try:
            status = process.wait(timeout=timeout)
        finally:
            self.stop(name)
        assert status == 0, f"{name} failed ({status}):\n{self.tail(name)}"

    def probe(self, *command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 (our own commands)
            command, cwd=ROOT, env=self.environ, capture_output=True, text=True, timeout=60,
            check=False,
        )  # fmt: skip

    def tail(self, name: str, size: int = 4000) -> str:
        path = self.log(name)
        return path.read_text(errors="replace")[-size:] if path.exists() else "(no log)"

    def logs(self) -> str:
        return "\n".join(
            f"----- {path.stem} -----\n{self.tail(path.stem, 2500)}"
            for path in sorted(self.workdir.glob("*.log"))
        )

    def alive(self) -> None:
        for name, process in self.processes.items():
            assert process.poll() is None, (
                f"{name} exited ({process.returncode}):\n{self.tail(name)}"
            )

    def stop(self, name: str) -> None:
        """TERM to the whole group (a warm shutdown), up to 15 s, then KILL."""
        process = self.processes.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=15)
        with contextlib.suppress(ProcessLookupError):  # the group may outlive its leader
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.stop(name)


def _wait_for(what: str, check: Callable[[], Any], stack: Stack, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        stack.alive()
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"Timed out after {timeout:.0f} s waiting for {what}.\n{stack.logs()}")
        time.sleep(0.5)


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, list[email.message.Message]]]:
    """A real SMTP server that keeps what it receives (the outbox sends over SMTP)."""
    from aiosmtpd.controller import Controller

    received: list[email.message.Message] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(email.message_from_bytes(envelope.content))
            return "250 Message accepted for delivery"

    port = _free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, received
    finally:
        controller.stop()


@pytest.fixture
def stack(
    postgres_transactional: Any,
    tmp_path: Path,
    smtp_server: tuple[int, list[email.message.Message]],
) -> Iterator[Stack]:
    redis_url = live_redis_url()
    db = connection.settings_dict
    database_url = (
        f"postgres://{urllib.parse.quote(db['USER'] or '')}"
        + (f":{urllib.parse.quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
        + f"@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    smtp_port, received = smtp_server
    port = _free_port()
    environ = {
        # Only what a container would have: the production settings, from the environment.
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": "smoke-test-only-" + "x" * 40,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": f"http://127.0.0.1:{port}",
        # Plain HTTP on loopback: no TLS proxy in front here.
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "SECURE_HSTS_SECONDS": "0",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "EMAIL_USE_TLS": "false",
        "DEFAULT_FROM_EMAIL": "no-reply@smoke.invalid",
        "STATIC_ROOT": str(tmp_path / "static"),
        "DEADLINE_SCAN_INTERVAL_SECONDS": str(SCAN_INTERVAL_SECONDS),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
        "LOG_LEVEL": "INFO",
    }
    stack = Stack(workdir=tmp_path, environ=environ, base_url=f"http://127.0.0.1:{port}")
    stack.smtp_messages = received
    try:
        yield stack
    finally:
        stack.stop_all()


# -- a browser without JavaScript -------------------------------------------------------------


class _Forms(HTMLParser):
    """The hidden inputs of each POST form on a page (the CSRF token, seen_state, ...)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, str]] = []
        self._in_post_form = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self._in_post_form = values.get("method", "").lower() == "post"
            if self._in_post_form:
                self.forms.append({})
        elif tag == "input" and self._in_post_form and values.get("type") == "hidden":
            self.forms[-1][values.get("name", "")] = values.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_post_form = False


@dataclass
class Page:
    url: str
    status: int
    text: str
    headers: Any

    @property
    def path(self) -> str:
        return urllib.parse.urlsplit(self.url).path

    def hidden_fields(self, index: int = -1) -> dict[str, str]:
        """The hidden inputs of the page's last POST form (the main one on this site)."""
        parser = _Forms()
        parser.feed(self.text)
        assert parser.forms, f"no POST form on {self.url}:\n{self.text[:3000]}"
        return parser.forms[index]

    @property
    def words(self) -> str:
        return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", self.text)).split())


class Browser:
    """Cookies, redirects followed, forms posted with their hidden fields."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def _open(self, request: urllib.request.Request) -> Page:
        try:
            with self.opener.open(request, timeout=30) as response:
                body = response.read().decode("utf-8", errors="replace")
                return Page(response.geturl(), response.status, body, response.headers)
        except urllib.error.HTTPError as error:
            body = error.read().decode("utf-8", errors="replace")
            return Page(error.geturl(), error.code, body, error.headers)

    def get(self, path: str) -> Page:
        return self._open(urllib.request.Request(self.base_url + path))  # noqa: S310

    def submit(self, path: str, data: dict[str, Any]) -> Page:
        """GET the form page, then POST its hidden fields with ``data`` (lists repeat)."""
        form_page = self.get(path)
        assert form_page.status == 200, f"{path}: {form_page.status}\n{form_page.words[:2000]}"
        fields = {**form_page.hidden_fields(), **data}
        body = urllib.parse.urlencode(fields, doseq=True).encode()
        request = urllib.request.Request(  # noqa: S310 (http on loopback)
            self.base_url + path, data=body, method="POST"
        )
        request.add_header("Referer", self.base_url + path)
        page = self._open(request)
        assert page.status == 200, f"POST {path}: {page.status}\n{page.words[:2000]}"
        return page


def sign_in(browser: Browser, username: str, password: str) -> Page:
    """Sign in through the sign-in page, as a person would. (One function, so that a change
    in how people sign in, such as a second factor, changes only this.)"""
    page = browser.submit("/sign-in/", {"login": username, "password": password})
    # The second factor: every test person has a TOTP authenticator with the known secret.
    assert page.path == "/account/two-factor/code/", f"no code asked for:\n{page.words[:2000]}"
    page = browser.submit(page.path, {"code": totp_code()})
    assert page.path == "/", f"sign-in did not reach the home page:\n{page.words[:2000]}"
    assert "Sign out" in page.text
    return page


def raise_case(browser: Browser, world: World) -> int:
    """The raise journey, page by page; returns the new case's id."""
    start = browser.get("/raise/")
    assert start.status == 200 and "Start now" in start.text

    def step(name: str, data: dict[str, Any], then: str) -> None:
        page = browser.submit(f"/raise/{name}/", data)
        assert page.path == f"/raise/{then}/", f"{name} → {page.path}:\n{page.words[:2000]}"

    step("immediate-risk", {"immediate_risk": "no"}, "complaint")
    step("complaint", {"complaint": "no"}, "child")
    child = {"name": "Amira Khan", "date_of_birth_day": "3", "date_of_birth_month": "4",
             "date_of_birth_year": "2016", "address": "1 High Street", "school": "Hill Primary",
             "lead_professional": ""}  # fmt: skip
    step("child", child, "children")
    step("children", {"add_another": "no"}, "other-agencies")
    step("other-agencies", {"other_agencies": [world.agency_b.pk]}, "named-professionals")
    named = {"named": [f"{world.agency_b.pk}-{world.b_named.pk}"], "unlisted_name": "",
             "unlisted_role": "", "unlisted_agency": ""}  # fmt: skip
    step("named-professionals", named, "category")
    step("category", {"category": world.category.pk}, "context")
    step("context", {"context": "open_case"}, "issue")
    step("issue", {"issue": "The referral was closed without a strategy meeting."}, "check-answers")
    case_page = browser.submit("/raise/check-answers/", {})
    found = re.fullmatch(r"/cases/(\d+)/", case_page.path)
    assert found, f"check answers → {case_page.path}:\n{case_page.words[:2000]}"
    return int(found.group(1))


# -- the test -------------------------------------------------------------------------------


def test_sign_in_raise_a_case_and_see_the_breach_flagged_by_the_real_beat_and_worker(
    stack: Stack,
) -> None:
    python = str(BIN / "python")
    celery = str(BIN / "celery")
    # The seeded world: the test personas, with a password hash the production settings know.
    world = build_world()
    raiser = world.raiser
    raiser.password = PBKDF2PasswordHasher().encode(PASSWORD, "smoketestsalt", iterations=1000)
    raiser.save(update_fields=["password"])

    # Like the `migrate` one-shot and the image build (in parallel: both take a while).
    migrate = stack.start("migrate", python, "manage.py", "migrate", "--noinput")
    stack.run("collectstatic", python, "manage.py", "collectstatic", "--noinput", "-v0")
    assert migrate.wait(timeout=120) == 0, stack.tail("migrate")
    stack.stop("migrate")
    assert (Path(stack.environ["STATIC_ROOT"]) / "staticfiles.json").exists()

    stack.start("web", str(BIN / "gunicorn"), "-c", "config/gunicorn.conf.py",
                "config.wsgi:application")  # fmt: skip
    stack.start("worker", celery, "-A", "config", "worker", "--loglevel=info",
                "--concurrency=1", "--hostname=smoke@%h", "--without-gossip",
                "--without-mingle")  # fmt: skip
    schedule = stack.workdir / "celerybeat-schedule"
    stack.start("beat", celery, "-A", "config", "beat", "--loglevel=info",
                "--schedule", str(schedule))  # fmt: skip

    browser = Browser(stack.base_url)

    def healthy() -> Page | None:
        try:
            page = browser.get("/healthz")
        except urllib.error.URLError:  # not listening yet
            return None
        return page if page.status == 200 else None

    health = _wait_for("/healthz to answer 200", healthy, stack, START_TIMEOUT)
    assert '"database": "ok"' in health.text and '"redis": "ok"' in health.text
    _wait_for("the worker to be ready", lambda: " ready." in stack.tail("worker"), stack, 60)

    # WhiteNoise serves the hashed, compressed stylesheet with a far-future cache header.
    sign_in_page = browser.get("/sign-in/")
    stylesheet = re.search(r'href="(/static/[^"]+\.[0-9a-f]{12}\.css)"', sign_in_page.text)
    assert stylesheet, sign_in_page.text[:2000]
    request = urllib.request.Request(stack.base_url + stylesheet.group(1))  # noqa: S310
    request.add_header("Accept-Encoding", "gzip")
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        assert response.status == 200
        assert "immutable" in response.headers["Cache-Control"]
        assert response.headers["Content-Encoding"] == "gzip"

    sign_in(browser, raiser.username, PASSWORD)
    case_id = raise_case(browser, world)
    started = browser.submit(f"/cases/{case_id}/start-clarification/", {})
    assert started.path == f"/cases/{case_id}/", started.words[:2000]
    case = ProfessionalDifference.objects.get(pk=case_id)
    assert case.status == Status.CLARIFICATION
    assert "Overdue" not in started.text

    # The owner brings the due date forward (the spec allows it, with a reason) to a few
    # seconds from now; only the beat's scan on the worker can record the breach.
    due = timezone.now() + timedelta(seconds=3)
    stage_clock_shorten(actor=raiser, difference_id=case_id, due_at=due,
                        reason="Smoke test: the child's needs demand it")  # fmt: skip

    def breach_recorded() -> bool:
        return StageEntry.objects.filter(difference_id=case_id, breached_at__isnull=False).exists()

    _wait_for("the breach to be recorded", breach_recorded, stack, BREACH_TIMEOUT)
    entry = StageEntry.objects.get(difference_id=case_id, left_at__isnull=True)
    assert entry.breached_at is not None and entry.breached_at >= due

    case_page = browser.get(f"/cases/{case_id}/")
    assert "Overdue" in case_page.text, case_page.words[:3000]
    subject = f"{case.reference} is overdue at Clarification"
    home = browser.get("/")
    assert subject in home.words, home.words[:3000]

    def breach_mailed_to_the_raiser() -> list[str]:
        # The outbox sends one notice at a time: wait for the raiser's, not just the first.
        return [
            str(m["To"])
            for m in stack.smtp_messages
            if subject in str(m["Subject"]) and str(m["To"]) == raiser.email
        ]

    _wait_for("the breach e-mail to the raiser", breach_mailed_to_the_raiser, stack, BREACH_TIMEOUT)
    to = {str(m["To"]) for m in stack.smtp_messages if subject in str(m["Subject"])}
    assert raiser.email in to

    # The scan's finish time reaches /healthz.
    health = browser.get("/healthz")
    assert health.status == 200
    assert '"last_deadline_scan": null' not in health.text

    # docker-compose.yml's health checks, run against these processes.
    web_probe = stack.probe(python, "-m", "ops.probes", "web", f"{stack.base_url}/healthz")
    assert web_probe.returncode == 0, web_probe.stderr
    beat_probe = stack.probe(python, "-m", "ops.probes", "beat", str(schedule), "30")
    assert beat_probe.returncode == 0, beat_probe.stderr
    ping = stack.probe(celery, "-A", "config", "inspect", "ping", "--timeout", "10",
                       "-d", f"smoke@{socket.gethostname()}")  # fmt: skip
    assert ping.returncode == 0, ping.stdout + ping.stderr
    stack.alive()
