"""docker-compose.yml, the Dockerfile and .env.example agree with each other and the settings.

No Docker engine runs here, so these read the files instead of building them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_TEXT = (ROOT / "docker-compose.yml").read_text()
COMPOSE: dict[str, Any] = yaml.safe_load(COMPOSE_TEXT)
SERVICES: dict[str, Any] = COMPOSE["services"]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
ENV_EXAMPLE = (ROOT / ".env.example").read_text()
# Documented variables: `NAME=value` lines, commented out or not.
DOCUMENTED = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE, flags=re.MULTILINE))


def test_the_compose_file_has_web_worker_beat_db_and_redis() -> None:
    assert {"web", "worker", "beat", "db", "redis"} <= set(SERVICES)


def test_web_is_served_by_gunicorn() -> None:
    assert "gunicorn" in " ".join(SERVICES["web"]["command"])


def test_there_is_never_more_than_one_beat() -> None:
    beat = SERVICES["beat"]
    assert beat.get("deploy", {}).get("replicas", 1) <= 1
    assert beat.get("scale", 1) <= 1
    assert "beat" in beat["command"]
    # Neither the worker nor web embeds a second beat.
    for name in ("web", "worker"):
        command = SERVICES[name]["command"]
        assert "-B" not in command and "--beat" not in command, name


def test_the_database_keeps_its_data_in_a_named_volume() -> None:
    mounts = [m for m in SERVICES["db"]["volumes"] if m.endswith(":/var/lib/postgresql/data")]
    assert len(mounts) == 1
    source = mounts[0].split(":")[0]
    assert not source.startswith((".", "/", "~")), "a bind mount, not a named volume"
    assert source in COMPOSE["volumes"]


@pytest.mark.parametrize("service", ["db", "redis"])
def test_the_services_others_wait_for_have_health_checks(service: str) -> None:
    assert SERVICES[service]["healthcheck"]["test"]
    for app in ("web", "worker", "beat"):
        assert SERVICES[app]["depends_on"][service]["condition"] == "service_healthy"


def test_the_app_services_read_their_environment_from_dot_env() -> None:
    for name in ("web", "worker", "beat"):
        assert SERVICES[name]["env_file"] == ".env", name


def test_every_variable_the_compose_file_uses_is_in_env_example() -> None:
    # ${NAME}, ${NAME:-default}, ${NAME:?message}; $${NAME} is the container shell's own.
    used = set(re.findall(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)", COMPOSE_TEXT))
    assert used, "the pattern found nothing: has the file's syntax changed?"
    assert used <= DOCUMENTED, sorted(used - DOCUMENTED)


def test_every_variable_the_settings_read_is_in_env_example() -> None:
    settings = (ROOT / "config" / "settings.py").read_text()
    read = set(re.findall(r"\benv(?:\.\w+)?\(\s*\"([A-Z][A-Z0-9_]*)\"", settings))
    assert {"SECRET_KEY", "DATABASE_URL", "DJANGO_DEBUG"} <= read
    assert read <= DOCUMENTED, sorted(read - DOCUMENTED)


def test_the_image_is_slim_python_3_11_with_the_makefiles_uv_run_as_a_non_root_user() -> None:
    assert re.search(r"^FROM python:3\.11-slim-bookworm$", DOCKERFILE, flags=re.MULTILINE)
    makefile = (ROOT / "Makefile").read_text()
    uv_version = re.search(r"^UV_VERSION := (\S+)$", makefile, flags=re.MULTILINE)
    assert uv_version
    assert f"pip install --no-cache-dir uv=={uv_version.group(1)}" in DOCKERFILE
    assert "uv sync --frozen --no-dev" in DOCKERFILE
    users = re.findall(r"^USER (\S+)$", DOCKERFILE, flags=re.MULTILINE)
    assert users and users[-1] not in ("root", "0")


def test_the_image_copies_every_app_package_and_template_folder() -> None:
    copied = set(re.findall(r"^COPY (\S+) ", DOCKERFILE, flags=re.MULTILINE))
    needed = {
        path.name
        for path in ROOT.iterdir()
        if path.is_dir()
        and path.name not in ("tests", "bench")  # benchmarks are not part of the image
        and ((path / "__init__.py").exists() or path.name in ("templates", "static"))
    }
    assert needed <= copied, sorted(needed - copied)
