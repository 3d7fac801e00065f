"""The Appendix 2 record PDF as downloaded: rendered once per content version, stamped per
download (ADR 0010).

A download reads the record (``appendix2.record_for``), renders its HTML with the footer's
generated line left empty, and hashes it (``render_key``: the HTML, the stylesheet's bytes,
WeasyPrint's version, the fonts and ``STAMP_VERSION``). The case's stored render
(``RecordRender``) is used when its key matches; otherwise the PDF is rendered now, under the
time limit, and stored in its place. Either way the same thing is sent: the stored base with
"<reference> · Generated <date> at <time> by <name>" stamped on every page
(``records.pdf_stamp``). Same HTML, same PDF: a stored render can never be stale, so this is
exact, and it is the one code path whether the store was warm or cold.

A line Windows-1252 cannot encode (a name in another script) is not stamped: the whole PDF is
rendered live with the line in its HTML (``pdf.render_record_pdf``), as before this ADR.

The store is warmed in the background: every chronology write (``records.services``) queues
``records.tasks.prerender_record`` after its transaction commits
(``records.prerender.prerender_on_commit``); a lost task only means the next download renders
cold. The blank form is stamped the same way
from Django's cache (keyed by its HTML, so by the partnership's name too).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.core.cache import cache
from django.db import transaction
from django.template.loader import render_to_string

from records import appendix2, pdf, pdf_stamp
from records.models import RecordRender

if TYPE_CHECKING:
    from agencies.models import Partnership
    from escalations.models import ProfessionalDifference

logger = logging.getLogger(__name__)

# Bump when the stamping (or what the base render leaves out) changes: every stored render's
# key changes with it, so none is stamped by code it was not made for.
STAMP_VERSION = 1

TEMPLATE = "records/appendix2.html"
MEASURE_TEMPLATE = "records/_pdf_base.html"
# Long enough to wrap in the footer box, so the line pitch can be measured too.
MEASURE_LINE = "Generated 1 January 2026 at 00:00 by " + "Measure " * 40
BLANK_CACHE_SECONDS = 24 * 60 * 60


@dataclass
class RecordPdf:
    """A record's PDF as sent, and how it was made."""

    pdf: bytes
    record: appendix2.Appendix2Record
    source: str  # "stored", "rendered" (cold, now stored) or "live" (not stampable)
    seconds: float = 0.0


# -- the footer line and the HTML -----------------------------------------------------------


def record_html(record: appendix2.Appendix2Record, generated: str = "") -> str:
    """The record's HTML; with ``generated`` empty, the base every download is stamped on."""
    return render_to_string(TEMPLATE, {"record": record, "generated": generated})


# -- the key --------------------------------------------------------------------------------

_fingerprints: dict[str, tuple[int | None, bytes]] = {}
_measured: dict[bytes, pdf_stamp.FooterGeometry] = {}
_lock = threading.Lock()


def _stylesheet_bytes() -> bytes:
    """Our stylesheets' bytes (read again when a file changes)."""
    chunks = []
    for path in pdf.PDF_STYLESHEETS:
        found = pdf._static_path(path)
        version = found.stat().st_mtime_ns if found is not None else None
        cached = _fingerprints.get(path)
        if cached is None or cached[0] != version:
            cached = (version, found.read_bytes() if found is not None else b"")
            _fingerprints[path] = cached
        chunks.append(path.encode() + b"\0" + cached[1])
    return b"\0".join(chunks)


def _environment() -> bytes:
    """What else decides the bytes: WeasyPrint's version, the stamping's, the fonts."""
    font = pdf_stamp.font_path()
    faces = sorted(font.parent.glob("LiberationSans-*.ttf"))
    stats = ";".join(
        f"{face.name}:{face.stat().st_size}:{face.stat().st_mtime_ns}" for face in faces
    )
    version = pdf._engine().__version__
    return f"weasyprint {version}; stamp {STAMP_VERSION}; {stats}".encode()


def render_key(html: str) -> str:
    """SHA-256 of everything a base render depends on."""
    digest = hashlib.sha256()
    for part in (_environment(), _stylesheet_bytes(), html.encode()):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def footer_geometry() -> pdf_stamp.FooterGeometry:
    """Where the footer line goes, measured from a live layout of our stylesheet (once per
    process, and again when the stylesheet changes)."""
    styles = _stylesheet_bytes()
    geometry = _measured.get(styles)
    if geometry is not None:
        return geometry
    with _lock:
        geometry = _measured.get(styles)
        if geometry is None:
            weasyprint = pdf._engine()
            fetcher = pdf.static_only_fetcher()
            html = render_to_string(MEASURE_TEMPLATE, {"generated": MEASURE_LINE})
            document = weasyprint.HTML(string=html, base_url=pdf.BASE_URL, url_fetcher=fetcher)
            layout = document.render(
                stylesheets=[pdf.stylesheet(path, fetcher) for path in pdf.PDF_STYLESHEETS],
                font_config=pdf._font_config(),
            )
            geometry = pdf_stamp.measure_footer(layout)
            _measured.clear()
            _measured[styles] = geometry
    return geometry


# -- rendering and stamping -----------------------------------------------------------------


def _render_base(html: str, seconds: float | None, fetcher: Any = None) -> tuple[bytes, int]:
    rendered = pdf.render_html_to_pdf(
        html, stylesheets=pdf.PDF_STYLESHEETS, fetcher=fetcher, seconds=seconds
    )
    return rendered.pdf, pdf_stamp.page_count(rendered.pdf)


