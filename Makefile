# Build, run and check the project. Every target bootstraps its own tools first:
# uv at a pinned version in .tools/ (nothing installed system-wide), then .venv from uv.lock.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.ONESHELL:
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON ?= python3
UV_VERSION := 0.9.30
TOOLS := .tools
UV := $(TOOLS)/bin/uv
UV_STAMP := $(TOOLS)/.uv-$(UV_VERSION)
BIN := .venv/bin
PY := $(BIN)/python

# Extra arguments for pytest, e.g. `make test PYTEST_ARGS="-x -k visibility"`.
PYTEST_ARGS ?=
# pytest-xdist processes (one per core by default; PYTEST_WORKERS=0 runs in one process).
# Tests that share a Redis database are grouped onto one process (xdist_group "redis").
PYTEST_WORKERS ?= auto
# Hook for the browser-test prerequisites (Chromium, npm assets) a later issue adds:
# targets listed here run before the test suite. Empty for now.
BROWSER_TEST_PREREQS ?=

RUN_HOST := 127.0.0.1
RUN_PORT := 8000

.PHONY: help bootstrap system-packages assets run test lint checks bench screenshots backup \
	restore-drill clean

help:
	@echo "make run     migrate, seed demo data, start a Celery worker (+ beat) and serve"
	@echo "             http://$(RUN_HOST):$(RUN_PORT)/admin/ (DEBUG, SQLite unless DATABASE_URL)"
	@echo "make test    the whole pytest suite (PYTEST_ARGS=... passed through)"
	@echo "make lint    ruff check, ruff format --check, mypy"
	@echo "make checks  makemigrations --check, manage.py check, check --deploy"
	@echo "make bench   benchmarks on PostgreSQL (BENCH_DATABASE_URL)"
	@echo "make screenshots  refresh docs/screenshots/ from the browser tests"
	@echo "make backup  pg_dump -Fc of DATABASE_URL into BACKUP_DIR (default var/backups)"
	@echo "make restore-drill  restore the latest dump into a scratch database, compare row counts"
	@echo "make clean   remove .venv, .tools and var/ (the local database too)"

$(UV_STAMP):
	@echo "==> installing uv $(UV_VERSION) into $(TOOLS)/"
	rm -rf $(TOOLS)
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install -q uv==$(UV_VERSION)
	touch $@

# Front-end assets (GOV.UK Frontend compiled with Arial, axe-core) into ui/static/build/.
node_modules/.package-lock.json: package-lock.json package.json
	@echo "==> npm ci"
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

assets: node_modules/.package-lock.json
	@node ui/build.mjs

# Internal: every other target depends on it. --compile-bytecode: the dependencies' .pyc files
# are written once here, so that no process compiles them again when it starts (where
# PYTHONDONTWRITEBYTECODE is set, every process did: 3.6 s to start Django with WeasyPrint
# against 1.6 s). Once they are written, a later sync checks them in a quarter of a second.
bootstrap: $(UV_STAMP)
	@$(UV) sync --frozen --compile-bytecode --python "$$($(PYTHON) -c 'import sys; print(sys.executable)')"

