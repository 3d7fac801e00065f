"""PDFs with WeasyPrint, locked down.

- **Templates only.** Every PDF is a Django template rendered with autoescaping (the engine's
  default; the PDF templates never use ``|safe``), so whatever people typed is text, never
  markup: an ``<img src=file:///etc/passwd>`` in an issue prints as those characters.
- **A fetcher that serves only our static files.** WeasyPrint asks its URL fetcher for every
  stylesheet, image, font and attachment. ``StaticOnlyFetcher`` answers only
  ``https://record-pdf.invalid/static/<path>`` (``.invalid`` is a reserved name that never
  resolves: it is a key, not an address) from the project's own static files (the staticfiles
  finders, then ``STATIC_ROOT``), only for stylesheets, fonts and raster images, and ``data:``
  URLs only for raster images. It refuses everything else — ``file:``, ``http(s):`` to
  anywhere, ``data:text/html``, ``ftp:``, paths with ``..`` — without opening anything, and
  logs every request with its decision (``fetcher.log``) so the tests can prove that nothing
  else was asked for.
- **A time limit.** ``time_limit`` arms a timer; if the render is still running when it fires,
  ``RenderTimeout`` is raised *inside the rendering thread* (CPython's
  ``PyThreadState_SetAsyncExc``) at its next Python instruction. It works in any thread
  (gunicorn's gthread workers, runserver, Celery), unlike ``signal.alarm`` which only works in
  the main thread; it stops the work itself, unlike rendering in a helper thread and
  abandoning it (the thread would keep the CPU); and it costs nothing, unlike a subprocess
  per render (WeasyPrint's import alone is ~0.5 s). ``RenderTimeout`` derives from
  ``BaseException`` so WeasyPrint's ``except Exception`` blocks cannot swallow it. A render
  stuck inside one C call (Pango) is only interrupted when that call returns; gunicorn's
  worker timeout is the backstop for that.
- WeasyPrint is imported on first use, once per process (the import costs ~0.5 s).

The Appendix 2 record's downloads do not call this directly: ``records.record_pdf`` renders
each content version once without the footer's generated line and stamps it per download
(ADR 0010); ``render_record_pdf`` here is the live render (whole, with the line), used when the
line cannot be stamped and as the tests' oracle.

PDFs are tagged (PDF/UA-1: ``pdf_variant="pdf/ua-1"``, which WeasyPrint 70 supports and which
switches ``pdf_tags`` on), A4, with Liberation Sans (metric-compatible with Arial; Debian's
``fonts-liberation2``) set on ``html`` so the page margin boxes use it too.
"""

from __future__ import annotations

import base64
import ctypes
import functools
import gc
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import unquote, unquote_to_bytes, urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils._os import safe_join
from django.utils.formats import date_format

logger = logging.getLogger(__name__)

LONDON = ZoneInfo("Europe/London")

# The only origin the fetcher serves, and the base URL every PDF is rendered against.
PDF_ORIGIN = "https://record-pdf.invalid"
BASE_URL = f"{PDF_ORIGIN}/"
STATIC_BASE = f"{PDF_ORIGIN}/static/"

# What the fetcher serves from our static files, by extension.
STATIC_TYPES: dict[str, str] = {
    ".css": "text/css",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
}
# data: URLs are served only for these (raster images cannot fetch anything themselves).
DATA_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
MAX_DATA_BYTES = 2 * 1024 * 1024
MAX_STATIC_BYTES = 5 * 1024 * 1024

# Seconds one render may take (a 200-entry chronology takes well under one).
DEFAULT_TIME_LIMIT = float(getattr(settings, "PDF_RENDER_TIME_LIMIT", 20.0))

PDF_VARIANT = "pdf/ua-1"


class RenderTimeout(BaseException):
    """The render took longer than its time limit."""


class FetchRefused(ValueError):
    """The PDF asked for something outside the project's static files."""


# -- the URL fetcher ------------------------------------------------------------------------


@dataclass(frozen=True)
class FetchRequest:
    """One request WeasyPrint made, and what the fetcher did with it."""

    url: str
    allowed: bool
    reason: str


def _engine() -> ModuleType:
    """WeasyPrint, imported on first use (Python caches the module after that)."""
    # Its "Step 1 - Fetching and parsing HTML" lines would fill the log at INFO.
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
    import weasyprint

    return weasyprint


def _static_path(relative: str) -> Path | None:
    """The file for a static path, from the finders (development) or STATIC_ROOT."""
    found = finders.find(relative)
    if isinstance(found, list):
        found = found[0] if found else None
    if found:
        return Path(found)
    if settings.STATIC_ROOT:
        try:
            candidate = Path(safe_join(str(settings.STATIC_ROOT), relative))
        except Exception:  # SuspiciousFileOperation: outside STATIC_ROOT
            return None
        if candidate.is_file():
            return candidate
    return None


