"""Loaded before Django's settings: the test run's own defaults."""

import os

# A throwaway key for the test run only; production sets SECRET_KEY.
os.environ.setdefault("SECRET_KEY", "test-only-not-secret")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
