"""Health probes for docker-compose.yml's health checks (no Django import: they run often).

    python -m ops.probes web [URL]                 # /healthz answers 200
    python -m ops.probes beat SCHEDULE MAX_AGE     # beat wrote its schedule file lately

Exit status 0 when healthy, 1 otherwise (with the reason on standard error).
"""

from __future__ import annotations

import glob
import os
import sys
import time
import urllib.error
import urllib.request

DEFAULT_URL = "http://127.0.0.1:8000/healthz"


def web(url: str = DEFAULT_URL, timeout: float = 5.0) -> str | None:
    """None when /healthz answers 200, else why not."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
            return None if response.status == 200 else f"/healthz answered {response.status}"
    except urllib.error.HTTPError as error:
        return f"/healthz answered {error.code}: {error.read(500).decode(errors='replace')}"
    except OSError as error:
        return f"/healthz did not answer: {error}"


def beat(schedule: str, max_age: float) -> str | None:
    """None when beat's schedule file (any of the files its dbm back end makes) changed less
    than ``max_age`` seconds ago. Beat writes it after every task it sends
    (CELERY_BEAT_SYNC_EVERY = 1), so a stale file means beat has stopped sending."""
    files = glob.glob(glob.escape(schedule) + "*")
    if not files:
        return f"no schedule file at {schedule}"
    age = time.time() - max(os.path.getmtime(path) for path in files)
    return None if age < max_age else f"schedule file last written {age:.0f} s ago"


def main(argv: list[str]) -> int:
    if len(argv) >= 1 and argv[0] == "web" and len(argv) <= 2:
        problem = web(argv[1] if len(argv) == 2 else DEFAULT_URL)
    elif len(argv) == 3 and argv[0] == "beat":
        problem = beat(argv[1], float(argv[2]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    if problem:
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
