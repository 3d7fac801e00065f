"""Settings, read from the environment with safe embedded defaults.

With nothing set, the app runs on SQLite and Celery's embedded ``filesystem://`` broker, so
``make run`` works on a fresh machine. Production sets ``DATABASE_URL`` (PostgreSQL),
``CELERY_BROKER_URL`` or ``REDIS_URL``, ``SECRET_KEY``, ``ALLOWED_HOSTS`` and the email settings.
"""

import os
from datetime import timedelta
from pathlib import Path

import csp.constants as _csp
import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# The development key only ever serves a DEBUG run; production must set SECRET_KEY.
SECRET_KEY = env.str("SECRET_KEY", default="") or (
    "dev-only-insecure-key-set-SECRET_KEY-in-production" if DEBUG else ""
)
if not SECRET_KEY:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("Set SECRET_KEY (or DJANGO_DEBUG=true for a local run).")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # django.contrib.admin, with a site only partnership administrators may enter (issue 7).
    "agencies.admin_site.PartnershipAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "guardian",
    "csp",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "axes",
    "accounts",
    "ui",
    "agencies",
    "escalations",
    "records",
    "reports",
    "ops",
]

MIDDLEWARE = [
    # /healthz answers before anything checks the Host header or redirects to HTTPS (see
    # "Production stack" below).
    "ops.middleware.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files from gunicorn itself (see "Production stack" below).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "ui.middleware.permissions_policy",
    # Django's SessionMiddleware, renewing the 30-minute idle expiry once a minute rather than
    # writing the session on every request (see "Sign-in, MFA, sessions" below).
    "accounts.middleware.RenewingSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Sign-in block (see "Sign-in, MFA, sessions" below): the 12-hour limit, then MFA set-up.
    "accounts.middleware.SessionLimitsMiddleware",
    "accounts.middleware.MFARequiredMiddleware",
    # Access audit (issue 7): one INSERT per case page, download or refused attempt; after
    # the sign-in block, so the person it records is the one the view serves.
    "records.access_log.AccessAuditMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Last, as django-axes asks: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "ui.context_processors.service",
                "csp.context_processors.nonce",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# The few statements every page runs are kept prepared on PostgreSQL connections (ops.db);
# false behind a pooler that cannot keep prepared statements (PgBouncer before 1.21 in
# transaction mode).
DATABASE_PREPARE = env.bool("DATABASE_PREPARE", default=True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # psycopg 3's pool through Django 5.2's built-in support.
    DATABASES["default"].setdefault("OPTIONS", {})
    if env.bool("DATABASE_POOL", default=False):
        DATABASES["default"]["OPTIONS"]["pool"] = True
    if DATABASE_PREPARE:
        # psycopg prepares nothing unless given a threshold; this one is never reached, so
        # only the statements ops.db prepares on purpose are (Django's own cursors bind on the
        # client and never prepare).
        DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", 2**31 - 1)
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Wait for a writer instead of failing at once when the worker and the web app collide.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses a locked-out account or address before any password check.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# Guardian's anonymous user is not used: the app has no anonymous access to cases.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=str(VAR_DIR / "static"))

LOGIN_URL = "sign_in"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "sign_in"

# --- Sign-in, MFA, sessions (issue 7) --------------------------------------------------------
# django-allauth: sign-in by username and password, then a second factor (TOTP with recovery
# codes), compulsory for everyone (accounts.middleware.MFARequiredMiddleware). No sign-up, no
# e-mail verification or management, no password reset: only the pages in accounts/urls.py.
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "password1*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_LOGOUT_REDIRECT_URL = "sign_in"
ACCOUNT_EMAIL_NOTIFICATIONS = False
ACCOUNT_REAUTHENTICATION_TIMEOUT = 10 * 60
# Failed passwords are counted by django-axes (accounts.adapter skips allauth's count); allauth's
# "login_failed" limit (default 10/min per address, 5 per 5 min per person) throttles wrong
# authenticator codes.
ACCOUNT_FORMS = {
    "login": "accounts.forms.SignInForm",
    "reauthenticate": "accounts.forms.PasswordReauthenticateForm",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Resolving professional differences"
MFA_FORMS = {
    "authenticate": "accounts.forms.CodeForm",
    "reauthenticate": "accounts.forms.CodeReauthenticateForm",
    "activate_totp": "accounts.forms.SetUpAuthenticatorForm",
}
# django-axes: at most 10 failed attempts per account and, separately, per address within
# 5 minutes; then 5 minutes' cool-off, with templates/account/lockout.html.
AXES_FAILURE_LIMIT = 10
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_COOLOFF_TIME = timedelta(minutes=5)
AXES_USE_ATTEMPT_EXPIRATION = True
AXES_LOCKOUT_TEMPLATE = "account/lockout.html"
AXES_RESET_ON_SUCCESS = False
AXES_VERBOSE = False
AXES_CLIENT_IP_CALLABLE = "accounts.client_ip.client_ip"
# Sessions in the database: 30 minutes idle, 12 hours at most from sign-in
# (accounts.middleware.SessionLimitsMiddleware). The idle expiry is renewed by a request when
# it was last renewed SESSION_RENEW_AFTER seconds ago or more
# (accounts.middleware.RenewingSessionMiddleware), not by a write on every request: a session
# ends after between 29 and 30 minutes without a request, never later.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = False
SESSION_RENEW_AFTER = 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_ABSOLUTE_AGE = 12 * 60 * 60
# allauth keeps rate limits and used TOTP codes in the cache: shared (Redis) when configured.
_redis_cache = env.str("REDIS_URL", default="")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _redis_cache}
    if _redis_cache
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}
# --- end of sign-in block --------------------------------------------------------------------

# Celery: the embedded filesystem broker when no broker URL is given (first run);
# Redis in CI and production. Deadlines live in the database, never in long countdowns.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or env.str("REDIS_URL", default="")
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "filesystem://"
    _broker_dir = VAR_DIR / "celery-broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "control_folder": str(VAR_DIR / "celery-control"),
    }
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
# One beat only (docker-compose runs exactly one). The scan and the outbox both read the
# database, so a missed or doubled run neither loses nor repeats anything.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "scan-deadlines": {
        "task": "escalations.tasks.scan_deadlines",
        # Seconds between scans (the CI smoke test uses a few seconds).
        "schedule": env.float("DEADLINE_SCAN_INTERVAL_SECONDS", default=60.0),
    },
    "deliver-outbox": {"task": "escalations.tasks.deliver_outbox", "schedule": 60.0},
}
# Connections a deadline scan writes its batches on side by side (PostgreSQL; one on SQLite):
# by default the machine's cores, at most four.
DEADLINE_SCAN_WORKERS = env.int("DEADLINE_SCAN_WORKERS", default=min(os.cpu_count() or 1, 4))