def _fetcher_class() -> type:
    """``StaticOnlyFetcher``, built on WeasyPrint's ``URLFetcher`` (so on first use only)."""
    global _FETCHER_CLASS
    if _FETCHER_CLASS is not None:
        return _FETCHER_CLASS
    weasyprint = _engine()
    from weasyprint.urls import URLFetcherResponse

    class StaticOnlyFetcher(weasyprint.URLFetcher):  # type: ignore[misc,name-defined]
        """Serves the project's own static files and raster ``data:`` images; refuses
        everything else without opening it. ``log`` lists every request."""

        def __init__(self) -> None:
            # No protocol is allowed to urllib: nothing here ever reaches its handlers.
            super().__init__(allowed_protocols=(), allow_redirects=False, timeout=1)
            self.log: list[FetchRequest] = []

        def fetch(self, url: str, headers: Any = None) -> Any:
            try:
                body, content_type, served = self._resolve(url)
            except FetchRefused as refused:
                self.log.append(FetchRequest(url[:500], allowed=False, reason=str(refused)))
                logger.info("PDF render: refused %.200s (%s)", url, refused)
                raise
            self.log.append(FetchRequest(url[:500], allowed=True, reason=served))
            return URLFetcherResponse(url, body=body, headers={"Content-Type": content_type})

        def open(self, url: Any, data: Any = None, timeout: Any = None) -> Any:
            return self.fetch(getattr(url, "full_url", url))

        @staticmethod
        def _resolve(url: str) -> tuple[bytes, str, str]:
            if not isinstance(url, str):
                raise FetchRefused("not a URL")
            lowered = url.strip().lower()
            if lowered.startswith("data:"):
                return _data_image(url)
            if not lowered.startswith(STATIC_BASE):
                scheme = lowered.split(":", 1)[0] if ":" in lowered else "relative"
                raise FetchRefused(f"only the project's static files are served ({scheme})")
            parts = urlsplit(url)
            relative = unquote(parts.path[len("/static/") :])
            if (
                not relative
                or relative.startswith(("/", "\\"))
                or "\\" in relative
                or "\x00" in relative
                or any(part in ("", ".", "..") for part in relative.split("/"))
            ):
                raise FetchRefused("not a plain static path")
            suffix = Path(relative).suffix.lower()
            content_type = STATIC_TYPES.get(suffix)
            if content_type is None:
                raise FetchRefused(f"static files of type {suffix or 'none'} are not served")
            path = _static_path(relative)
            if path is None:
                raise FetchRefused("no such static file")
            if path.stat().st_size > MAX_STATIC_BYTES:
                raise FetchRefused("static file too large")
            return path.read_bytes(), content_type, f"static file {relative}"

    _FETCHER_CLASS = StaticOnlyFetcher
    return StaticOnlyFetcher


_FETCHER_CLASS: type | None = None


def _data_image(url: str) -> tuple[bytes, str, str]:
    header, comma, payload = url.partition(",")
    if not comma:
        raise FetchRefused("malformed data: URL")
    params = header[len("data:") :].split(";")
    content_type = params[0].strip().lower() or "text/plain"
    if content_type not in DATA_IMAGE_TYPES:
        raise FetchRefused(f"data: URLs are served only for raster images, not {content_type}")
    if len(payload) > MAX_DATA_BYTES * 2:
        raise FetchRefused("data: URL too large")
    try:
        if "base64" in (param.strip().lower() for param in params[1:]):
            body = base64.b64decode(payload, validate=False)
        else:
            body = unquote_to_bytes(payload)
    except ValueError as error:
        raise FetchRefused("malformed data: URL") from error
    return body, content_type, f"data: {content_type}"


def static_only_fetcher() -> Any:
    """A new fetcher (with an empty log) for one render."""
    return _fetcher_class()()


# -- the time limit -------------------------------------------------------------------------


