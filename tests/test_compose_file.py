"""docker-compose.yml, the Dockerfile and .env.example agree with each other and the settings.

No Docker engine runs here, so these read the files instead of building them, and validate the
compose file against the Compose specification's JSON schema (vendored in tests/schemas/).
"""

from __future__ import annotations

import copy
import json
import multiprocessing
import re
import runpy
from pathlib import Path
from typing import Any

import jsonschema
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


def test_the_image_compiles_every_python_package_it_copies() -> None:
    lines = DOCKERFILE.splitlines()
    compiled = [i for i, line in enumerate(lines) if line == "RUN python -m compileall -q ."]
    assert compiled, "the image compiles the application's .pyc files"
    # In the application's folder, after everything is copied into it.
    copies = [i for i, line in enumerate(lines) if line.startswith("COPY ")]
    workdirs = [line for line in lines[: compiled[0]] if line.startswith("WORKDIR ")]
    assert workdirs[-1] == "WORKDIR /app"
    assert max(copies) < compiled[0]


# -- the Compose specification, health checks, profiles -------------------------------------

SCHEMA = json.loads((ROOT / "tests" / "schemas" / "compose-spec.json").read_text())
APP_SERVICES = ("web", "worker", "beat")


def _schema_errors(document: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft201909Validator(SCHEMA)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]


def test_the_compose_file_is_valid_against_the_compose_specification_schema() -> None:
    assert _schema_errors(COMPOSE) == []


@pytest.mark.parametrize(
    "breakage",
    [
        lambda doc: doc["services"]["web"].update(helthcheck={"test": ["CMD", "true"]}),
        lambda doc: doc["services"]["worker"]["depends_on"]["db"].update(condition="healthy"),
        lambda doc: doc["services"]["mailpit"].update(profiles="staging"),
        lambda doc: doc["services"]["beat"]["deploy"].update(replicas="one"),
    ],
    ids=["misspelt-key", "unknown-condition", "profiles-not-a-list", "replicas-not-a-number"],
)
def test_the_schema_check_rejects_a_broken_compose_file(breakage: Any) -> None:
    broken = copy.deepcopy(COMPOSE)
    breakage(broken)
    assert _schema_errors(broken)


ONE_SHOTS = ("migrate", "backup")


def test_every_long_running_service_has_a_health_check() -> None:
    for name, service in SERVICES.items():
        if name in ONE_SHOTS:
            assert service["restart"] == "no", name
            continue
        assert service.get("healthcheck", {}).get("test"), name


def test_the_backup_service_runs_the_scripts_make_runs() -> None:
    backup = SERVICES["backup"]
    assert backup["profiles"] == ["tools"]
    assert backup["image"] == SERVICES["db"]["image"]  # pg_dump of the server's version
    assert "./deploy:/deploy:ro" in backup["volumes"]
    assert backup["command"] == ["/deploy/backup.sh"]
    assert (ROOT / "deploy" / "backup.sh").exists()
    assert (ROOT / "deploy" / "restore-drill.sh").exists()
    makefile = (ROOT / "Makefile").read_text()
    assert "deploy/backup.sh" in makefile and "deploy/restore-drill.sh" in makefile


