"""What a server does before it forks its workers: gunicorn's master (config.wsgi.warm_up)
and the Celery worker (worker_init) load the bank holidays, so no child loads them itself."""

from __future__ import annotations

from celery.signals import worker_init

from config.wsgi import warm_up
from escalations.working_time import _bank_holidays


def test_gunicorns_warm_up_loads_the_bank_holidays() -> None:
    _bank_holidays.cache_clear()
    warm_up()
    assert _bank_holidays.cache_info().currsize > 0


def test_the_celery_worker_loads_the_bank_holidays_before_it_forks() -> None:
    from config.celery import _warm_up

    connected = [receiver() for _key, receiver in worker_init.receivers]
    assert _warm_up in connected
    _bank_holidays.cache_clear()
    _warm_up(sender=None)
    assert _bank_holidays.cache_info().currsize > 0
