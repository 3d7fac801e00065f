"""HTML to PDF with WeasyPrint, locked down: the renderer fetches nothing but the project's own
static files.

The report uses the record PDF's renderer, ``records.pdf.render_html_to_pdf`` (its fetcher
serves only our static files, with a time limit and tagged PDF/UA output). Until that module
is in every checkout, this one keeps a minimal renderer of its own with the same rule:
WeasyPrint's default fetcher follows any URL (``file:///etc/passwd`` in a
``<link rel=attachment>`` would be embedded in the PDF; ``http://`` would reach the network);
``StaticFilesOnlyFetcher`` refuses every URL except ``file:`` URLs of files inside the
project's static directories with a known static suffix; refused resources are skipped (and
logged by WeasyPrint), never fetched. The report's HTML needs nothing fetched: its CSS is
inline and its charts are inline SVG.
"""

from __future__ import annotations

import logging
import mimetypes
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

from django.apps import apps
from django.conf import settings

# WeasyPrint logs every rendering step at INFO; keep its warnings (e.g. a refused URL).
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

ALLOWED_SUFFIXES = frozenset({".css", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".woff", ".woff2"})


class ResourceRefused(ValueError):
    """A URL the PDF renderer may not fetch."""


@cache
def static_roots() -> tuple[Path, ...]:
    """The directories static files are served from (each app's ``static`` and STATIC_ROOT)."""
    roots = [Path(config.path) / "static" for config in apps.get_app_configs()]
    roots += [Path(str(d)) for d in getattr(settings, "STATICFILES_DIRS", [])]
    if getattr(settings, "STATIC_ROOT", None):
        roots.append(Path(str(settings.STATIC_ROOT)))
    return tuple(root.resolve() for root in roots if root.is_dir())


def allowed_path(url: str) -> Path:
    """The static file ``url`` names, or ResourceRefused."""
    parts = urlsplit(url)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        raise ResourceRefused(f"The PDF may not fetch {url[:80]!r}.")
    path = Path(url2pathname(parts.path)).resolve()
    if path.suffix.lower() not in ALLOWED_SUFFIXES or not path.is_file():
        raise ResourceRefused(f"The PDF may not fetch {url[:80]!r}.")
    if not any(path.is_relative_to(root) for root in static_roots()):
        raise ResourceRefused(f"The PDF may not fetch {url[:80]!r}.")
    return path


def _fetcher() -> Any:
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticFilesOnlyFetcher(URLFetcher):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(allowed_protocols=("file",), allow_redirects=False, timeout=1)

        def fetch(self, url: str, headers: Any = None) -> Any:
            path = allowed_path(url)
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(
                path.as_uri(), path.read_bytes(), headers={"Content-Type": content_type}
            )

    return StaticFilesOnlyFetcher()


def html_to_pdf(html: str) -> bytes:
    """Render an HTML document to PDF bytes, locked down (the record PDF's renderer when it
    is there, else ``fallback_html_to_pdf``)."""
    try:
        from records.pdf import render_html_to_pdf
    except ImportError:
        return fallback_html_to_pdf(html)
    rendered: Any = render_html_to_pdf(html)
    pdf: bytes = rendered.pdf
    return pdf


def fallback_html_to_pdf(html: str) -> bytes:
    """Render an HTML document to PDF bytes with ``StaticFilesOnlyFetcher``."""
    from weasyprint import HTML

    roots = static_roots()
    base_url = roots[0].as_uri() + "/" if roots else None
    pdf: bytes = HTML(string=html, base_url=base_url, url_fetcher=_fetcher()).write_pdf()
    return pdf
