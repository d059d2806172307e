"""The live view keeps shards apart: the saturation warning names the shard,
and two calm shards at half a core each raise no warning."""

from __future__ import annotations

import anyio
import pytest

from engine.config import RunConfig, build_config
from engine.metrics.stats import Snapshot, merge_all
from engine.run.runner import RunResult, SnapshotSink
from tests.test_shard_health import one_stalled_shard, two_calm_halves
from tests.test_tui_pilot import SIZE, wait_for
from tui.app import WebhookLoadApp
from tui.widgets import ProgressPanel

pytestmark = pytest.mark.anyio


class _ShardsRunner:
    """Emits two shards' deltas at once, then runs until stopped."""

    def __init__(self, config: RunConfig, sink: SnapshotSink, deltas: list[Snapshot]) -> None:
        self.config = config
        self._sink = sink
        self._deltas = deltas
        self._stopped = anyio.Event()

    async def run(self) -> RunResult:
        for d in self._deltas:
            self._sink(d)
        await self._stopped.wait()
        total = merge_all(self._deltas)
        return RunResult(self.config, "http://127.0.0.1:1", total, total.end, stopped=True)

    def stop(self) -> None:
        self._stopped.set()


async def _progress_text(deltas: list[Snapshot]) -> str:
    def factory(config: RunConfig, sink: SnapshotSink) -> _ShardsRunner:
        return _ShardsRunner(config, sink, deltas)

    app = WebhookLoadApp(build_config({"duration": "10s"}), autostart=True, runner_factory=factory)
    async with app.run_test(size=SIZE) as pilot:
        panel = app.query_one(ProgressPanel)
        await wait_for(pilot, lambda: app.state == "running" and "generator" in panel.plain)
        text = panel.plain
        await pilot.press("ctrl+c")
    return text


async def test_the_saturation_warning_names_the_shard() -> None:
    text = await _progress_text(one_stalled_shard())
    assert "⚠ generator saturated" in text and "shard 1: loop lag p99 25.0ms" in text
    assert "shard 0" not in text


async def test_two_calm_shards_raise_no_warning() -> None:
    text = await _progress_text(two_calm_halves())
    assert "saturated" not in text
    assert "generator CPU 50% · loop lag p99 0.3ms (highest of 2 shards)" in text
