"""Latency over time: p50/p95/p99 per second and the request rate, last 60 s.

k6's "HTTP performance overview" in the terminal. :class:`LatencySeconds`
keeps one latency histogram per second of the run, summed from the deltas
(each carries its own), so each second's percentiles are exact for that
second, not an average of averages. :class:`ChartPanel` draws them with
braille dots (2x4 per cell) above a bar strip of requests per second on the
same time axis.

Drawn here rather than with textual-plotext: that widget rebuilds the whole
figure as an ANSI string and re-parses it on every repaint, 5-7 times the cost
of this Line-API panel, whose lines are plain markup that change once a second
and repaint alone (``bench/chart_cost.py``; docs/PERFORMANCE.md, section 3).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from textual.content import Content

from engine import format_latency
from tui.widgets.data import LiveData
from tui.widgets.panels import Panel, compact
from tui.widgets.seconds import CHART_SECONDS, SecondPoint

SERIES_COLORS = ("green", "orange", "red")  # p50, p95, p99; the lowest wins a shared cell
RATE_COLOR = "dodgerblue"
LABEL_W = 8  # "12.3ms" / "1.02k/s" and the axis
_BARS = " ▁▂▃▄▅▆▇█"
_DOT = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))  # [x % 2][y % 4]


def nice_ceiling(value: float) -> float:
    """The smallest round number (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 x 10^k) at or
    above ``value``: an axis top that reads well and wastes little height."""
    if value <= 0:
        return 1e-3  # an empty chart's scale: 1ms
    step = 10.0 ** math.floor(math.log10(value))
    steps = (1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)
    return next(m * step for m in steps if value <= m * step * (1 + 1e-9))


def _line(grid: dict[tuple[int, int], int], x0: int, y0: int, x1: int, y1: int, s: int) -> None:
    """Bresenham from (x0, y0) to (x1, y1) in dot coordinates, marking series ``s``
    (a dot already marked by a lower percentile keeps it: a cell has one colour,
    and the tail shows where it leaves the others, which is what matters)."""
    dx, dy = abs(x1 - x0), -abs(y1 - y0)
    sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
    err = dx + dy
    while True:
        grid.setdefault((x0, y0), s)
        if x0 == x1 and y0 == y1:
            return
        e2 = 2 * err
        if e2 >= dy:
            err += dy
            x0 += sx
        if e2 <= dx:
            err += dx
            y0 += sy


def _runs(cells: Iterable[tuple[str, str]]) -> str:
    """Markup for (char, color) cells, one tag per run of a color."""
    out: list[str] = []
    color, text = "", ""
    for ch, c in cells:
        if c != color:
            out.append(f"[{color}]{text}[/]" if color and text.strip() else text)
            color, text = c, ""
        text += ch
    out.append(f"[{color}]{text}[/]" if color and text.strip() else text)
    return "".join(out)


def chart_lines(points: Sequence[SecondPoint], width: int, height: int) -> list[str]:
    """The chart as ``height`` lines of markup, ``width`` columns wide."""
    plot_w = max(10, width - LABEL_W)
    rate_h = 3 if height >= 12 else 2 if height >= 7 else 1
    lat_h = max(1, height - 2 - rate_h)  # legend above, time axis below
    pts: list[SecondPoint | None] = [None] * (CHART_SECONDS - len(points)) + list(points)
    pts = pts[-CHART_SECONDS:]
    dots_w, dots_h = 2 * plot_w, 4 * lat_h
    xs = [round(i * (dots_w - 1) / (CHART_SECONDS - 1)) for i in range(CHART_SECONDS)]
    top = nice_ceiling(max((p.p99 or 0.0 for p in pts if p), default=0.0))
    grid: dict[tuple[int, int], int] = {}
    for s, name in enumerate(("p50", "p95", "p99")):
        prev: tuple[int, int] | None = None
        for i, p in enumerate(pts):
            v = getattr(p, name) if p else None
            if v is None:
                prev = None
                continue
            y = dots_h - 1 - round(min(v / top, 1.0) * (dots_h - 1))
            px, py = prev or (xs[i], y)
            _line(grid, px, py, xs[i], y, s)
            prev = (xs[i], y)
    lines = [_legend(pts[-1], width)]
    labels = {0: format_latency(top), lat_h - 1: "0"}
    if lat_h >= 5:
        labels[(lat_h - 1) // 2] = format_latency(top * (1 - ((lat_h - 1) // 2) / (lat_h - 1)))
    for row in range(lat_h):
        cells = []
        for col in range(plot_w):
            bits, best = 0, len(SERIES_COLORS)
            for dx in (0, 1):
                for dy in range(4):
                    s = grid.get((2 * col + dx, 4 * row + dy), -1)
                    if s >= 0:
                        bits |= _DOT[dx][dy]
                        best = min(best, s)
            cells.append((chr(0x2800 + bits), SERIES_COLORS[best]) if bits else (" ", ""))
        lines.append(f"[dim]{labels.get(row, ''):>{LABEL_W - 1}}│[/]" + _runs(cells))
    lines += _rate_rows(pts, plot_w, rate_h, xs)
    lines.append(_axis(plot_w))
    return lines[:height]


def _legend(last: SecondPoint | None, width: int) -> str:
    vals = (None, None, None) if last is None else (last.p50, last.p95, last.p99)
    parts = [
        f"[{c}]━[/] {q} {format_latency(v)}"
        for c, q, v in zip(SERIES_COLORS, ("p50", "p95", "p99"), vals, strict=True)
    ]
    rate = "-" if last is None else f"{compact(last.requests)}/s"
    text = "  ".join(parts) + f"   [{RATE_COLOR}]▆[/] {rate}"
    return text if len(Content.from_markup(text)) <= width else "  ".join(parts)


def _rate_rows(
    pts: Sequence[SecondPoint | None], plot_w: int, rows: int, xs: list[int]
) -> list[str]:
    """Bars of requests per second, one column per pair of dots above it."""
    per_col: list[float] = []
    span = (xs[-1] or 1) / (len(xs) - 1)  # dots per second
    for col in range(plot_w):
        p = pts[min(len(pts) - 1, round((2 * col + 0.5) / span))]
        per_col.append(float(p.requests) if p else 0.0)
    peak = max(per_col, default=0.0)
    levels = [round(v / peak * rows * 8) if peak > 0 else 0 for v in per_col]
    out = []
    for r in range(rows - 1, -1, -1):
        bars = "".join(_BARS[min(8, max(0, lv - r * 8))] for lv in levels)
        label = f"{compact(peak)}/s" if r == rows - 1 and peak > 0 else ""
        out.append(f"[dim]{label:>{LABEL_W - 1}}│[/][{RATE_COLOR}]{bars}[/]")
    return out


def _axis(plot_w: int) -> str:
    axis = [" "] * plot_w
    for frac, text in ((0.0, "-60s"), (0.5, "-30s"), (1.0, "now")):
        at = min(plot_w - len(text), max(0, round(frac * (plot_w - 1)) - len(text) // 2))
        axis[at : at + len(text)] = text
    return f"[dim]{' ' * (LABEL_W - 1)}└{''.join(axis)}[/]"


class ChartPanel(Panel):
    """The chart, redrawn only when a second completes or the panel resizes."""

    def __init__(self, title: str, *, id: str | None = None) -> None:
        super().__init__(title, id=id)
        self._key: tuple[object, ...] = ()
        self._markup = ""

    def lines(self, data: LiveData) -> str:
        points = data.chart
        key = (points[-1] if points else None, len(points), self.size.width, self.size.height)
        if key != self._key:
            self._key = key
            self._markup = "\n".join(chart_lines(points, self.size.width, self.size.height))
        return self._markup