def test_migrate_runs_once_and_the_app_services_wait_for_it() -> None:
    migrate = SERVICES["migrate"]
    assert migrate["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert migrate["restart"] == "no"
    for name in APP_SERVICES:
        condition = SERVICES[name]["depends_on"]["migrate"]["condition"]
        assert condition == "service_completed_successfully", name


def test_web_runs_gunicorn_with_its_config_file_and_checks_healthz() -> None:
    web = SERVICES["web"]
    gunicorn = ["gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi:application"]
    assert web["command"] == gunicorn
    assert f"CMD {json.dumps(gunicorn)}" in DOCKERFILE
    assert "ports" not in web, "web is reached through the proxy, so it can scale"
    assert web["healthcheck"]["test"][-1].endswith("/healthz")
    assert "ops.probes" in web["healthcheck"]["test"]


def test_the_worker_health_check_pings_this_worker_by_its_node_name() -> None:
    worker = SERVICES["worker"]
    assert "--hostname=celery@%h" in worker["command"]
    test = worker["healthcheck"]["test"]
    assert test[0] == "CMD-SHELL"
    assert "celery -A config inspect ping" in test[1]
    assert "-d celery@$$HOSTNAME" in test[1]  # $$: the container's shell expands it


def test_the_beat_health_check_reads_the_schedule_file_beat_writes() -> None:
    beat = SERVICES["beat"]
    schedule = beat["command"][beat["command"].index("--schedule") + 1]
    test = beat["healthcheck"]["test"]
    assert test[:5] == ["CMD", "python", "-m", "ops.probes", "beat"]
    assert test[5] == schedule


def test_the_mail_catcher_is_for_staging_only_and_nothing_needs_it() -> None:
    mailpit = SERVICES["mailpit"]
    assert mailpit["image"].startswith("axllent/mailpit")
    assert mailpit["profiles"] == ["staging"]
    for name, service in SERVICES.items():
        assert "mailpit" not in service.get("depends_on", {}), name
    assert all(port.startswith("127.0.0.1:") for port in mailpit["ports"])


def test_the_proxy_mounts_the_caddyfile_that_spreads_requests_over_every_web() -> None:
    proxy = SERVICES["proxy"]
    mount = next(m for m in proxy["volumes"] if m.endswith(":/etc/caddy/Caddyfile:ro"))
    caddyfile = (ROOT / mount.split(":")[0]).read_text()
    assert "{$SITE_ADDRESS}" in caddyfile
    assert "dynamic a web 8000" in caddyfile
    assert proxy["depends_on"]["web"]["condition"] == "service_healthy"


def test_postgresql_archives_its_wal_for_point_in_time_recovery() -> None:
    db = SERVICES["db"]
    settings = [arg for arg in db["command"] if "=" in arg]
    assert "archive_mode=on" in settings
    assert "wal_level=replica" in settings
    archive = next(s for s in settings if s.startswith("archive_command="))
    folder = next(m.split(":")[-1] for m in db["volumes"] if m.endswith(":/wal-archive"))
    assert f"{folder}/%f" in archive and "test ! -f" in archive  # never overwrites a segment
    assert folder in db["entrypoint"][2] and "docker-entrypoint.sh" in db["entrypoint"][2]


def test_every_variable_gunicorns_config_reads_is_in_env_example() -> None:
    config = (ROOT / "config" / "gunicorn.conf.py").read_text()
    read = set(re.findall(r"(?:environ\.get|_int)\(\s*\"([A-Z][A-Z0-9_]*)\"", config))
    assert {"WEB_CONCURRENCY", "GUNICORN_TIMEOUT", "FORWARDED_ALLOW_IPS"} <= read
    assert read <= DOCUMENTED, sorted(read - DOCUMENTED)


def _gunicorn_config(monkeypatch: pytest.MonkeyPatch, **environ: str) -> dict[str, Any]:
    for name in ("WEB_CONCURRENCY", "GUNICORN_TIMEOUT", "FORWARDED_ALLOW_IPS", "GUNICORN_BIND"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "config" / "gunicorn.conf.py"))


def test_gunicorns_config_defaults_to_a_worker_a_core(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = _gunicorn_config(monkeypatch)
    assert config["workers"] == max(2, multiprocessing.cpu_count())
    assert config["bind"] == ["0.0.0.0:8000"]
    assert config["timeout"] == 30
    assert config["accesslog"] == "-"
    assert config["forwarded_allow_ips"] == "127.0.0.1,::1"


def test_gunicorns_config_takes_its_settings_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = _gunicorn_config(
        monkeypatch,
        WEB_CONCURRENCY="5",
        GUNICORN_TIMEOUT="90",
        FORWARDED_ALLOW_IPS="*",
        GUNICORN_BIND="127.0.0.1:9000",
    )
    assert (config["workers"], config["timeout"]) == (5, 90)
    assert config["forwarded_allow_ips"] == "*"
    assert config["bind"] == ["127.0.0.1:9000"]


def test_gunicorn_preloads_warms_and_freezes_the_app_then_sets_each_workers_collector(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import gc

    from django.template import engines

    monkeypatch.delenv("GUNICORN_GC_THRESHOLD", raising=False)
    config = _gunicorn_config(monkeypatch)
    assert config["preload_app"] is True
    assert config["max_requests"] == 20_000
    loader = engines["django"].engine.template_loaders[0]
    loader.reset()
    before = gc.get_threshold()
    try:
        config["when_ready"](None)
        # Every template of the project's directory is compiled in the master.
        assert "escalations/case_list.html" in loader.get_template_cache
        assert "base.html" in loader.get_template_cache
        assert gc.get_freeze_count() > 0
        config["post_fork"](None, None)
        assert gc.get_threshold()[0] == 20_000
        monkeypatch.setenv("GUNICORN_GC_THRESHOLD", "0")
        gc.set_threshold(*before)
        _gunicorn_config(monkeypatch)["post_fork"](None, None)
        assert gc.get_threshold() == before
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
