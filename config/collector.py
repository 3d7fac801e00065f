"""The garbage collector's young-generation threshold of a web worker.

Python's cyclic collector runs its youngest generation every this many new container objects
(Python's default is 700). A page of fifty cases makes tens of thousands, so at 700 it ran
dozens of times a request, each pass walking every young object; at 20,000 a page costs about
a tenth less CPU (bench/results.md) for a few more megabytes held until the next pass.
``GUNICORN_GC_THRESHOLD`` sets it; 0 keeps Python's default. gunicorn sets it in each worker
it forks (``post_fork`` in config/gunicorn.conf.py), and the PDF benchmark in its own process,
to measure as a worker serves.
"""

from __future__ import annotations

import gc
import os

DEFAULT_THRESHOLD = 20_000


def use_web_worker_threshold() -> None:
    """Set this process's young-generation threshold to a web worker's."""
    value = os.environ.get("GUNICORN_GC_THRESHOLD", "").strip()
    threshold = int(value) if value else DEFAULT_THRESHOLD
    if threshold > 0:
        _, older, oldest = gc.get_threshold()
        gc.set_threshold(threshold, older, oldest)
