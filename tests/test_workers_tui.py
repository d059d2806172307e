"""``--workers`` under the TUI: the app drives the real coordinator (Pilot), and
the real app in a real terminal (tmux) runs two shards to their summary."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from textual.widgets import Button, Input

from engine.config import build_config
from engine.errors import EXIT_SHARD_LOST
from engine.metrics.stats import Stats
from engine.run.runner import RunResult
from engine.shards.coordinator import Coordinator, ShardLost
from engine.shards.worker import ProcessRunner
from tests.test_tui_pilot import SIZE, summary_text, wait_for
from tests.tmux import TmuxApp
from tui.app import WebhookLoadApp, default_runner
from tui.form import RunForm
from tui.widgets import ProgressPanel


@pytest.mark.anyio
async def test_the_app_drives_two_shards_against_the_builtin_target() -> None:
    cfg = build_config(
        {"target": "builtin", "workers": "2", "vus": "4", "duration": "2s", "think": "0"}
    )
    app = WebhookLoadApp(cfg, autostart=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.state == "finished" or app.failure is not None, 60)
        assert app.failure is None, app.failure
        result = app.result
        assert result is not None
        assert set(result.total.health) == {0, 1}  # both shards' deltas reached the app
        assert result.total.total > 0 and result.total.errors == 0
        assert app.window.total.total == result.total.total  # one run, as the sinks saw it
        assert "Requests:" in summary_text(app)
        await pilot.press("q")


@pytest.mark.anyio
async def test_a_lost_shard_shows_the_partial_summary_and_exits_6() -> None:
    stats = Stats(shard=0)
    stats.record_response(0, 202, 1500)
    partial = RunResult(build_config({}), "http://127.0.0.1:1", stats.take(1.0), 1.0, True)

    class _Lost:
        async def run(self) -> RunResult:
            raise ShardLost("shard 1 of 2 (pid 4242) failed: gone", partial)

        def stop(self) -> None:
            pass

    app = WebhookLoadApp(
        build_config({"workers": "2"}), autostart=True, runner_factory=lambda c, s: _Lost()
    )
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.result is not None)
        assert app.result is partial and app.exit_code == EXIT_SHARD_LOST
        assert app.failure == "shard 1 of 2 (pid 4242) failed: gone"
        assert "Requests:" in summary_text(app)
        await pilot.press("q")


def test_one_worker_keeps_the_single_engine_process() -> None:
    assert isinstance(default_runner(build_config({}), lambda d: None), ProcessRunner)
    two = default_runner(build_config({"workers": "2"}), lambda d: None)
    assert isinstance(two, Coordinator)


@pytest.mark.terminal
def test_two_workers_in_a_real_terminal_reach_the_summary(tmp_path: Path) -> None:
    app = TmuxApp(tmp_path, "--target builtin --autostart --duration 3s --workers 2 --vus 4")
    try:
        app.clean_summary_then_quit()
    finally:
        app.close()


@pytest.mark.anyio
async def test_the_form_takes_workers_checked_as_the_flag_is() -> None:
    """Workers: N >= 1 or auto, in --workers' own words, and at most VUs
    (every shard runs one VU at least), shown under the field as typed."""
    app = WebhookLoadApp(build_config({"vus": "2"}))
    async with app.run_test(size=SIZE) as pilot:
        form = app.query_one(RunForm)
        field = app.query_one("#f-workers", Input)
        assert field.value == "1" and form.is_valid
        for bad in ("0", "-2", "two", ""):
            field.value = bad
            await pilot.pause()
            assert form.errors == {
                "workers": f"--workers must be a positive integer or auto, got {bad!r}"
            }
            assert app.query_one("#start", Button).disabled
        field.value = "3"
        await pilot.pause()
        assert form.errors == {"workers": "--workers must be at most --vus (2), got '3'"}
        app.query_one("#f-vus", Input).value = "3"  # fixing VUs settles Workers
        await pilot.pause()
        assert form.is_valid and not app.query_one("#e-workers").display
        assert form.config().workers == 3
        field.value = "auto"
        await pilot.pause()
        assert form.is_valid and form.config().workers == (os.cpu_count() or 1)


@pytest.mark.anyio
async def test_a_form_run_with_two_workers_shows_the_shards() -> None:
    app = WebhookLoadApp(build_config({"vus": "4", "duration": "3s", "think": "0"}))
    async with app.run_test(size=SIZE) as pilot:
        app.query_one("#f-target", Input).value = "builtin"
        app.query_one("#f-workers", Input).value = "2"
        await pilot.pause()
        await pilot.click("#start")
        progress = app.query_one(ProgressPanel)
        # the generator line speaks of shards only when there are several
        await wait_for(pilot, lambda: "shard" in progress.plain, 60)
        assert re.search(r"of 2 shards|shard [01]:", progress.plain), progress.plain
        await wait_for(pilot, lambda: app.state == "finished" or app.failure is not None, 60)
        assert app.failure is None, app.failure
        assert app.result is not None and app.result.config.workers == 2
        assert set(app.result.total.health) == {0, 1}
        assert app.result.total.total > 0 and app.result.total.errors == 0
        await pilot.press("q")
