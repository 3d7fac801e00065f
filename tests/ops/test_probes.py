"""The health probes docker-compose.yml runs in the web and beat containers."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ops import probes


def test_beat_is_alive_while_its_schedule_file_is_fresh(tmp_path: Path) -> None:
    schedule = tmp_path / "celerybeat-schedule"
    (tmp_path / "celerybeat-schedule.db").write_bytes(b"shelve")  # dbm adds a suffix
    assert probes.main(["beat", str(schedule), "180"]) == 0


def test_beat_is_dead_when_its_schedule_file_is_stale_or_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    schedule = tmp_path / "celerybeat-schedule"
    assert probes.main(["beat", str(schedule), "180"]) == 1
    assert "no schedule file" in capsys.readouterr().err
    schedule.write_bytes(b"shelve")
    old = time.time() - 600
    os.utime(schedule, (old, old))
    assert probes.main(["beat", str(schedule), "180"]) == 1
    assert "last written 600 s ago" in capsys.readouterr().err


@pytest.fixture
def healthz_server() -> Iterator[tuple[str, list[int]]]:
    """A stand-in for gunicorn answering /healthz with the status in ``status[0]``."""
    status = [200]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status[0])
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"status": "error", "database": "error"}')

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/healthz", status
    finally:
        server.shutdown()
        server.server_close()


def test_web_is_healthy_only_when_healthz_answers_200(
    healthz_server: tuple[str, list[int]], capsys: pytest.CaptureFixture[str]
) -> None:
    url, status = healthz_server
    assert probes.main(["web", url]) == 0
    status[0] = 503
    assert probes.main(["web", url]) == 1
    assert '/healthz answered 503: {"status": "error"' in capsys.readouterr().err


def test_web_is_unhealthy_when_nothing_listens(capsys: pytest.CaptureFixture[str]) -> None:
    assert probes.main(["web", "http://127.0.0.1:1/healthz"]) == 1
    assert "did not answer" in capsys.readouterr().err


def test_a_wrong_invocation_prints_the_usage() -> None:
    assert probes.main(["worker"]) == 2
