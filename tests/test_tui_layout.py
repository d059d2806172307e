"""The TUI's layout through Textual's Pilot, on scripted runners (no sockets):
a resize both ways, counts that fit at every size, and a short form that keeps
Start within reach."""

from __future__ import annotations

import pytest
from textual.widgets import Footer, Input, Select

from engine.config import RunConfig
from engine.domain.outcomes import LEGACY_KEYS
from engine.metrics.stats import ENDPOINTS, Snapshot
from engine.run.runner import RunResult, SnapshotSink
from tests.scripted import ScriptedRunner
from tests.test_tui_keys import CONFIG, URL, scripted, wait_for
from tui.app import WebhookLoadApp
from tui.form import RunForm
from tui.widgets import CountersPanel, SplitPanel
from tui.widgets.panels import Panel

pytestmark = pytest.mark.anyio

BIG = Snapshot(
    start=0.0,
    end=1.0,
    requests=(1_234_567, 345_678, 0),
    endpoint_names=ENDPOINTS,
    success=1_456_789,
    errors=123_456,
    status_codes={202: 1_456_789, 503: 123_456},
    errors_by_kind={"http_5xx": 123_456},
    scenarios={
        LEGACY_KEYS["orders_success"]: 1_234_567,
        LEGACY_KEYS["orders_failed"]: 234_567,
        LEGACY_KEYS["orders_aborted"]: 34_567,
        LEGACY_KEYS["disputes_opened"]: 123_456,
        LEGACY_KEYS["disputes_won"]: 61_728,
        LEGACY_KEYS["disputes_lost"]: 61_728,
    },
)


class BigRunner(ScriptedRunner):
    """One second of a big run (seven-digit counts, aborted orders), then waits."""

    def __init__(self, config: RunConfig, sink: SnapshotSink) -> None:
        super().__init__(config, sink, finish=False)

    async def run(self) -> RunResult:
        self.sink(BIG)
        await self._stopped.wait()
        return RunResult(self.config, URL, BIG, 1.0, stopped=True)


# --- 15: layout ----------------------------------------------------------------------


def side_by_side(app: WebhookLoadApp) -> bool:
    split, latency = app.query_one("#split").region, app.query_one("#latency").region
    return split.y == latency.y and latency.x > split.right


async def test_layout_follows_a_resize_both_ways() -> None:
    app = WebhookLoadApp(CONFIG, autostart=True, runner_factory=scripted(finish=False))
    async with app.run_test(size=(200, 50)) as pilot:
        await wait_for(pilot, lambda: app.state == "running")
        assert side_by_side(app)
        await pilot.resize_terminal(80, 24)
        await wait_for(pilot, lambda: app.size == (80, 24))
        await pilot.pause(0.1)
        assert not side_by_side(app)
        await pilot.resize_terminal(200, 50)
        await wait_for(pilot, lambda: app.size == (200, 50))
        await pilot.pause(0.1)
        assert side_by_side(app)
        await pilot.press("x")
        await wait_for(pilot, lambda: app.state == "finished")


@pytest.mark.parametrize("size", [(80, 24), (120, 36), (140, 40), (200, 50)])
async def test_no_count_is_cut_off_even_after_a_resize(size: tuple[int, int]) -> None:
    app = WebhookLoadApp(CONFIG, autostart=True, runner_factory=lambda c, s: BigRunner(c, s))
    async with app.run_test(size=(250, 50)) as pilot:
        await wait_for(pilot, lambda: app.state == "running")
        await pilot.pause(0.3)
        app.refresh_live()  # drawn at 250 columns; no new data after this
        await pilot.resize_terminal(*size)
        await wait_for(pilot, lambda: app.size == size)
        await pilot.pause(0.1)
        for kind in (CountersPanel, SplitPanel):
            panel: Panel = app.query_one(kind)
            width = panel.size.width
            for line in panel.plain.splitlines():
                assert len(line.rstrip()) <= width, (size, kind.__name__, line, width)
        assert "aborted" in app.query_one(SplitPanel).plain
        await pilot.press("x")
        await wait_for(pilot, lambda: app.state == "finished")


def on_screen(app: WebhookLoadApp, selector: str) -> bool:
    """The widget is drawn, whole, inside the form's visible area."""
    form = app.query_one(RunForm)
    region = app.query_one(selector).region
    return bool(region) and form.region.contains_region(region)


async def test_at_80x24_an_inline_error_leaves_scenario_and_start_on_screen() -> None:
    app = WebhookLoadApp(CONFIG, runner_factory=scripted(finish=False))
    async with app.run_test(size=(80, 24)) as pilot:
        app.query_one("#f-vus", Input).value = "-1"
        await pilot.pause()
        assert app.query_one("#e-vus").display
        assert on_screen(app, "#f-scenario") and on_screen(app, "#start")


@pytest.mark.parametrize("size", [(100, 30), (80, 24), (120, 36)])
async def test_the_scenario_list_opens_clear_of_the_footer(size: tuple[int, int]) -> None:
    """At 100x30 the open Scenario list covered the footer's row (Textual keeps
    it inside the screen, which counts the footer): now the footer stays seen."""
    app = WebhookLoadApp(CONFIG, runner_factory=scripted(finish=False))
    async with app.run_test(size=size) as pilot:
        select = app.query_one("#f-scenario", Select)
        select.focus()
        await pilot.pause()
        await pilot.press("enter")
        await wait_for(pilot, lambda: select.expanded)
        await pilot.pause()
        overlay = select.query_one("SelectOverlay").region
        footer = app.query_one(Footer).region
        assert overlay.height > 2 and footer.height == 1, (overlay, footer)
        assert overlay.bottom <= footer.y, (size, overlay, footer)
        await pilot.press("escape")


async def test_a_short_form_scrolls_to_what_has_focus() -> None:
    app = WebhookLoadApp(CONFIG, runner_factory=scripted(finish=False))
    async with app.run_test(size=(80, 16)) as pilot:
        assert not on_screen(app, "#start")
        for _ in range(8):  # Target -> ... -> Workers -> Stages -> Scenario -> Start
            await pilot.press("tab")
        await pilot.pause()
        assert app.focused is app.query_one("#start") and on_screen(app, "#start")


def test_the_rates_panel_skips_a_refresh_before_its_sparklines_exist() -> None:
    """The 4 Hz refresh once fired while the panel had no children (mounting, or
    the app tearing down) and raised NoMatches in a full run: it draws nothing then."""
    from engine.metrics.window import SnapshotWindow
    from tui.widgets import RatesPanel
    from tui.widgets.data import LiveData

    RatesPanel(id="rates").show(LiveData.from_window(SnapshotWindow(), 30.0, "running"))
