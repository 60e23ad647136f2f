"""Small server-side SVG charts (stacked bars and lines): no JavaScript, no chart library, nothing fetched.

Every label goes through ``markupsafe.escape`` (site slugs and model versions
are data, not markup). The output is served as ``image/svg+xml`` and shown
with ``<img>``, so even a malformed label could never run script.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import escape

PALETTE = ("#2b6cb0", "#c53030", "#d69e2e", "#2f855a", "#6b46c1", "#718096", "#dd6b20", "#319795")
WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 190, 24, 40


def _nice_max(value: float) -> float:
    """A round upper bound for the y axis."""
    if value <= 0:
        return 1.0
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000):
        if value <= step:
            return float(step)
    return float(value)


def _frame(title: str, y_max: float, labels: Sequence[str], percent: bool) -> list[str]:
    """The SVG header, title, y grid and x labels."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
             f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="11">',
             f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>',
             f'<text x="{LEFT}" y="15" font-size="13" font-weight="bold">{escape(title)}</text>']
    for i in range(5):
        y = TOP + plot_h - plot_h * i / 4
        value = y_max * i / 4
        text = f"{value * 100:.0f}%" if percent else (f"{value:.0f}" if y_max >= 4 else f"{value:.1f}")
        parts.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e2e8f0"/>')
        parts.append(f'<text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end" fill="#4a5568">{escape(text)}</text>')
    every = max(1, len(labels) // 8)
    slot = plot_w / max(len(labels), 1)
    for i, label in enumerate(labels):
        if i % every == 0:
            x = LEFT + slot * (i + 0.5)
            parts.append(f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle" '
                         f'fill="#4a5568">{escape(label)}</text>')
    return parts


def _legend(names: Sequence[str], data: bool = False) -> list[str]:
    """Colour keys on the right (``data``: the names are data, such as model versions, not words to translate)."""
    parts = []
    mark = ' translate="no"' if data else ""
    for i, name in enumerate(names):
        y = TOP + 14 * i
        colour = PALETTE[i % len(PALETTE)]
        parts.append(f'<rect x="{WIDTH - RIGHT + 10}" y="{y}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{WIDTH - RIGHT + 24}" y="{y + 9}"{mark}>{escape(name[:30])}</text>')
    return parts


def stacked_bars(title: str, labels: Sequence[str], series: dict[str, Sequence[float]],
                 data_names: bool = False) -> str:
    """Stacked bars, one per label, one colour per series."""
    totals = [sum(values[i] for values in series.values()) for i in range(len(labels))]
    y_max = _nice_max(max(totals, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(labels), 1)
    parts = _frame(title, y_max, labels, percent=False)
    base = [0.0] * len(labels)
    for s, (name, values) in enumerate(series.items()):
        for i, value in enumerate(values):
            if value <= 0:
                continue
            h = plot_h * value / y_max
            y = TOP + plot_h - plot_h * base[i] / y_max - h
            parts.append(f'<rect x="{LEFT + slot * i + slot * 0.15:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" '
                         f'height="{h:.1f}" fill="{PALETTE[s % len(PALETTE)]}">'
                         f'<title>{escape(name)} {escape(labels[i])}: {value:g}</title></rect>')
            base[i] += value
    return "\n".join(parts + _legend(list(series), data_names) + ["</svg>"])


def lines(title: str, labels: Sequence[str], series: dict[str, Sequence[float | None]], percent: bool = False) -> str:
    """One polyline per series (None leaves a gap-free skip), points marked."""
    values = [v for vs in series.values() for v in vs if v is not None]
    y_max = 1.0 if percent else _nice_max(max(values, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(labels), 1)
    parts = _frame(title, y_max, labels, percent)
    for s, (name, vs) in enumerate(series.items()):
        colour = PALETTE[s % len(PALETTE)]
        points = [(LEFT + slot * (i + 0.5), TOP + plot_h - plot_h * min(v, y_max) / y_max)
                  for i, v in enumerate(vs) if v is not None]
        if points:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2">'
                         f'<title>{escape(name)}</title></polyline>')
            parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{colour}"/>' for x, y in points]
    return "\n".join(parts + _legend(list(series)) + ["</svg>"])
