"""The Delivery panel (issue 10): live from a real run with --duplicate-rate,
on screen at 120x36 beside the chart, and no room taken by a run without
delivery faults."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest
from textual.content import Content

from engine.config import RunConfig, build_config
from engine.domain.policies import PROVIDER_ANSWERS, PROVIDER_TIMEOUTS, builtin
from engine.metrics.stats import DELIVERY_KEYS
from tests.scripted import ScriptedRunner, delivery_deltas
from tests.test_tui_pilot import SIZE, wait_for
from tests.tmux import TmuxApp
from tui.app import WebhookLoadApp
from tui.widgets import DeliveryPanel
from tui.widgets.delivery import delivers, delivery_markup, provider_markup

pytestmark = pytest.mark.anyio


PANEL_KEYS = DELIVERY_KEYS[:10]
"""What the panel shows: issue 10's counters (issue 19's split of ``failed`` is
summed in its ``other`` column)."""


def counts(panel: DeliveryPanel) -> dict[str, int]:
    """The panel's numbers read back from its text, by DELIVERY_KEYS name."""
    rows = [line.split() for line in panel.plain.splitlines()]
    assert rows[0] == ["sent", "refused", "2xx", "other"], panel.plain
    assert [r[0] for r in rows[1:]] == ["duplicates", "early", "retries"], panel.plain
    numbers = [int(v.replace(",", "")) for v in (*rows[1][1:], *rows[2][1:], *rows[3][1:3])]
    return dict(zip(PANEL_KEYS, numbers, strict=True))


async def test_the_panel_follows_a_run_with_duplicates_and_ends_on_its_counts() -> None:
    cfg = build_config({"target": "builtin", "duration": "4s", "vus": "4", "duplicate_rate": "0.5"})
    app = WebhookLoadApp(cfg, autostart=True)
    async with app.run_test(size=SIZE) as pilot:
        panel = app.query_one(DeliveryPanel)
        await wait_for(pilot, lambda: app.state == "running" and counts(panel)["duplicates_sent"])
        first = counts(panel)["duplicates_sent"]
        # whole: inside the screen, not cut by the grid, beside the chart
        assert panel.display and app.screen.region.contains_region(panel.region)
        assert not panel.region.overlaps(app.query_one("#chart").region)
        await wait_for(pilot, lambda: counts(panel)["duplicates_sent"] > first)  # it updates
        await wait_for(pilot, lambda: app.state == "finished")
        assert app.result is not None
        app.refresh_live()
        final = counts(panel)
        assert final == {k: app.result.total.delivery.get(k, 0) for k in PANEL_KEYS}
        # the builtin (strict) target refuses every replay with 409
        assert final["duplicates_sent"] == final["duplicates_rejected"] > first
        await pilot.press("q")


async def test_a_run_without_delivery_faults_gives_the_panel_no_room() -> None:
    app = WebhookLoadApp(
        build_config({"duration": "30s"}),
        autostart=True,
        runner_factory=lambda c, s: ScriptedRunner(c, s, finish=False),
    )
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.state == "running")
        await pilot.pause()
        assert not app.query_one(DeliveryPanel).display
        assert app.query_one("#chart").region.height == app.query_one("#chart-col").region.height
        await pilot.press("x")
        await wait_for(pilot, lambda: app.state == "finished")


@pytest.mark.parametrize("width", [30, 39, 50, 51, 80])
def test_no_count_is_cut_and_narrow_panels_get_compact_counts(width: int) -> None:
    big = {k: 1_234_567 for k in DELIVERY_KEYS}
    lines = Content.from_markup(delivery_markup(big, width)).plain.splitlines()
    wide_enough = width >= 11 + 4 * len(" 1,234,567")  # the label, four columns
    assert ("1,234,567" in lines[1]) == wide_enough
    assert ("1.23M" in lines[1]) != wide_enough
    if width >= 39:  # the panel's width at 120x36; narrower ones may overflow
        assert all(len(line) <= width for line in lines), lines


@pytest.mark.terminal
def test_the_panel_in_a_real_terminal(tmp_path: Path) -> None:
    app = TmuxApp(tmp_path, "--target builtin --autostart --duration 3s --duplicate-rate 0.5")
    try:
        live = app.tmux.wait_screen(
            lambda s: "running" in s and re.search(r"duplicates\s+[1-9]", s) is not None
        )
        assert "Delivery" in live and re.search(r"sent\s+refused\s+2xx\s+other", live), live
        app.tmux.wait_screen(lambda s: "Summary" in s and "Requests:" in s)
        app.keys("q")
        assert app.exit_code(limit_s=20) == 0
    finally:
        app.close()


async def test_at_80x24_the_panel_scrolls_into_view_whole() -> None:
    """One column: the panel sits under the sparklines, reached by scrolling
    the live view, and no line is wider than the panel."""
    config = build_config({"duration": "30s", "retries": "1"})
    app = WebhookLoadApp(
        config,
        autostart=True,
        runner_factory=lambda c, s: ScriptedRunner(c, s, finish=False, deltas=delivery_deltas()),
    )
    async with app.run_test(size=(80, 24)) as pilot:
        panel = app.query_one(DeliveryPanel)
        await wait_for(pilot, lambda: app.state == "running" and counts(panel)["retries"] > 0)
        assert counts(panel) == {k: app.window.total.delivery.get(k, 0) for k in PANEL_KEYS}
        assert all(len(line.rstrip()) <= panel.size.width for line in panel.plain.splitlines())
        panel.scroll_visible(animate=False)
        await pilot.pause()
        assert app.query_one("#live").region.contains_region(panel.region)
        await pilot.press("x")
        await wait_for(pilot, lambda: app.state == "finished")


def test_a_delivery_policy_shows_the_panel_with_answers_slower_than_its_timeout() -> None:
    """Issue 22: a run under a policy with a timeout has the panel (even without
    faults), its last line the answers the provider would have given up on."""
    config = RunConfig(delivery_policy=orjson.dumps(builtin("shopify").as_table()).decode())
    assert delivers(config) and not delivers(RunConfig())
    d = {PROVIDER_ANSWERS: 14_880, PROVIDER_TIMEOUTS: 312}
    line = provider_markup(d, "Shopify", 5.0)
    assert Content.from_markup(line).plain == "slower than Shopify's 5s: 312 (2.1%)"
    assert line.startswith("[red]") and provider_markup({}, "Shopify", 5.0).startswith("[dim]")