def _live(
    record: appendix2.Appendix2Record,
    line: str,
    seconds: float | None,
    started: float,
    fetcher: Any = None,
) -> RecordPdf:
    rendered = pdf.render_html_to_pdf(
        record_html(record, line),
        stylesheets=pdf.PDF_STYLESHEETS,
        fetcher=fetcher,
        seconds=seconds,
    )
    return RecordPdf(rendered.pdf, record, "live", time.perf_counter() - started)


def _stampable(line: str) -> bool:
    """Whether the line can be stamped; anything wrong with the stamp's set-up (no Liberation
    Sans, a footer the measurement does not recognise) renders live instead of failing."""
    try:
        footer_geometry()
        return pdf_stamp.can_stamp(line)
    except pdf_stamp.CannotStamp as reason:
        logger.warning("Appendix 2 PDFs render live: %s", reason)
        return False


def store(difference: ProfessionalDifference, key: str, base: bytes, pages: int) -> bool:
    """Keep ``base`` as the case's render (replacing any other), unless the case was
    anonymised after ``difference`` was read: then the render holds what anonymising removed,
    and is dropped. Two writers at once do not fail: the last one's row stays."""
    from escalations.models import ProfessionalDifference

    with transaction.atomic():
        # The case's row lock orders this against anonymisation (which holds it too).
        current = (
            ProfessionalDifference.objects.select_for_update()
            .filter(pk=difference.pk)
            .values_list("anonymised_at", flat=True)
            .first()
        )
        if current != difference.anonymised_at:
            return False
        RecordRender.objects.bulk_create(
            [RecordRender(difference_id=difference.pk, key=key, pdf=base, pages=pages)],
            update_conflicts=True,
            unique_fields=["difference"],
            update_fields=["key", "pdf", "pages", "rendered_at"],
        )
    return True


def forget(difference_id: int) -> None:
    """Delete the case's stored render (anonymisation; inside the caller's transaction)."""
    RecordRender.objects.filter(difference_id=difference_id).delete()


def case_record_pdf(
    difference: ProfessionalDifference,
    *,
    generated_by: str,
    generated_at: datetime,
    seconds: float | None = None,
    fetcher: Any = None,
) -> RecordPdf:
    """The case's Appendix 2 record as a download sends it. ``difference`` must come from
    ``escalations.selectors.difference_get_for`` (this does no permission check).
    ``pdf.RenderTimeout`` when a render (cold or live) runs out of time; ``fetcher`` (tests)
    is the URL fetcher of a render, if one happens."""
    started = time.perf_counter()
    record = appendix2.record_for(difference)
    line = pdf.footer_line(record, generated_by, generated_at)
    if not _stampable(line):
        return _live(record, line, seconds, started, fetcher)
    html = record_html(record)
    key = render_key(html)
    base = (
        RecordRender.objects.filter(difference_id=difference.pk, key=key)
        .values_list("pdf", flat=True)
        .first()
    )
    source = "stored"
    if base is None:
        base, pages = _render_base(html, seconds, fetcher)
        store(difference, key, base, pages)
        source = "rendered"
    try:
        stamped = pdf_stamp.stamp(bytes(base), line, footer_geometry())
    except pdf_stamp.CannotStamp as reason:
        logger.warning("Appendix 2 PDF of case %s rendered live: %s", difference.pk, reason)
        return _live(record, line, seconds, started, fetcher)
    return RecordPdf(stamped, record, source, time.perf_counter() - started)


def blank_record_pdf(
    partnership: Partnership | None,
    *,
    generated_by: str,
    generated_at: datetime,
    seconds: float | None = None,
) -> RecordPdf:
    """The blank form as a download sends it: rendered once (Django's cache, keyed by its
    HTML, which carries the partnership's name), stamped per download."""
    started = time.perf_counter()
    record = appendix2.blank_record(partnership)
    line = pdf.footer_line(record, generated_by, generated_at)
    if not _stampable(line):
        return _live(record, line, seconds, started)
    html = record_html(record)
    cache_key = f"record-pdf:blank:{render_key(html)}"
    base = cache.get(cache_key)
    source = "stored"
    if base is None:
        base, _ = _render_base(html, seconds)
        cache.set(cache_key, base, BLANK_CACHE_SECONDS)
        source = "rendered"
    try:
        stamped = pdf_stamp.stamp(base, line, footer_geometry())
    except pdf_stamp.CannotStamp as reason:
        logger.warning("The blank Appendix 2 PDF rendered live: %s", reason)
        return _live(record, line, seconds, started)
    return RecordPdf(stamped, record, source, time.perf_counter() - started)


# -- the background render ------------------------------------------------------------------


def prerender(difference_id: int, *, seconds: float | None = None) -> bool:
    """Render and store the case's record unless the stored render is already of its current
    content; True when it rendered. Idempotent (the Celery task calls it)."""
    from escalations.models import ProfessionalDifference

    difference = (
        ProfessionalDifference.objects.select_related("partnership", "category")
        .filter(pk=difference_id)
        .first()
    )
    if difference is None:
        return False
    html = record_html(appendix2.record_for(difference))
    key = render_key(html)
    if RecordRender.objects.filter(difference_id=difference_id, key=key).exists():
        return False
    base, pages = _render_base(html, seconds)
    return store(difference, key, base, pages)
