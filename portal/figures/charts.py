"""Server-rendered SVG bar charts: readable without JavaScript, with a text alternative; the page puts the
same numbers in a table beside each chart."""
from __future__ import annotations

from markupsafe import Markup, escape

BAR = 22
GAP = 6
LABEL_W = 190
CHART_W = 520


def bar_chart(title: str, rows: list[tuple[str, float | None]], *, unit: str = "", percent: bool = False) -> Markup:
    """Horizontal bars, one per row; a value ``None`` (suppressed or unknown) is drawn as no bar with "–"."""
    values = [v for _, v in rows if v is not None]
    top = max(values) if values else 0
    height = max(1, len(rows)) * (BAR + GAP) + GAP
    width = CHART_W - LABEL_W - 70
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {CHART_W} {height}" '
             f'width="100%" preserveAspectRatio="xMinYMin meet" aria-label="{escape(title)}">',
             f"<title>{escape(title)}</title>"]
    for i, (label, value) in enumerate(rows):
        y = GAP + i * (BAR + GAP)
        length = 0 if not value or not top else max(1, round(width * value / top))
        shown = "–" if value is None else (f"{value * 100:.0f}%" if percent else f"{value:g}{unit}")
        parts.append(f'<text x="{LABEL_W - 8}" y="{y + BAR * 0.7:.1f}" text-anchor="end" class="chart-label">'
                     f"{escape(str(label)[:28])}</text>")
        parts.append(f'<rect x="{LABEL_W}" y="{y}" width="{length}" height="{BAR}" class="chart-bar"/>')
        parts.append(f'<text x="{LABEL_W + length + 6}" y="{y + BAR * 0.7:.1f}" class="chart-value">'
                     f"{escape(shown)}</text>")
    parts.append("</svg>")
    return Markup("".join(parts))