# The address e-mails link to.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="no-reply@localhost")

# Production hardening; `manage.py check --deploy` is part of CI.
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# --- Security headers (issue 7): Content Security Policy, cookies, browser features. ---
# django-csp 4: a strict policy. Scripts only from this origin, or inline with this
# response's nonce (base.html's `js-enabled` snippet and GOV.UK Frontend's initAll); no
# inline styles or style attributes; no plugins; no framing; forms post only here.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [_csp.SELF],
        "script-src": [_csp.SELF, _csp.NONCE],
        "style-src": [_csp.SELF],
        "img-src": [_csp.SELF],
        "font-src": [_csp.SELF],
        "connect-src": [_csp.SELF],
        "object-src": [_csp.NONE],
        "base-uri": [_csp.SELF],
        "form-action": [_csp.SELF],
        "frame-ancestors": [_csp.NONE],
    }
}
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True  # no page script reads the token: forms carry it
CSRF_COOKIE_SAMESITE = "Lax"
# Sent by ui.middleware.permissions_policy on every response: no powerful browser feature.
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)
# --- end of the security headers block ---
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# -- Audit of access and retention (issue 7; ADRs 0006 and 0007) ----------------------------
# How many proxies in front of the app append to X-Forwarded-For. The access audit and the
# sign-in lockout per address (accounts.client_ip) both use the address the outermost of them
# saw. 0 (the default) uses REMOTE_ADDR and ignores the header, which a client could fill with
# anything; BEHIND_TLS_PROXY implies one proxy.
ACCESS_AUDIT_TRUSTED_PROXIES = env.int(
    "TRUSTED_PROXY_COUNT", default=1 if env.bool("BEHIND_TLS_PROXY", default=False) else 0
)
# The daily retention scan lists closed cases past their partnership's retention period for
# an administrator to confirm (nothing is anonymised without that confirmation).
CELERY_BEAT_SCHEDULE["scan-retention"] = {
    "task": "records.tasks.scan_retention",
    "schedule": 24 * 60 * 60.0,
}
# The Appendix 2 PDF of a case is rendered again in the background (a Celery task queued when
# a chronology entry commits), so downloads only stamp the footer's generated line (ADR 0010).
RECORD_PDF_PRERENDER = env.bool("RECORD_PDF_PRERENDER", default=True)
# -- Production stack: static files, the health check, beat's liveness ---------------------
# WhiteNoise serves the collected static files from gunicorn with far-future cache headers:
# collectstatic (run when the Docker image is built) writes hashed, pre-compressed copies
# (gzip and Brotli) and a manifest. With DEBUG (`make run`) the plain names are used and the
# files come from the app folders, so no collectstatic is needed; the tests use plain storage
# (config/settings_test.py).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# /healthz (ops.middleware) answers ahead of SecurityMiddleware, so a load balancer may call
# it over plain HTTP with any Host header; should the middleware ever move below
# SecurityMiddleware, this still keeps it out of the HTTPS redirect.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# Seconds the health check waits for Redis before calling it down.
HEALTHZ_REDIS_TIMEOUT = 1.0
# Beat writes its schedule file after every task it sends, so the file's age tells a health
# check that beat is alive (docker-compose.yml).
CELERY_BEAT_SYNC_EVERY = 1

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
