"""Settings for a real Celery worker started by a test (see test_outbox_worker.py)."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-not-secret")

from config.settings import *  # noqa: F403

EMAIL_BACKEND = "tests.support.slow_email.SlowFileBackend"
EMAIL_FILE_PATH = os.environ["TEST_EMAIL_DIR"]
CELERY_BEAT_SCHEDULE = {}
