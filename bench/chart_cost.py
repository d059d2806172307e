"""What one repaint of the live view's latency chart costs, drawn two ways.

``python bench/chart_cost.py`` (needs ``pip install textual-plotext`` for the
second row): the chart of tui/widgets/chart.py (braille in a Line-API panel)
against the same picture with textual-plotext's ``PlotextPlot`` (p50/p95/p99
lines over a bar chart of requests/s), both at the size of the 120x36 and the
160x48 wide layouts, over 100 frames of the 4 Hz refresh in which a new
second arrives every 4th frame. "every frame": the data update plus rendering
every line of the widget, each frame (an upper bound); "as repainted": only
what Textual would redo, i.e. the braille panel's changed lines (Panel.set)
and the plot only when its data changed (once a second). The compositor's own
cost is the same for both and left out. Not a test: timings on a shared
machine are noisy, so it reports the median of 5 rounds.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from typing import Any

from textual.app import App, ComposeResult
from textual.widget import Widget

from engine.domain.shape import INGEST_SHAPE
from engine.metrics.stats import Stats
from engine.metrics.window import SnapshotWindow
from tui.widgets.chart import ChartPanel
from tui.widgets.data import LiveData
from tui.widgets.seconds import LatencySeconds, SecondPoint

ORDER_EP = INGEST_SHAPE.endpoint_index("orders")  # by the scenario's endpoint name

FRAMES = 100
SIZES = ((39, 14), (56, 16))  # (content width, height): 120x36 and 160x48 wide layouts


def stream(seconds: int) -> tuple[list[LiveData], list[tuple[SecondPoint, ...]]]:
    """Frames of LiveData over ``seconds`` seconds at 4 Hz, a slow build-up with stalls."""
    rng = random.Random(7)
    st, win, secs = Stats(), SnapshotWindow(), LatencySeconds()
    frames, points = [], []
    for i in range(seconds * 4):
        t = (i + 1) * 0.25
        base = 1500 + 40 * t + (20_000 if int(t) % 17 == 0 else 0)
        for _ in range(250):
            st.record_response(ORDER_EP, 202, int(base * rng.lognormvariate(0, 0.5)))
        delta = st.take(t)
        win.add(delta)
        secs.add(delta)
        frames.append(LiveData.from_window(win, 0.0, "running", secs))
        points.append(secs.points())
    return frames, points


class Bench(App[None]):
    def __init__(self, widget: Widget, size: tuple[int, int]) -> None:
        super().__init__()
        self.widget = widget
        self.widget.styles.width = size[0]
        self.widget.styles.height = size[1]

    def compose(self) -> ComposeResult:
        yield self.widget


async def time_own(size: tuple[int, int], frames: list[LiveData], every: bool) -> float:
    panel = ChartPanel("chart")
    app = Bench(panel, size)
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        height = panel.size.height
        t0 = time.perf_counter()
        for data in frames[-FRAMES:]:
            old = panel._lines
            panel.show(data)
            for y in range(height):
                if every or y >= len(old) or old[y] != panel._lines[y]:
                    panel.render_line(y)
        return (time.perf_counter() - t0) / FRAMES


async def time_plotext(
    size: tuple[int, int], points: list[tuple[SecondPoint, ...]], every: bool
) -> float:
    from textual_plotext import PlotextPlot  # type: ignore[import-not-found]

    widget: Any = PlotextPlot()
    app = Bench(widget, size)
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        height = widget.size.height
        t0 = time.perf_counter()
        shown: tuple[SecondPoint, ...] = ()
        for pts in points[-FRAMES:]:
            if pts == shown and not every:
                continue
            shown = pts
            plt = widget.plt
            plt.clear_data()
            plt.clear_figure()
            plt.subplots(2, 1)
            top = plt.subplot(1, 1)
            xs = [p.t for p in pts]
            for name in ("p50", "p95", "p99"):
                top.plot(xs, [(getattr(p, name) or 0.0) * 1000 for p in pts], marker="braille")
            bottom = plt.subplot(2, 1)
            bottom.bar(xs, [p.requests for p in pts])
            widget.refresh()
            for y in range(height):
                widget.render_line(y)
        return (time.perf_counter() - t0) / FRAMES


async def main() -> None:
    frames, points = stream(90)
    for size in SIZES:
        for every in (True, False):
            how = "every frame" if every else "as repainted"
            own = statistics.median([await time_own(size, frames, every) for _ in range(5)])
            print(f"{size} {how}: braille panel {own * 1e3:.3f} ms/frame")
            try:
                runs = [await time_plotext(size, points, every) for _ in range(5)]
            except ImportError:
                print("  textual-plotext not installed")
                continue
            plot = statistics.median(runs)
            print(f"{size} {how}: textual-plotext {plot * 1e3:.3f} ms/frame ({plot / own:.1f}x)")


if __name__ == "__main__":
    asyncio.run(main())
