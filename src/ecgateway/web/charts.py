"""Charts drawn by the gateway as SVG (no script, no charting library): bars and stacked columns.

Each chart is an image (role="img") named by its title; its numbers are in the table the page
puts beside it, which is what screen readers and keyboard users read. Colours come from one
palette with at least 4.5:1 contrast against white, and every bar also carries its value as text
(not colour alone). Presentation attributes only: the content security policy allows no inline style.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

# Okabe-Ito-like hues darkened for contrast on white (each >= 4.5:1)
PALETTE = ("#0b5cad", "#a4400a", "#1b6b3a", "#7a2e8c", "#8a6d00", "#00707a", "#a3164f", "#4b4b4b")
_W, _LABEL, _BAR_H, _GAP = 640, 170, 22, 8


def hbar(chart_id: str, title: str, rows: Sequence[tuple[str, float, str]]) -> Markup:
    """Horizontal bars: rows of (label, value, value as written)."""
    height = max(1, len(rows)) * (_BAR_H + _GAP) + 34
    top = max((v for _, v, _ in rows), default=0) or 1
    width = _W - _LABEL - 190  # room for the value written after the longest bar
    parts = [_open(chart_id, title, _W, height)]
    if not rows:
        parts.append(f'<text x="10" y="50" font-size="14" fill="#444">{escape("No figures in this period")}</text>')
    for i, (label, value, shown) in enumerate(rows):
        y = 30 + i * (_BAR_H + _GAP)
        length = max(1.0, width * value / top) if value else 0
        parts.append(f'<text x="{_LABEL - 8}" y="{y + 16}" text-anchor="end" font-size="13" fill="#111">'
                     f'{escape(_short(label))}</text>')
        parts.append(f'<rect x="{_LABEL}" y="{y}" width="{length:.1f}" height="{_BAR_H}" fill="{PALETTE[0]}"/>')
        parts.append(f'<text x="{_LABEL + length + 6:.1f}" y="{y + 16}" font-size="13" fill="#111">{escape(shown)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def stacked_columns(chart_id: str, title: str, columns: Sequence[tuple[str, Sequence[int]]],
                    series: Sequence[str]) -> Markup:
    """Columns of stacked parts: columns of (label, one value per series), with a legend."""
    legend_rows = (len(series) + 3) // 4
    height, base = 260 + legend_rows * 20, 220
    left, plot_w = 40, _W - 60
    top = max((sum(vals) for _, vals in columns), default=0) or 1
    step = plot_w / max(1, len(columns))
    bar_w = max(2.0, min(28.0, step * 0.7))
    parts = [_open(chart_id, title, _W, height)]
    parts.append(f'<line x1="{left}" y1="{base}" x2="{left + plot_w}" y2="{base}" stroke="#444"/>')
    parts.append(f'<text x="{left - 6}" y="{base - 150 + 4}" text-anchor="end" font-size="11" fill="#444">{top}</text>')
    parts.append(f'<line x1="{left}" y1="{base - 150}" x2="{left + plot_w}" y2="{base - 150}" stroke="#c8c8c8"/>')
    label_every = max(1, len(columns) // 10)
    for i, (label, values) in enumerate(columns):
        x = left + i * step + (step - bar_w) / 2
        y = base
        for k, v in enumerate(values):
            if not v:
                continue
            h = 150 * v / top
            y -= h
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                         f'fill="{PALETTE[k % len(PALETTE)]}" stroke="#fff" stroke-width="0.5"/>')
        total = sum(values)
        if total:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle" font-size="10" '
                         f'fill="#111">{total}</text>')
        if i % label_every == 0:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{base + 14}" text-anchor="middle" font-size="10" '
                         f'fill="#111">{escape(label)}</text>')
    for k, name in enumerate(series):
        lx, ly = left + (k % 4) * 150, base + 34 + (k // 4) * 20
        parts.append(f'<rect x="{lx}" y="{ly - 10}" width="12" height="12" fill="{PALETTE[k % len(PALETTE)]}"/>')
        parts.append(f'<text x="{lx + 16}" y="{ly}" font-size="12" fill="#111">{escape(_short(name))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _open(chart_id: str, title: str, width: int, height: int) -> str:
    return (f'<svg id="{escape(chart_id)}" role="img" aria-labelledby="{escape(chart_id)}-title" '
            f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
            f'xmlns="http://www.w3.org/2000/svg"><title id="{escape(chart_id)}-title">{escape(title)}</title>')


def _short(label: str, n: int = 22) -> str:
    return label if len(label) <= n else label[: n - 1] + "…"
