"""The verdict in the TUI: the thresholds panel turns red, --abort-on-fail stops
the run with 99 (scripted and through the engine process), the Summary lists
endpoints and thresholds; and the chart's per-second data and picture."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest
from textual.content import Content
from textual.pilot import Pilot

from engine.config import RunConfig, build_config
from engine.domain.shape import INGEST_SHAPE
from engine.errors import EXIT_INTERRUPTED, EXIT_THRESHOLDS
from engine.metrics.stats import Snapshot, Stats
from engine.run.runner import RunResult, SnapshotSink
from tests.helpers import target_process
from tests.scripted import ScriptedRunner, scripted_deltas
from tui.app import WebhookLoadApp
from tui.outcome import print_outcome
from tui.widgets import ChartPanel, EndpointsPanel, SummaryPanel, ThresholdsPanel
from tui.widgets.chart import chart_lines, nice_ceiling
from tui.widgets.seconds import LatencySeconds, SecondPoint

ORDER_EP = INGEST_SHAPE.endpoint_index("orders")  # by the scenario's endpoint name

pytestmark = pytest.mark.anyio
SIZE = (120, 36)
URL = "http://127.0.0.1:3001"


def config(*thresholds: str, abort: bool = False) -> RunConfig:
    raw = {"target": URL, "duration": "30s", "thresholds": list(thresholds)}
    return build_config({**raw, "abort_on_fail": abort or None})


async def wait_for(pilot: Pilot[int], cond: Callable[[], object], limit_s: float = 30) -> None:
    """Let the app run until ``cond()`` holds (a bounded wait, not a timing assert)."""
    for _ in range(int(limit_s / 0.05)):
        if cond():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition not reached")


class HandFed:
    """A runner the test feeds: deltas go in through ``app.on_snapshot``."""

    def __init__(self, config: RunConfig, sink: SnapshotSink) -> None:
        self.config = config
        self._stopped = anyio.Event()

    async def run(self) -> RunResult:
        await self._stopped.wait()
        return RunResult(self.config, URL, Snapshot(), 1.0, stopped=True)

    def stop(self) -> None:
        self._stopped.set()


async def test_the_thresholds_panel_turns_red_when_one_fails() -> None:
    app = WebhookLoadApp(config("p99<50ms", "errors<0.1%"), autostart=True, runner_factory=HandFed)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.state == "starting")
        panel = app.query_one(ThresholdsPanel)
        calm = panel.styles.border_top[1]
        deltas = scripted_deltas()
        for d in deltas[:20]:  # no errors in the first 5 s
            app.on_snapshot(d)
        app.refresh_live()
        await pilot.pause()
        assert panel.display and not panel.has_class("-failing")
        assert panel.border_title == "Thresholds"
        lines = [ln.split() for ln in panel.plain.splitlines()]
        assert lines[0][0] == "✓" and lines[0][2] == "p99<50ms" and lines[0][1].startswith("2.")
        assert lines[1] == ["✓", "0.00%", "errors<0.1%"], lines
        for d in deltas[20:24]:  # then 48 503s: 0.78 % of the requests so far
            app.on_snapshot(d)
        app.refresh_live()
        await pilot.pause()
        assert panel.has_class("-failing") and panel.border_title == "Thresholds · 1 failing"
        assert panel.styles.border_top[1] != calm  # the border turned to the error colour
        lines = [ln.split() for ln in panel.plain.splitlines()]
        assert lines[1] == ["✗", "0.78%", "errors<0.1%"], lines  # 48 of 6,168
        assert lines[0][0] == "✓"
        await pilot.press("x")
        await wait_for(pilot, lambda: app.state == "finished")
    assert app.exit_code == EXIT_INTERRUPTED  # the user stopped it, whatever failed


async def test_without_thresholds_the_panel_is_hidden() -> None:
    app = WebhookLoadApp(config(), autostart=True, runner_factory=HandFed)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.state == "starting")
        assert not app.query_one(ThresholdsPanel).display
        assert app.query_one(ChartPanel).region  # the chart takes the column
        await pilot.press("x")
        await wait_for(pilot, lambda: app.state == "finished")


async def test_abort_on_fail_stops_the_run_with_99_not_as_an_interrupt(
    capsys: pytest.CaptureFixture[str],
) -> None:
    app = WebhookLoadApp(
        config("errors<0.1%", abort=True),
        autostart=True,
        runner_factory=lambda c, s: ScriptedRunner(c, s, finish=False),
    )
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.state == "finished")
        assert app.result is not None and app.result.stopped
        assert app.abort is not None and app.abort.at_s == 5.25  # the first delta past 5 s
        assert app.exit_code == EXIT_THRESHOLDS
        summary = app.query_one(SummaryPanel).plain
        assert "Stopped by --abort-on-fail at 5.25s: errors<0.1% (errors = " in summary
        assert "stopped early" not in summary
    capsys.readouterr()
    print_outcome(app)
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith("Stopped by --abort-on-fail at 5.25s: errors<0.1%"), out


async def test_abort_on_fail_through_the_engine_process(tmp_path: Path) -> None:
    """The real TUI: the engine runs in its own process, the app watches and stops it.
    ``max`` cannot recover once over its limit, so it aborts without the delay."""
    out = tmp_path / "s.json"
    with target_process() as url:
        raw = {"target": url, "duration": "30s", "vus": "2", "thresholds": ["max<1ns"]}
        cfg = build_config({**raw, "abort_on_fail": True})
        app = WebhookLoadApp(cfg, autostart=True, json_path=str(out))
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.state == "finished", limit_s=60)
    assert app.result is not None and app.result.stopped
    assert app.result.elapsed < 30 and app.exit_code == EXIT_THRESHOLDS
    doc = json.loads(out.read_text())
    assert doc["stopped_by"] == "thresholds"
    assert [t["threshold"] for t in doc["abort"]["thresholds"]] == ["max<1ns"]


async def test_the_summary_lists_endpoints_and_thresholds() -> None:
    app = WebhookLoadApp(
        config("p99<50ms", "errors<0.1%"),
        autostart=True,
        runner_factory=lambda c, s: ScriptedRunner(c, s, finish=True),
    )
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.state == "finished")
        text = app.query_one(SummaryPanel).plain
        panel = app.query_one(EndpointsPanel).plain.splitlines()
    assert app.exit_code == EXIT_THRESHOLDS
    assert "Endpoint      requests" in text and "\n  disputes " in text
    assert "  pass  p99<50ms" in text and "  FAIL  errors<0.1%" in text
    assert "but 1 threshold(s) failed (exit code 99)" in text
    # the live panel: orders carry the 48 errors, disputes are slower at the median
    orders, disputes = panel[1].split(), panel[2].split()
    assert orders[0] == "orders" and orders[2] == "48" and disputes[2] == "0"
    assert float(disputes[3].removesuffix("ms")) > float(orders[3].removesuffix("ms"))


# --- the chart's data and picture ---------------------------------------------------


def known_seconds(seconds: int) -> list[Snapshot]:
    """Second ``s`` (4 deltas): 45 answers at 2A, 4 at 5A, 1 at 1 s, then 50 at A,
    with A = (s + 1) ms, one group per delta: only whole seconds give p50 = A,
    p95 = 2A, p99 = 5A (the A group ends the second: binned one delta late, a
    second would get the previous second's A)."""
    st = Stats()
    out = []
    for s in range(seconds):
        a = (s + 1) * 1000
        for k, (n, us) in enumerate(((45, 2 * a), (4, 5 * a), (1, 1_000_000), (50, a))):
            for _ in range(n):
                st.record_response(ORDER_EP, 202, us)
            out.append(st.take(s + (k + 1) * 0.25))
    return out


def test_per_second_percentiles_come_from_whole_seconds() -> None:
    ring = LatencySeconds()
    deltas = known_seconds(70)
    for d in deltas[:-2]:  # the last second is still open
        ring.add(d)
    points = ring.points()
    assert [p.t for p in points] == list(range(9, 69))  # 60 complete seconds
    for p in points:
        a = (p.t + 1) / 1000
        assert p.requests == 100
        assert [p.p50, p.p95, p.p99] == pytest.approx([a, 2 * a, 5 * a], rel=0.01)
    ring.add(deltas[-2])
    ring.add(deltas[-1])
    assert ring.points()[-1].t == 69 and ring.points()[0].t == 10
    assert LatencySeconds().points() == ()


def _cells(line: str) -> str:
    return Content.from_markup(line).plain


def test_the_chart_draws_a_step_where_it_happened() -> None:
    """30 s at 10 ms, then 30 s at 40 ms: the line sits low on the left half,
    at the top on the right; the rate bars are as tall as the rate."""
    pts = [
        SecondPoint(t, 100 if t < 30 else 50, *(3 * ((0.010 if t < 30 else 0.040),)))
        for t in range(60)
    ]
    lines = chart_lines(pts, 68, 14)
    assert len(lines) == 14
    plain = [_cells(ln) for ln in lines]
    assert all(len(p) <= 68 for p in plain), plain
    assert plain[0].startswith("━ p50 40.0ms  ━ p95 40.0ms  ━ p99 40.0ms")
    plot = [p[8:] for p in plain[1:10]]  # 9 rows of latency after the label column
    assert plain[1].startswith(" 40.0ms│") and plain[9].startswith("      0│")
    braille = [[i for i, ch in enumerate(row) if "\u2801" <= ch <= "\u28ff"] for row in plot]
    half = 30
    assert braille[0] and min(braille[0]) >= half - 1  # 40 ms: the top row, right half
    # 10 ms is a quarter of the height: one row of the left half (the step's
    # vertical joins the two at the middle)
    left = [i for i, row in enumerate(braille) if len([x for x in row if x < half - 1]) > 20]
    assert left == [6], braille
    bars = [p[8:] for p in plain[10:13]]
    assert plain[10].startswith("  100/s│")
    assert all(set(row[: half - 1]) == {"█"} for row in bars)
    # half the rate, half the height: 12 of 24 eighths
    assert [set(row[half + 1 :]) for row in bars] == [{" "}, {"▄"}, {"█"}]
    assert plain[13].strip().startswith("└-60s") and plain[13].rstrip().endswith("now")


def test_the_chart_before_any_data_and_axis_tops() -> None:
    lines = [_cells(ln) for ln in chart_lines([], 40, 8)]
    assert len(lines) == 8 and lines[0].startswith("━ p50 -")
    assert not any("\u2801" <= ch <= "\u28ff" for ln in lines for ch in ln)
    assert [nice_ceiling(v) for v in (0.0021, 0.0026, 0.009, 0.011, 0.04, 1.7)] == [
        pytest.approx(x) for x in (0.0025, 0.003, 0.01, 0.015, 0.04, 2.0)
    ]
