"""The Celery application: configuration comes from Django settings (CELERY_*)."""

import os
from typing import Any

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("resolving_differences")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _warm_up(**_kwargs: Any) -> None:
    """Before the worker forks its pool: load what every deadline scan needs (the bank
    holidays), so that each child starts with it rather than loading it in its first scan."""
    from escalations.working_time import load_bank_holidays

    load_bank_holidays()
