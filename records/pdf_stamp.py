"""Stamping the "Generated … by …" footer line onto a stored PDF (ADR 0010).

A record's PDF is rendered once per content version with the footer's generated line left
empty (``records.record_pdf``); each download adds the line here, with pypdf, as an
incremental update of the stored bytes (nothing the render wrote is rewritten):

- **Where and how it is drawn** is measured from a live WeasyPrint layout of our own
  stylesheet (``footer_geometry``: the ``@bottom-center`` margin box's position and width, the
  first line's baseline, the line pitch, the font size and colour, the alignment), once per
  process and again when the stylesheet changes. So the stamped line sits where the live
  render puts it, and a change to ``pdf.css`` moves both. A line too wide for the box wraps at
  spaces, line by line, as the live render wraps it.
- **The font** is Liberation Sans Regular (the footer's font), subset to the characters of
  Windows-1252 once per process and embedded as a simple TrueType font with
  ``WinAnsiEncoding``, its ``/Widths`` from the font's own advances, a ``FontDescriptor`` and a
  ``ToUnicode`` map, so the text is extractable and PDF/UA's embedded-font rules hold. A line
  that Windows-1252 cannot encode (a name in another script) is not stamped:
  ``can_stamp`` says so and the caller renders the whole PDF live instead.
- **Tagging.** The line is a pagination artifact (``/Artifact <</Type /Pagination /Subtype
  /Footer>> BDC … EMC``), as PDF/UA wants running footers; the structure tree, ``MarkInfo``,
  the XMP metadata and the PDF/UA identification of the render are kept as they are.
- **Pages are not disturbed.** Each page's existing content is wrapped in ``q … Q`` (WeasyPrint
  leaves its y-flip on the graphics state) and the stamp follows it; the font is added under a
  name no render uses to the page's font dictionary (shared by WeasyPrint's pages, so every
  page gains the same entry), never replacing an existing name.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import zlib
from dataclasses import dataclass
from io import BytesIO
from itertools import pairwise
from pathlib import Path
from typing import Any, cast

from pypdf import PdfReader
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    StreamObject,
    read_object,
)

# Where Debian's fonts-liberation2 (and the older fonts-liberation) put the regular face.
FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf"),
    Path("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"),
)
FONT_FAMILY = "Liberation Sans"
# The font's resource name on every page: WeasyPrint names its fonts with six capitals.
FONT_RESOURCE = "/RPDGeneratedLineFont"
# A subset's PostScript name starts with a six-capital tag (ISO 32000-1, 9.6.4).
SUBSET_TAG = "RPDGEN"
ENCODING = "cp1252"
FIRST_CODE, LAST_CODE = 32, 255

# WeasyPrint lays pages out in CSS pixels: 1 px = 0.75 pt.
PX = 0.75


class CannotStamp(Exception):
    """The line cannot be stamped faithfully (the caller renders live instead)."""


# -- the font -------------------------------------------------------------------------------


@dataclass(frozen=True)
class StampFont:
    """Liberation Sans Regular subset to Windows-1252, ready to embed."""

    program: bytes  # the subset TrueType font
    units_per_em: int
    advances: dict[str, int]  # character → advance width in font units
    kerning: dict[tuple[str, str], int]  # character pair → adjustment in font units
    widths: tuple[float, ...]  # /Widths for FIRST_CODE..LAST_CODE, in 1/1000 em
    bbox: tuple[float, float, float, float]
    ascent: float
    descent: float
    cap_height: float
    source: Path
    compressed_program: bytes = b""
    to_unicode: bytes = b""

    def width(self, text: str, size: float) -> float:
        """The advance of ``text`` at ``size``, kerned as the live render kerns it."""
        units = sum(self.advances.get(char, 0) for char in text)
        units += sum(self.kerning.get(pair, 0) for pair in pairwise(text))
        return units * size / self.units_per_em


def _cp1252_characters() -> dict[int, str]:
    found = {}
    for code in range(FIRST_CODE, LAST_CODE + 1):
        try:
            found[code] = bytes([code]).decode(ENCODING)
        except UnicodeDecodeError:  # 0x81, 0x8D, 0x8F, 0x90, 0x9D: not assigned
            continue
    return found


CP1252 = _cp1252_characters()


def font_path() -> Path:
    for candidate in FONT_CANDIDATES:
        if candidate.is_file():
            return candidate
    raise CannotStamp("Liberation Sans Regular is not installed (fonts-liberation2)")


def _build_font() -> StampFont:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    # The subsetter reports every table it prunes at INFO.
    logging.getLogger("fontTools").setLevel(logging.WARNING)

    path = font_path()
    font = TTFont(str(path))
    units = font["head"].unitsPerEm
    cmap = font.getBestCmap()
    metrics = font["hmtx"]
    missing = metrics[".notdef"][0] if ".notdef" in metrics.metrics else 0
    advances = {char: metrics[cmap[ord(char)]][0] for char in CP1252.values() if ord(char) in cmap}
    widths = tuple(
        round(advances.get(CP1252.get(code, ""), missing) * 1000 / units, 3)
        if code in CP1252
        else 0.0
        for code in range(FIRST_CODE, LAST_CODE + 1)
    )
    # Pango (HarfBuzz) kerns with the GPOS 'kern' feature; for Liberation Sans its pairs
    # among these characters are exactly the legacy 'kern' table's, which is simpler to read.
    glyph_chars = {cmap[ord(char)]: char for char in advances}
    kerning: dict[tuple[str, str], int] = {}
    if "kern" in font:
        for table in font["kern"].kernTables:
            for (left, right), value in getattr(table, "kernTable", {}).items():
                if value and left in glyph_chars and right in glyph_chars:
                    kerning.setdefault((glyph_chars[left], glyph_chars[right]), value)
    head, hhea, os2 = font["head"], font["hhea"], font["OS/2"]
    scale = 1000 / units
    options = subset.Options()
    options.layout_features = []
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "kern", "FFTM"]
    options.notdef_outline = True
    options.glyph_names = True
    options.hinting = False
    options.recalc_bounds = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[ord(char) for char in advances])
    subsetter.subset(font)
    out = BytesIO()
    font.save(out)
    return StampFont(
        program=out.getvalue(),
        units_per_em=units,
        advances=advances,
        kerning=kerning,
        widths=widths,
        bbox=(head.xMin * scale, head.yMin * scale, head.xMax * scale, head.yMax * scale),
        ascent=hhea.ascent * scale,
        descent=hhea.descent * scale,
        cap_height=getattr(os2, "sCapHeight", 0) * scale or 700.0,
        source=path,
        compressed_program=zlib.compress(out.getvalue()),
        to_unicode=_to_unicode_cmap(),
    )


_font: StampFont | None = None
_font_lock = threading.Lock()


def stamp_font() -> StampFont:
    """The subset font, built once per process (about 50 ms)."""
    global _font
    if _font is None:
        with _font_lock:
            if _font is None:
                _font = _build_font()
    return _font


def can_stamp(line: str) -> bool:
    """Whether ``line`` can be drawn with the embedded font (Windows-1252, every glyph there)."""
    try:
        line.encode(ENCODING)
    except UnicodeEncodeError:
        return False
    advances = stamp_font().advances
    return all(char in advances for char in line)


# -- where the footer line goes -------------------------------------------------------------


@dataclass(frozen=True)
class FooterGeometry:
    """The ``@bottom-center`` box as WeasyPrint lays it out, in CSS px from the page's top
    left (the units of WeasyPrint's own content streams)."""

    box_x: float
    box_width: float
    first_baseline: float
    line_pitch: float
    font_size: float
    color: tuple[float, float, float]
    align: str  # "left", "center" or "right"


def _text_boxes(box: Any) -> list[Any]:
    found = []
    for child in getattr(box, "children", ()):
        if getattr(child, "text", None) is not None:
            found.append(child)
        found.extend(_text_boxes(child))
    return found


def measure_footer(render_layout: Any) -> FooterGeometry:
    """Read the footer line's geometry from a WeasyPrint document laid out with a generated
    line long enough to wrap (``render_layout`` is a ``weasyprint.Document``)."""
    page = render_layout.pages[0]._page_box
    centre = next(
        (box for box in page.children if getattr(box, "at_keyword", "") == "@bottom-center"),
        None,
    )
    if centre is None:
        raise CannotStamp("the stylesheet has no @bottom-center box")
    lines = [line for line in centre.children if _text_boxes(line)]
    if len(lines) < 2:
        raise CannotStamp("the measuring line did not wrap")
    style = _text_boxes(lines[0])[0].style
    if (
        style["font_weight"] != 400
        or style["font_style"] != "normal"
        or FONT_FAMILY not in style["font_family"][0]
    ):
        raise CannotStamp("the footer line is not set in Liberation Sans Regular")
    red, green, blue, alpha = style["color"]
    if alpha != 1:
        raise CannotStamp("the footer line is not opaque")
    align = str(style["text_align_all"])
    if align not in ("left", "center", "right", "start", "end"):
        raise CannotStamp(f"the footer line is aligned {align}")
    align = {"start": "left", "end": "right"}.get(align, align)
    return FooterGeometry(
        box_x=centre.content_box_x(),
        box_width=centre.width,
        first_baseline=lines[0].position_y + lines[0].baseline,
        line_pitch=lines[1].position_y - lines[0].position_y,
        font_size=style["font_size"],
        color=(red, green, blue),
        align=align,
    )


def wrap(text: str, font: StampFont, size: float, width: float) -> list[str]:
    """``text`` in lines no wider than ``width``, broken at spaces (as Pango breaks this
    footer: a single word wider than the box stays whole and overflows)."""
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if current and font.width(candidate, size) > width + 0.01:
            lines.append(current)
            current = word
        else:
            current = candidate
    lines.append(current)
    return [line for line in lines if line]


# -- stamping -------------------------------------------------------------------------------


def _hex(text: str) -> bytes:
    return b"<" + text.encode(ENCODING).hex().upper().encode() + b">"


def _shown(text: str, font: StampFont) -> bytes:
    """A TJ array drawing ``text`` with the font's kerning."""
    parts: list[bytes] = []
    run = ""
    for index, char in enumerate(text):
        run += char
        following = text[index + 1] if index + 1 < len(text) else None
        adjust = font.kerning.get((char, following), 0) if following else 0
        if adjust:
            parts.append(_hex(run))
            parts.append(_number(-adjust * 1000 / font.units_per_em))
            run = ""
    if run:
        parts.append(_hex(run))
    return b"[" + b" ".join(parts) + b"] TJ"


def _number(value: float) -> bytes:
    return f"{value:.6f}".rstrip("0").rstrip(".").encode()


def stamp_operators(
    line: str, geometry: FooterGeometry, page_height_pt: float, font_name: str
) -> bytes:
    """The content stream that draws ``line`` (already checked with ``can_stamp``)."""
    font = stamp_font()
    size_pt = geometry.font_size * PX
    red, green, blue = geometry.color
    ops = [
        b"q",
        b"/Artifact <</Type /Pagination /Subtype /Footer>> BDC",
        b"BT",
        f"{font_name} ".encode() + _number(size_pt) + b" Tf",
        b" ".join(_number(channel) for channel in (red, green, blue)) + b" rg",
    ]
    for index, text in enumerate(wrap(line, font, geometry.font_size, geometry.box_width)):
        advance = font.width(text, geometry.font_size)
        x = geometry.box_x
        if geometry.align == "center":
            x += (geometry.box_width - advance) / 2
        elif geometry.align == "right":
            x += geometry.box_width - advance
        baseline = geometry.first_baseline + index * geometry.line_pitch
        ops.append(
            b"1 0 0 1 "
            + _number(x * PX)
            + b" "
            + _number(page_height_pt - baseline * PX)
            + b" Tm "
            + _shown(text, font)
        )
    ops += [b"ET", b"EMC", b"Q"]
    return b"\n".join(ops) + b"\n"


class _Objects:
    """Reads single objects of a PDF. pypdf, asked for one object of an object stream, parses
    every object in it (WeasyPrint puts the whole structure tree with the pages, thousands of
    objects for a long record); this parses only the ones asked for."""

    def __init__(self, reader: PdfReader) -> None:
        self.reader = reader
        self.streams: dict[int, tuple[bytes, int, dict[int, int]]] = {}

    def get(self, reference: IndirectObject) -> Any:
        located = self.reader.xref_objStm.get(reference.idnum)
        if located is None:
            return self.reader.get_object(reference)
        data, first, offsets = self._stream(int(located[0]))
        if reference.idnum not in offsets:
            raise CannotStamp("an object missing from its object stream")
        buffer = BytesIO(data)
        buffer.seek(first + offsets[reference.idnum])
        return read_object(buffer, self.reader)

    def resolve(self, value: Any) -> Any:
        return self.get(value) if isinstance(value, IndirectObject) else value

    def _stream(self, number: int) -> tuple[bytes, int, dict[int, int]]:
        if number not in self.streams:
            stream = self.reader.get_object(number)
            if not isinstance(stream, StreamObject):
                raise CannotStamp("an object stream that is not a stream")
            data = stream.get_data()
            first, count = int(cast(Any, stream["/First"])), int(cast(Any, stream["/N"]))
            header = data[:first].split()
            if len(header) < 2 * count:
                raise CannotStamp("a malformed object stream")
            offsets = {int(header[2 * n]): int(header[2 * n + 1]) for n in range(count)}
            self.streams[number] = (data, first, offsets)
        return self.streams[number]

    def pages(self) -> list[tuple[IndirectObject, DictionaryObject, float]]:
        """Every page in order: its reference, its dictionary and its height (MediaBox top,
        inherited from the page tree when the page has none)."""
        root = self.resolve(self.reader.trailer.raw_get("/Root"))
        found: list[tuple[IndirectObject, DictionaryObject, float]] = []

        def walk(reference: Any, inherited: Any, depth: int) -> None:
            if depth > 64 or not isinstance(reference, IndirectObject):
                raise CannotStamp("a malformed page tree")
            node = self.get(reference)
            box = node.get("/MediaBox", inherited)
            if node.get("/Type") == "/Page":
                if box is None:
                    raise CannotStamp("a page without a MediaBox")
                found.append((reference, node, float(self.resolve(box)[3])))
                return
            for kid in self.resolve(node["/Kids"]):
                walk(kid, box, depth + 1)

        walk(root.raw_get("/Pages"), None, 0)
        return found


class _Update:
    """An incremental update of a PDF (ISO 32000-1, 7.5.6): the original bytes untouched, then
    new versions of the objects that change, new objects, and a cross-reference stream
    pointing back to the original's. Writing only these keeps a stamp cheap however long the
    document (pypdf's own incremental writer reads every object first)."""

    def __init__(self, original: bytes, reader: PdfReader) -> None:
        self.original = original
        self.reader = reader
        self.objects = _Objects(reader)
        self.next_number = int(cast(Any, reader.trailer["/Size"]))
        self.bodies: dict[tuple[int, int], bytes] = {}
        self.changed: dict[int, tuple[int, DictionaryObject]] = {}

    def add(self, body: bytes) -> IndirectObject:
        number = self.next_number
        self.next_number += 1
        self.bodies[(number, 0)] = body
        return IndirectObject(number, 0, self.reader)

    def add_stream(self, data: bytes, entries: bytes = b"") -> IndirectObject:
        return self.add(
            b"<</Length %d%s>>\nstream\n" % (len(data), entries) + data + b"\nendstream"
        )

    def editable(self, reference: IndirectObject) -> DictionaryObject:
        """A copy of the dictionary at ``reference`` that will be written as its new version
        (the same copy every time: pages sharing it see each other's changes)."""
        if reference.idnum not in self.changed:
            original = self.objects.get(reference)
            if not isinstance(original, DictionaryObject):
                raise CannotStamp("a page refers to something that is not a dictionary")
            self.changed[reference.idnum] = (reference.generation, DictionaryObject(original))
        return self.changed[reference.idnum][1]

    def write(self) -> bytes:
        for number, (generation, dictionary) in self.changed.items():
            self.bodies[(number, generation)] = _serialise(dictionary)
        out = bytearray(self.original)
        if not out.endswith(b"\n"):
            out += b"\n"
        offsets: dict[int, tuple[int, int]] = {}
        for (number, generation), body in sorted(self.bodies.items()):
            offsets[number] = (len(out), generation)
            out += b"%d %d obj\n" % (number, generation) + body + b"\nendobj\n"
        xref_number = self.next_number
        offsets[xref_number] = (len(out), 0)
        numbers = sorted(offsets)
        index: list[int] = []
        for number in numbers:
            if index and index[-2] + index[-1] == number:
                index[-1] += 1
            else:
                index += [number, 1]
        rows = b"".join(
            b"\x01" + offsets[n][0].to_bytes(4, "big") + offsets[n][1].to_bytes(2, "big")
            for n in numbers
        )
        trailer = self.reader.trailer
        entries = [
            b"/Type /XRef",
            b"/Size %d" % (xref_number + 1),
            b"/Index [" + b" ".join(b"%d" % value for value in index) + b"]",
            b"/W [1 4 2]",
            b"/Prev %d" % _startxref(self.original),
            b"/Root " + _serialise(trailer.raw_get("/Root")),
        ]
        if "/Info" in trailer:
            entries.append(b"/Info " + _serialise(trailer.raw_get("/Info")))
        if "/ID" in trailer:
            first = cast(Any, trailer["/ID"])[0]
            second = hashlib.md5(bytes(out), usedforsecurity=False).hexdigest().encode()
            entries.append(b"/ID [" + _serialise(first) + b" <" + second + b">]")
        entries.append(b"/Length %d" % len(rows))
        out += b"%d 0 obj\n<<" % xref_number + b"\n".join(entries) + b">>\nstream\n"
        out += rows + b"\nendstream\nendobj\n"
        out += b"startxref\n%d\n%%%%EOF\n" % offsets[xref_number][0]
        return bytes(out)


def _serialise(value: Any) -> bytes:
    buffer = BytesIO()
    value.write_to_stream(buffer)
    return buffer.getvalue()


def _startxref(pdf: bytes) -> int:
    found = pdf.rfind(b"startxref")
    if found < 0:
        raise CannotStamp("no startxref")
    return int(pdf[found + len(b"startxref") :].split()[0])


def _font_objects(update: _Update) -> IndirectObject:
    """The stamp font's PDF objects, added to ``update``."""
    font = stamp_font()
    program = update.add_stream(
        font.compressed_program, b"/Filter /FlateDecode /Length1 %d" % len(font.program)
    )
    base_font = f"/{SUBSET_TAG}+LiberationSans".encode()
    bbox = b" ".join(_number(value) for value in font.bbox)
    descriptor = update.add(
        b"<</Type /FontDescriptor /FontName " + base_font + b" /Flags 32"  # nonsymbolic
        b" /FontBBox [" + bbox + b"] /ItalicAngle 0"
        b" /Ascent "
        + _number(font.ascent)
        + b" /Descent "
        + _number(font.descent)
        + b" /CapHeight "
        + _number(font.cap_height)
        + b" /StemV 80"
        b" /FontFile2 " + _serialise(program) + b">>"
    )
    to_unicode = update.add_stream(font.to_unicode)
    widths = b" ".join(_number(width) for width in font.widths)
    return update.add(
        b"<</Type /Font /Subtype /TrueType /BaseFont "
        + base_font
        + b" /FirstChar %d /LastChar %d" % (FIRST_CODE, LAST_CODE)
        + b" /Widths ["
        + widths
        + b"] /Encoding /WinAnsiEncoding"
        + b" /FontDescriptor "
        + _serialise(descriptor)
        + b" /ToUnicode "
        + _serialise(to_unicode)
        + b">>"
    )


def _to_unicode_cmap() -> bytes:
    pairs = "\n".join(f"<{code:02X}> <{ord(char):04X}>" for code, char in sorted(CP1252.items()))
    return (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<00> <FF>\nendcodespacerange\n"
        f"{len(CP1252)} beginbfchar\n{pairs}\nendbfchar\n"
        "endcmap\nCMapName currentdict /CMapResource defineresource pop\nend\nend\n"
    ).encode()


def page_count(pdf: bytes) -> int:
    """The number of pages, from the page tree's root (without parsing the structure tree,
    as ``len(PdfReader(...).pages)`` would)."""
    objects = _Objects(PdfReader(BytesIO(pdf)))
    root = objects.resolve(objects.reader.trailer.raw_get("/Root"))
    return int(objects.resolve(objects.resolve(root.raw_get("/Pages"))["/Count"]))


def _free_name(fonts: DictionaryObject) -> str:
    name, suffix = FONT_RESOURCE, 1
    while name in fonts:
        suffix += 1
        name = f"{FONT_RESOURCE}{suffix}"
    return name


def _fonts_of(update: _Update, page: DictionaryObject) -> DictionaryObject:
    """The font dictionary of ``page`` (a copy of the page), as a copy that will be written:
    the shared one when the page shares it, its own otherwise."""
    resources = page.raw_get("/Resources")
    if resources is None:
        raise CannotStamp("a page without its own resources")
    if isinstance(resources, IndirectObject):
        shared = update.objects.get(resources)
        fonts = shared.raw_get("/Font") if isinstance(shared, DictionaryObject) else None
        if isinstance(fonts, IndirectObject):
            return update.editable(fonts)
        resources = update.editable(resources)
    else:
        resources = DictionaryObject(resources)
        page[NameObject("/Resources")] = resources
    fonts = resources.raw_get("/Font")
    if isinstance(fonts, IndirectObject):
        return update.editable(fonts)
    copy = DictionaryObject(fonts) if isinstance(fonts, DictionaryObject) else DictionaryObject()
    resources[NameObject("/Font")] = copy
    return copy


def stamp(pdf: bytes, line: str, geometry: FooterGeometry) -> bytes:
    """``pdf`` with ``line`` drawn as every page's generated footer line, as an incremental
    update (the original bytes come first, unchanged)."""
    if not can_stamp(line):
        raise CannotStamp("the line is not in Windows-1252")
    reader = PdfReader(BytesIO(pdf))
    if "/Encrypt" in reader.trailer:
        raise CannotStamp("an encrypted PDF")
    update = _Update(pdf, reader)
    font_ref = _font_objects(update)
    opening = update.add_stream(b"q\n")
    stamps: dict[tuple[float, str], IndirectObject] = {}
    for reference, _, height in update.objects.pages():
        copy = update.editable(reference)
        fonts = _fonts_of(update, copy)
        # A shared font dictionary gets the entry once; no existing name is ever replaced.
        name = next(
            (key for key, value in fonts.items() if value == font_ref),
            None,
        )
        if name is None:
            name = _free_name(fonts)
            fonts[NameObject(name)] = font_ref
        if (height, name) not in stamps:
            stamps[(height, name)] = update.add_stream(
                b"\nQ\n" + stamp_operators(line, geometry, height, name)
            )
        contents = copy.raw_get("/Contents")
        existing = update.objects.resolve(contents)
        if isinstance(existing, ArrayObject):
            parts = list(existing)
        elif contents is not None:
            parts = [contents]
        else:
            parts = []
        copy[NameObject("/Contents")] = ArrayObject([opening, *parts, stamps[(height, name)]])
    return update.write()
