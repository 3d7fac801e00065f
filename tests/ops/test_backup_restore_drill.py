"""`make backup` and `make restore-drill` (deploy/backup.sh, deploy/restore-drill.sh), for real
on PostgreSQL: a dump of the test database, restored into a scratch database and compared."""

from __future__ import annotations

import os
import subprocess
import urllib.parse
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.db import connection

from records.models import Entry
from tests.conftest import build_world
from tests.factories.directory import UserFactory

ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{urllib.parse.quote(db['PASSWORD'])}" if db["PASSWORD"] else ""
    return (
        f"postgres://{urllib.parse.quote(db['USER'] or '')}{password}"
        f"@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )


def _make(target: str, backup_dir: Path) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "DATABASE_URL": _database_url(), "BACKUP_DIR": str(backup_dir)}
    command = ["make", "--no-print-directory", target]
    return subprocess.run(  # noqa: S603 (make, from PATH, as CI runs it)
        command, cwd=ROOT, env=environ, capture_output=True, text=True, timeout=180, check=False
    )


def _scratch_databases() -> list[str]:
    """This test database's scratch copies (other xdist processes run drills of their own)."""
    source = str(connection.settings_dict["NAME"])[:40].replace("_", "\\_")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", [f"{source}\\_drill\\_%"]
        )
        return [row[0] for row in cursor.fetchall()]


def _counts(output: str) -> dict[str, tuple[str, str]]:
    rows = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0].startswith("public."):
            rows[parts[0]] = (parts[1], parts[2])
    return rows


def test_the_drill_restores_the_latest_dump_and_every_row_count_matches(
    postgres_transactional: Any, tmp_path: Path
) -> None:
    build_world()
    backup = _make("backup", tmp_path)
    assert backup.returncode == 0, backup.stdout + backup.stderr
    dumps = sorted(tmp_path.glob("*.dump"))
    assert len(dumps) == 1
    assert Path(f"{dumps[0]}.counts").exists()
    users = User.objects.count()
    # A change after the backup: the drill compares with the dump's own snapshot.
    UserFactory(username="joined_after_the_backup")

    drill = _make("restore-drill", tmp_path)
    assert drill.returncode == 0, drill.stdout + drill.stderr
    counts = _counts(drill.stdout)
    assert counts["public.auth_user"] == (str(users), str(users))
    entries = str(Entry.objects.count())
    assert counts["public.records_entry"] == (entries, entries)
    assert "ops_heartbeat" in drill.stdout and "MISMATCH" not in drill.stdout
    assert "every row count matches" in drill.stdout
    assert _scratch_databases() == []


def test_the_drill_fails_on_a_count_that_differs_and_still_drops_its_scratch_database(
    postgres_transactional: Any, tmp_path: Path
) -> None:
    build_world()
    assert _make("backup", tmp_path).returncode == 0
    counts_file = next(tmp_path.glob("*.dump.counts"))
    lines = counts_file.read_text().splitlines()
    lines = [
        f"{line.split(chr(9))[0]}\t999999" if line.startswith("public.auth_user\t") else line
        for line in lines
    ]
    counts_file.write_text("\n".join(lines) + "\n")

    drill = _make("restore-drill", tmp_path)
    assert drill.returncode != 0
    assert "MISMATCH" in drill.stdout
    assert "public.auth_user" in drill.stdout
    assert "1 of" in drill.stderr and "tables differ" in drill.stderr
    assert _scratch_databases() == []


def test_the_drill_without_a_dump_says_so(postgres_transactional: Any, tmp_path: Path) -> None:
    drill = _make("restore-drill", tmp_path)
    assert drill.returncode != 0
    assert "no *.dump in" in drill.stderr
