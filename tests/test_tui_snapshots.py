"""SVG snapshots of the form, the live view and the summary, from a scripted
snapshot stream on a fixed clock (pytest-textual-snapshot)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, Select

from engine.config import RunConfig, build_config
from engine.run.runner import SnapshotSink
from tests.scripted import TICKS, ScriptedRunner, chart_deltas, delivery_deltas
from tui.app import WebhookLoadApp

CONFIG = build_config({"target": "http://127.0.0.1:3001", "duration": "30s"})


def make_app(*, finish: bool | None) -> WebhookLoadApp:
    def factory(config: RunConfig, sink: SnapshotSink) -> ScriptedRunner:
        return ScriptedRunner(config, sink, finish=bool(finish))

    return WebhookLoadApp(CONFIG, autostart=finish is not None, runner_factory=factory)


def settle(cond: Callable[[WebhookLoadApp], bool]) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, WebhookLoadApp)
        for inp in app.query(Input):
            inp.cursor_blink = False
        for _ in range(200):
            if cond(app):
                break
            await pilot.pause(0.02)
        assert cond(app)
        app.refresh_live()
        await pilot.pause()

    return run_before


def test_form(snap_compare: Any) -> None:
    assert snap_compare(
        make_app(finish=None), terminal_size=(120, 36), run_before=settle(lambda a: True)
    )


def test_form_with_invalid_field(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        pilot.app.query_one("#f-vus", Input).value = "-1"
        await settle(lambda a: True)(pilot)

    assert snap_compare(make_app(finish=None), terminal_size=(120, 36), run_before=run_before)


def test_form_scenario_list_100x30(snap_compare: Any) -> None:
    """The open Scenario list at 100x30 leaves the footer's row alone."""

    async def run_before(pilot: Pilot[Any]) -> None:
        pilot.app.query_one("#f-scenario").focus()
        await pilot.press("enter")
        await settle(lambda a: a.query_one("#f-scenario", Select).expanded)(pilot)

    assert snap_compare(make_app(finish=None), terminal_size=(100, 30), run_before=run_before)


def test_live_view(snap_compare: Any) -> None:
    assert snap_compare(
        make_app(finish=False),
        terminal_size=(120, 36),
        run_before=settle(lambda a: a.window.now == TICKS * 0.25),
    )


def test_live_view_80x24(snap_compare: Any) -> None:
    assert snap_compare(
        make_app(finish=False),
        terminal_size=(80, 24),
        run_before=settle(lambda a: a.window.now == TICKS * 0.25),
    )


def test_summary(snap_compare: Any) -> None:
    assert snap_compare(
        make_app(finish=True),
        terminal_size=(120, 36),
        run_before=settle(lambda a: a.state == "finished"),
    )


def test_live_view_light_theme(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        pilot.app.theme = "textual-light"
        await settle(lambda a: a.window.now == TICKS * 0.25)(pilot)

    assert snap_compare(make_app(finish=False), terminal_size=(120, 36), run_before=run_before)


def test_live_view_with_chart_and_thresholds(snap_compare: Any) -> None:
    """75 s of a slow build-up with a stall every 20 s: the chart's last 60 s,
    a failing threshold in red, the chargeback path slower than orders."""
    deltas = chart_deltas()
    config = build_config(
        {
            "target": "http://127.0.0.1:3001",
            "duration": "2m",
            "thresholds": ["p99<50ms", "errors<0.5%", "p95{endpoint=chargebacks}<10ms"],
        }
    )

    def factory(config: RunConfig, sink: SnapshotSink) -> ScriptedRunner:
        return ScriptedRunner(config, sink, finish=False, deltas=deltas)

    app = WebhookLoadApp(config, autostart=True, runner_factory=factory)
    end = deltas[-1].end
    assert snap_compare(
        app, terminal_size=(120, 36), run_before=settle(lambda a: a.window.now == end)
    )


def test_live_view_with_delivery(snap_compare: Any) -> None:
    """A run with delivery faults: the Delivery panel above the chart, its
    "other" and "exhausted" counts in red."""
    config = build_config(
        {
            "target": "http://127.0.0.1:3001",
            "duration": "30s",
            "duplicate_rate": "0.1",
            "reorder_rate": "0.05",
            "retries": "2",
        }
    )

    def factory(config: RunConfig, sink: SnapshotSink) -> ScriptedRunner:
        return ScriptedRunner(config, sink, finish=False, deltas=delivery_deltas())

    app = WebhookLoadApp(config, autostart=True, runner_factory=factory)
    assert snap_compare(
        app, terminal_size=(120, 36), run_before=settle(lambda a: a.window.now == TICKS * 0.25)
    )
