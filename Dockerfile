# One image for web (gunicorn), the Celery worker and Celery beat: see docker-compose.yml.

# Front-end assets: GOV.UK Frontend compiled with Arial (ui/build.mjs).
FROM node:20-bookworm-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY ui ./ui
RUN node ui/build.mjs

FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    PATH=/opt/venv/bin:$PATH

# WeasyPrint (the Appendix 2 PDF) needs Pango and HarfBuzz's subsetter; fonts-liberation2
# gives Liberation Sans, which stands in for Arial.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
       libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-liberation2 \
    && rm -rf /var/lib/apt/lists/*

# The same uv as the Makefile's bootstrap.
RUN pip install --no-cache-dir uv==0.9.30

WORKDIR /app

# Dependencies first, from the lock file alone, so that a code change reuses this layer.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-cache

# The application, listed one by one so that .venv, var/, .env and caches never reach the
# image (tests/test_compose_file.py checks that every app package is listed).
COPY manage.py ./
COPY config ./config
COPY agencies ./agencies
COPY escalations ./escalations
COPY records ./records
COPY reports ./reports
COPY ops ./ops
COPY accounts ./accounts
COPY templates ./templates
COPY ui ./ui
COPY --from=assets /build/ui/static/build ./ui/static/build

# The application's .pyc files (everything copied above), as UV_COMPILE_BYTECODE does for its
# dependencies: with PYTHONDONTWRITEBYTECODE (and /app not writable by the user that runs it),
# every gunicorn, worker and beat process would otherwise compile the project's modules when
# it starts.
RUN python -m compileall -q .

# Static files are collected at build time into var/static (hashed names, gzip and Brotli
# copies, a manifest; a throwaway key: settings refuse to load without one); var/ belongs to the unprivileged user that runs everything.
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
    && useradd --system --user-group --uid 10001 --home-dir /app --no-create-home app \
    && chown -R app:app /app/var

USER app
EXPOSE 8000

# gunicorn's settings come from the environment (config/gunicorn.conf.py); WhiteNoise serves
# the static files collected above, compressed and with far-future cache headers.
CMD ["gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi:application"]