def _raise_in_thread(thread_id: int, exception: type[BaseException] | None) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exception) if exception else None
    )


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise ``RenderTimeout`` in this thread if the block runs longer than ``seconds``.

    The timer and the block's exit share a lock: once the block has left, the timer can no
    longer fire into the thread. If the timer fired, the block ends in ``RenderTimeout`` even
    when the work finished regardless (an exception set but not delivered is cleared first).
    """
    thread_id = threading.get_ident()
    lock = threading.Lock()
    state = {"active": True, "fired": False}

    def fire() -> None:
        with lock:
            if state["active"]:
                state["fired"] = True
                _raise_in_thread(thread_id, RenderTimeout)

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        with lock:
            state["active"] = False
            fired = state["fired"]
            if fired:
                # Clear an exception set but not yet delivered (no-op if it was delivered).
                _raise_in_thread(thread_id, None)
        if fired:
            # Past its limit, the work's result is discarded even if it got to finish: an
            # exception delivered inside a C callback (cffi) can be swallowed by the library.
            raise RenderTimeout


# -- rendering ------------------------------------------------------------------------------


@dataclass
class RenderedPdf:
    pdf: bytes
    fetches: list[FetchRequest] = field(default_factory=list)
    seconds: float = 0.0


_local = threading.local()


def _font_config() -> Any:
    """This thread's FontConfiguration: Pango's font map and its caches are reused from one
    render to the next (they are not shared between threads)."""
    config = getattr(_local, "font_config", None)
    if config is None:
        _engine()
        from weasyprint.text.fonts import FontConfiguration

        config = _local.font_config = FontConfiguration()
    return config


def stylesheet(path: str, fetcher: Any) -> Any:
    """Our static stylesheet ``path``, fetched through ``fetcher`` and parsed once per thread
    (again when the file changes)."""
    found = _static_path(path)
    version = found.stat().st_mtime_ns if found is not None else None
    cache: dict[str, tuple[int | None, Any]] = _local.__dict__.setdefault("stylesheets", {})
    cached = cache.get(path)
    if cached is not None and cached[0] == version:
        return cached[1]
    parsed = _engine().CSS(
        url=f"{STATIC_BASE}{path}", url_fetcher=fetcher, font_config=_font_config()
    )
    cache[path] = (version, parsed)
    return parsed


def forget_stylesheets() -> None:
    """Drop this thread's parsed stylesheets (tests use it to see the fetch again)."""
    _local.__dict__.pop("stylesheets", None)


def render_html_to_pdf(
    html: str,
    *,
    stylesheets: tuple[str, ...] = (),
    fetcher: Any | None = None,
    seconds: float | None = None,
) -> RenderedPdf:
    """Render trusted template output to a tagged A4 PDF under the locked-down fetcher, with
    our static ``stylesheets`` (paths under the static files)."""
    weasyprint = _engine()
    fetcher = fetcher if fetcher is not None else static_only_fetcher()
    started = time.perf_counter()
    with time_limit(DEFAULT_TIME_LIMIT if seconds is None else seconds):
        styles = [stylesheet(path, fetcher) for path in stylesheets]
        document = weasyprint.HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher)
        pdf = document.write_pdf(
            stylesheets=styles, font_config=_font_config(), pdf_variant=PDF_VARIANT
        )
    rendered = RenderedPdf(
        pdf=pdf, fetches=list(fetcher.log), seconds=time.perf_counter() - started
    )
    _settle_after_first_render()
    return rendered


@functools.cache  # once per process
def _settle_after_first_render() -> None:
    """Once a process has rendered its first PDF, take what that left for good (WeasyPrint's
    modules, fonts and caches: hundreds of thousands of objects) out of the garbage
    collector's sight, as gunicorn's master does for what it loads before forking
    (``gc.freeze``). Otherwise every full collection in this process walks them all: about
    180 ms each on the 2-core bench, several times a minute, landing on whatever request is
    being served. The garbage of that first render is collected first; anything freed later
    among the frozen objects is still freed by reference counting."""
    gc.collect()
    gc.freeze()


def generated_line(generated_by: str, at: datetime) -> str:
    local = at.astimezone(LONDON)
    return f"Generated {date_format(local, 'j F Y')} at {local:%H:%M} by {generated_by}"


PDF_STYLESHEETS = ("records/pdf.css",)


def render_template_to_pdf(
    template: str,
    context: dict[str, Any],
    *,
    generated_by: str,
    generated_at: datetime,
    stylesheets: tuple[str, ...] = PDF_STYLESHEETS,
    fetcher: Any | None = None,
    seconds: float | None = None,
) -> RenderedPdf:
    """Render a PDF template (autoescaped; it extends records/_pdf_base.html) with the
    footer's facts, then the PDF with our static ``stylesheets``."""
    html = render_to_string(
        template, {**context, "generated": generated_line(generated_by, generated_at)}
    )
    return render_html_to_pdf(html, stylesheets=stylesheets, fetcher=fetcher, seconds=seconds)


def footer_line(record: Any, generated_by: str, at: datetime) -> str:
    """The Appendix 2 footer's middle line: the case's reference (none on the blank form),
    then who generated the PDF when."""
    line = generated_line(generated_by, at)
    return f"{record.reference} · {line}" if record.reference else line


def render_record_pdf(
    record: Any,
    *,
    generated_by: str,
    generated_at: datetime,
    fetcher: Any | None = None,
    seconds: float | None = None,
) -> RenderedPdf:
    """The Appendix 2 record (filled in or blank) as a PDF, rendered whole with its footer
    line (the live render; downloads go through ``records.record_pdf``, ADR 0010)."""
    html = render_to_string(
        "records/appendix2.html",
        {"record": record, "generated": footer_line(record, generated_by, generated_at)},
    )
    return render_html_to_pdf(html, stylesheets=PDF_STYLESHEETS, fetcher=fetcher, seconds=seconds)
