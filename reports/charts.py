"""Charts as hand-written SVG, the same markup in the page and in the PDF.

Each chart is ``role="img"`` labelled by its own ``<title>`` and ``<desc>``, shows every value
as ``<text>`` (so the numbers survive in the PDF's text and for anyone zooming), and sits next
to its data table, which is what screen readers use. Labels are escaped; nothing is fetched.
A value withheld for circulation ("fewer than 5") draws no bar and says so in words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

FONT = "Arial, 'Liberation Sans', Helvetica, sans-serif"
TEXT = "#0b0c0c"
AXIS = "#505a5f"
BLUE = "#1d70b8"
DARK_BLUE = "#003078"
WIDTH = 640


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # the value as shown ("12", "fewer than 5", "3.5")
    drawn: bool = True  # False when the value is withheld


def _open(key: str, title: str, description: str, height: int) -> list[str]:
    ids = f"chart-{key}-title chart-{key}-desc"
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="app-chart" role="img" '
        f'aria-labelledby="{ids}" width="100%" viewBox="0 0 {WIDTH} {height}" '
        f'font-family="{escape(FONT)}" font-size="14">',
        f'<title id="chart-{key}-title">{escape(title)}</title>',
        f'<desc id="chart-{key}-desc">{escape(description)}</desc>',
    ]


def _describe(bars: Sequence[Bar]) -> str:
    return "; ".join(f"{bar.label}: {bar.text}" for bar in bars) + "."


def bar_chart(key: str, title: str, bars: Sequence[Bar], *, colour: str = BLUE) -> str:
    """Horizontal bars, one per label, with the value written at the end of each bar."""
    label_width, value_room, row, top = 230, 110, 30, 8
    area = WIDTH - label_width - value_room
    height = top + row * max(len(bars), 1) + 8
    largest = max((bar.value for bar in bars if bar.drawn), default=0) or 1
    parts = _open(key, title, _describe(bars), height)
    parts.append(
        f'<line x1="{label_width}" y1="{top - 4}" x2="{label_width}" '
        f'y2="{height - 4}" stroke="{AXIS}" stroke-width="1"/>'
    )
    for index, bar in enumerate(bars):
        y = top + index * row
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 19}" text-anchor="end" fill="{TEXT}">'
            f"{escape(_short(bar.label, 30))}</text>"
        )
        length = round(area * bar.value / largest, 1) if bar.drawn else 0
        if length > 0:
            parts.append(
                f'<rect x="{label_width}" y="{y + 5}" width="{length}" height="{row - 10}" '
                f'fill="{colour}"/>'
            )
        parts.append(
            f'<text x="{label_width + length + 6}" y="{y + 19}" fill="{TEXT}">'
            f"{escape(bar.text)}</text>"
        )
    parts.append("</svg>")
    return "\n".join(parts)


def grouped_column_chart(
    key: str,
    title: str,
    groups: Sequence[str],
    series: Sequence[tuple[str, Sequence[Bar]]],
) -> str:
    """Vertical columns per group (e.g. month), one column per series, with a legend."""
    colours = (BLUE, DARK_BLUE, AXIS)
    left, right, top, bottom, legend = 10, 10, 34, 40, 26
    plot_height = 200
    height = legend + top + plot_height + bottom
    area = WIDTH - left - right
    group_width = area / max(len(groups), 1)
    column = min(28.0, (group_width - 6) / max(len(series), 1))
    largest = max((bar.value for _, bars in series for bar in bars if bar.drawn), default=0) or 1
    description = " ".join(
        f"{name}: "
        + ", ".join(f"{group} {bar.text}" for group, bar in zip(groups, bars, strict=True))
        + "."
        for name, bars in series
    )
    parts = _open(key, title, description, height)
    # Legend.
    x = left
    for index, (name, _bars) in enumerate(series):
        parts.append(
            f'<rect x="{x}" y="6" width="14" height="14" fill="{colours[index % len(colours)]}"/>'
        )
        parts.append(f'<text x="{x + 20}" y="18" fill="{TEXT}">{escape(name)}</text>')
        x += 30 + 8 * len(name)
    base = legend + top + plot_height
    parts.append(
        f'<line x1="{left}" y1="{base}" x2="{WIDTH - right}" y2="{base}" '
        f'stroke="{AXIS}" stroke-width="1"/>'
    )
    small = len(groups) > 12
    for g_index, group in enumerate(groups):
        gx = left + g_index * group_width + (group_width - column * len(series)) / 2
        for s_index, (_name, bars) in enumerate(series):
            bar = bars[g_index]
            cx = gx + s_index * column
            h = round(plot_height * bar.value / largest, 1) if bar.drawn else 0
            if h > 0:
                parts.append(
                    f'<rect x="{cx:.1f}" y="{base - h:.1f}" width="{column - 2:.1f}" '
                    f'height="{h}" fill="{colours[s_index % len(colours)]}"/>'
                )
            value = bar.text if bar.drawn else "<5"
            parts.append(
                f'<text x="{cx + (column - 2) / 2:.1f}" y="{base - h - 4:.1f}" '
                f'text-anchor="middle" font-size="{10 if small else 12}" fill="{TEXT}">'
                f"{escape(value)}</text>"
            )
        parts.append(
            f'<text x="{left + g_index * group_width + group_width / 2:.1f}" y="{base + 18}" '
            f'text-anchor="middle" font-size="{10 if small else 12}" fill="{TEXT}">'
            f"{escape(group)}</text>"
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _short(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"