# Debian packages WeasyPrint needs for the PDFs (Pango, HarfBuzz's subsetter, Liberation Sans
# for Arial): installed with apt when missing and we are root, else a warning says what to
# install.
SYSTEM_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-liberation2
system-packages:
	@missing=""
	for package in $(SYSTEM_PACKAGES); do
	  dpkg -s "$$package" >/dev/null 2>&1 || missing="$$missing $$package"
	done
	[ -z "$$missing" ] && exit 0
	if [ "$$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
	  echo "==> apt-get install$$missing"
	  export DEBIAN_FRONTEND=noninteractive
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null
	else
	  echo "WARNING: the PDFs need these system packages, which are missing:$$missing" >&2
	  echo "         install them as root: apt-get install$$missing" >&2
	fi

run: bootstrap system-packages assets
	@mkdir -p var/log var/celery-broker var/celery-control
	export DJANGO_DEBUG=true
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo

	worker=""; server=""; stopping=""
	# Stop a process group we started (its leader is our child): TERM to the target, up to
	# 30 s for the whole group to finish, then KILL what is left, and reap the leader.
	stop_group() {
	  local pgid=$$1 target=$$2 name=$$3
	  [ -n "$$pgid" ] && kill -0 -- "-$$pgid" 2>/dev/null || return 0
	  echo "==> stopping $$name"
	  kill -TERM -- "$$target" 2>/dev/null || true
	  for _ in {1..150}; do kill -0 -- "-$$pgid" 2>/dev/null || break; sleep 0.2; done
	  kill -KILL -- "-$$pgid" 2>/dev/null || true
	  wait "$$pgid" 2>/dev/null || true
	}
	cleanup() {
	  [ -z "$$stopping" ] || return 0
	  stopping=1
	  # runserver: the whole group (the autoreloader and its child). Celery: the main
	  # process only, whose warm shutdown stops its pool and embedded beat in order.
	  stop_group "$$server" "-$$server" "the development server"
	  stop_group "$$worker" "$$worker" "the Celery worker"
	}
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	# Each in its own process group (setsid) so that stopping it stops its children too
	# (the prefork pool and embedded beat; runserver's autoreloader child).
	worker_log=var/log/celery-worker.log
	: >"$$worker_log"
	setsid $(BIN)/celery -A config worker -B --loglevel=info -s var/celerybeat-schedule \
	  >>"$$worker_log" 2>&1 </dev/null &
	worker=$$!
	echo "==> Celery worker with embedded beat starting (log: $$worker_log)"
	for _ in {1..120}; do
	  grep -q 'celery@.* ready\.' "$$worker_log" && break
	  if ! kill -0 "$$worker" 2>/dev/null; then
	    echo "The Celery worker exited during start-up; the end of its log:" >&2
	    tail -n 40 "$$worker_log" >&2
	    exit 1
	  fi
	  sleep 0.5
	done
	grep -m1 'celery@.* ready\.' "$$worker_log" || echo "(worker not ready after 60 s; carrying on)"

	echo
	echo "================================================================"
	echo "  Admin:      http://$(RUN_HOST):$(RUN_PORT)/admin/"
	echo "  The app:    http://$(RUN_HOST):$(RUN_PORT)/  (sign in as a demo person)"
	echo "  Logins:     listed above by seed_demo; every password is demo-safeguarding-2026"
	echo "  Worker log: $$worker_log"
	echo "  Stop with Ctrl-C."
	echo "================================================================"
	echo
	setsid $(PY) manage.py runserver $(RUN_HOST):$(RUN_PORT) </dev/null &
	server=$$!
	# `wait` returns at once when a trapped signal arrives; the EXIT trap then stops both.
	status=0
	wait "$$server" || status=$$?
	exit "$$status"

test: bootstrap system-packages assets $(BROWSER_TEST_PREREQS)
	@$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

lint: bootstrap
	@status=0
	echo "==> ruff check ."
	$(BIN)/ruff check . || status=1
	echo "==> ruff format --check ."
	$(BIN)/ruff format --check . || status=1
	echo "==> mypy ."
	# django-stubs imports the settings, which need SECRET_KEY or DEBUG.
	DJANGO_DEBUG=true $(BIN)/mypy . || status=1
	exit "$$status"

checks: bootstrap
	@mkdir -p var
	echo "==> manage.py makemigrations --check --dry-run"
	DJANGO_DEBUG=true $(PY) manage.py makemigrations --check --dry-run
	echo "==> manage.py check"
	DJANGO_DEBUG=true $(PY) manage.py check
	echo "==> manage.py check --deploy --fail-level WARNING (production-like settings)"
	secret=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')
	env -u DJANGO_DEBUG SECRET_KEY="$$secret" ALLOWED_HOSTS=example.org \
	  $(PY) manage.py check --deploy --fail-level WARNING

# Screenshots of the main pages, taken by the browser tests, into docs/screenshots/.
screenshots: bootstrap assets
	@SCREENSHOTS=1 $(BIN)/pytest -q tests/browser

# Benchmarks on PostgreSQL (spec §7's targets). The data is made once in the `bench` database
# (BENCH_DATABASE_URL to use another) and reused: 100,000 cases and 1,000,000 chronology
# entries with COPY (bench/seed.py). bench/run.py runs every benchmark (the case list and case
# page under load with gunicorn and wrk beside bare baselines, the deadline scan, the report,
# the PDF), writes bench/results.md and fails at the end if any missed its target.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/bench
bench: bootstrap system-packages assets
	@url="$(BENCH_DATABASE_URL)"; server="$${url%/*}"; name="$${url##*/}"
	psql "$$server/postgres" -qtAc "SELECT 1 FROM pg_database WHERE datname = '$$name'" | grep -q 1 \
	  || psql "$$server/postgres" -qc "CREATE DATABASE \"$$name\""
	# wrk is the load generator: installed with apt when missing and we are root.
	if ! command -v wrk >/dev/null && [ "$$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
	  echo "==> apt-get install wrk"
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null
	fi
	command -v wrk >/dev/null || { echo "make bench needs wrk (apt-get install wrk)" >&2; exit 2; }
	export DATABASE_URL="$(BENCH_DATABASE_URL)" SECRET_KEY=bench-only-not-secret
	export CELERY_BROKER_URL="$${BENCH_BROKER_URL:-redis://127.0.0.1:6379/15}"
	# Django's cache on Redis, as in production (the partnership configuration is kept there).
	export REDIS_URL="$${BENCH_REDIS_URL:-redis://127.0.0.1:6379/14}"
	$(PY) manage.py migrate --noinput -v0
	# gunicorn serves the pages with production settings: hashed static files need collecting.
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) -m bench.run

# PostgreSQL backups (docs/deploy.md): a custom-format dump of DATABASE_URL with the row counts
# of its snapshot, and a drill that restores the latest one into a scratch database on the same
# server, compares every table's row count and drops it again.
BACKUP_DIR ?= var/backups
backup:
	@: "$${DATABASE_URL:?set DATABASE_URL to the PostgreSQL database to back up}"
	BACKUP_DIR="$(BACKUP_DIR)" deploy/backup.sh

restore-drill:
	@: "$${DATABASE_URL:?set DATABASE_URL to the PostgreSQL database the dumps come from}"
	BACKUP_DIR="$(BACKUP_DIR)" deploy/restore-drill.sh

clean:
	rm -rf .venv $(TOOLS) var node_modules ui/static/build
