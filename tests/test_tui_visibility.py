"""--visibility in the TUI (issue 19 §3): the Latency panel gets a ``vis`` row,
live from a real run against the builtin target in queue mode, and the
summary panel ends with the Visibility line; a run without it keeps the
panel as it was."""

from __future__ import annotations

import pytest

from engine.config import build_config
from tests.test_tui_pilot import SIZE, wait_for
from tui.app import WebhookLoadApp
from tui.widgets.panels import LatencyPanel
from tui.widgets.summary import SummaryPanel

pytestmark = pytest.mark.anyio


async def test_the_latency_panel_shows_the_visibility_of_a_queue_target() -> None:
    cfg = build_config(
        {
            "target": "builtin",
            "target_mode": "queue",
            "duration": "3s",
            "vus": "2",
            "think": "0",
            "visibility": "6",
        }
    )
    app = WebhookLoadApp(cfg, autostart=True)
    async with app.run_test(size=SIZE) as pilot:
        panel = app.query_one(LatencyPanel)

        def vis_row() -> list[str]:
            rows = [line.split() for line in panel.plain.splitlines()]
            return rows[3] if len(rows) > 3 else []

        # live: the vis row fills once a followed order was readable (the builtin lag, 50 ms)
        await wait_for(pilot, lambda: app.state == "running" and vis_row()[1:2] not in ([], ["-"]))
        assert vis_row()[0] == "vis" and vis_row()[1].endswith("ms"), panel.plain
        assert panel.region.height == 6
        await wait_for(pilot, lambda: app.state == "finished")
        assert app.result is not None
        counts = app.result.total.visibility_counts
        assert counts["visible"] == counts["followed"] == 6
        summary = app.query_one(SummaryPanel).plain
        assert "Visibility:  p50=" in summary and "6 of 6 followed orders readable" in summary
        await pilot.press("q")


async def test_without_visibility_the_panel_keeps_its_two_rows() -> None:
    cfg = build_config({"target": "builtin", "duration": "1s", "vus": "1"})
    app = WebhookLoadApp(cfg, autostart=True)
    async with app.run_test(size=SIZE) as pilot:
        panel = app.query_one(LatencyPanel)
        await wait_for(pilot, lambda: app.state == "running" and panel.plain.count("\n") >= 2)
        assert [line.split()[0] for line in panel.plain.splitlines()[1:]] == ["run", "10s"]
        assert panel.region.height == 5
        await wait_for(pilot, lambda: app.state == "finished")
        await pilot.press("q")
