"""Settings for the test suite: the real settings with a throwaway key and fast hashing."""

import os

# A throwaway key for the test run only; production sets SECRET_KEY.
os.environ.setdefault("SECRET_KEY", "test-only-not-secret")

from config.settings import *  # noqa: F403

# Fast hashing: the suite creates hundreds of people; production keeps Django's default.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
# Eager Celery would render a whole PDF inline on every chronology entry the suite writes:
# off, except in the tests of the background render (tests/records/test_record_pdf_store.py).
RECORD_PDF_PRERENDER = False
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# The test client speaks plain HTTP; production redirects to HTTPS.
SECURE_SSL_REDIRECT = False
# No collectstatic before the tests: plain storage, and WhiteNoise finds files in the apps.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
# One process-local cache, emptied before each test (tests/conftest.py).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
