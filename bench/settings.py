"""Settings for the load benchmark only: the real settings plus the bare baseline views of
``bench/urls.py``. Never used in production (gunicorn is started with it by ``bench.load``)."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
