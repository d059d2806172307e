"""``--stages`` with ``--workers``: every stage's target shared out like VUs and
rates, one common start, so the merged run follows the asked ramp."""

from __future__ import annotations

import io
import math
import random
import re

import pytest

from engine.config import ConfigError, build_config
from engine.domain.stages import format_stages, parse_stages, target_at, vu_changes
from engine.metrics.stats import Snapshot
from engine.run.builtin_target import builtin_target
from engine.run.sinks import CallbackSink
from engine.shards.coordinator import Coordinator
from engine.shards.plan import split_stages
from tests.helpers import get_json
from tests.test_engine_live import assert_counts_agree
from tui.headless import ProgressLine

URL = "http://127.0.0.1:1"


def _targets(text: str) -> list[float]:
    return [s.target for s in parse_stages(text)]


def test_whole_vu_stage_plans_add_up_at_every_boundary() -> None:
    rng = random.Random(4)
    for n in range(1, 65):
        asked = [0, 1, n - 1, n, n + 1, 7, 3000, rng.randrange(10**6)]
        text = ",".join(f"{k + 1}s:{v}" for k, v in enumerate(asked))
        shards = split_stages(text, n, whole=True)
        assert len(shards) == n
        per_shard = [_targets(t) for t in shards]
        for k, want in enumerate(asked):
            got = [t[k] for t in per_shard]
            assert all(g == int(g) >= 0 for g in got)
            assert sum(int(g) for g in got) == want, (n, k, got)
            assert max(got) - min(got) <= 1
        # every shard keeps every stage's duration: one ramp, one length
        assert {tuple(s.duration for s in parse_stages(t)) for t in shards} == {
            tuple(float(k + 1) for k in range(len(asked)))
        }


def test_fractional_rate_stage_plans_add_up_exactly() -> None:
    rng = random.Random(5)
    for n in range(1, 65):
        asked = [0.1, 1 / 3, 2.5, 0.0, 5000.0, rng.uniform(0, 10**4), 123456.789]
        text = ",".join(f"500ms:{v!r}" for v in asked)
        per_shard = [_targets(t) for t in split_stages(text, n, whole=False)]
        for k, want in enumerate(asked):
            assert math.fsum(t[k] for t in per_shard) == want, (n, k)


def test_the_canonical_stages_text_keeps_every_digit() -> None:
    # ':g' wrote 1234567 as 1.23457e+06: a ramp to 1,234,570 VUs
    assert build_config({"stages": "1s:1234567"}).stages == "1s:1234567"
    rate = build_config({"stages": "1s:0.123456789", "rate": "1"})
    assert parse_stages(rate.stages)[0].target == 0.123456789
    assert format_stages(parse_stages("30s:10,1s:2.5")) == "30s:10,1s:2.5"


def test_shard_configs_split_the_start_and_every_stage() -> None:
    cfg = build_config({"target": URL, "vus": "3", "stages": "1s:10,2s:5,1s:0", "workers": "4"})
    shards = Coordinator(cfg).shard_configs(URL)
    assert [s.vus for s in shards] == [0, 1, 1, 1]  # the start, --vus 3
    assert [_targets(s.stages) for s in shards] == [
        [2, 1, 0],
        [3, 1, 0],
        [2, 1, 0],
        [3, 2, 0],
    ]
    assert {s.duration for s in shards} == {4.0} and {s.workers for s in shards} == {1}
    # the merged VU target follows the asked ramp at every boundary and in between
    # within the shards' rounding (each shard's line is floored on its own)
    stages = parse_stages(cfg.stages)
    for t in (0.0, 0.5, 1.0, 1.7, 3.0, 3.5):
        want = target_at(stages, 3.0, t)[1]
        got = sum(target_at(parse_stages(s.stages), float(s.vus), t)[1] for s in shards)
        assert got == pytest.approx(want, abs=1e-9)
    changes = [vu_changes(parse_stages(s.stages), s.vus) for s in shards]
    assert sum(c[-1][1] for c in changes if c) == 0  # all parked at the end


def test_rate_stages_are_split_from_the_rates_share() -> None:
    cfg = build_config({"target": URL, "rate": "7.5", "stages": "1s:10.5,1s:0.3", "workers": "3"})
    shards = Coordinator(cfg).shard_configs(URL)
    assert math.fsum(s.rate for s in shards) == 7.5 and all(s.rate > 0 for s in shards)
    assert math.fsum(_targets(s.stages)[0] for s in shards) == 10.5
    assert math.fsum(_targets(s.stages)[1] for s in shards) == 0.3


def test_workers_with_stages_need_a_vu_per_shard_at_the_peak() -> None:
    assert build_config({"stages": "1s:2,1s:0", "workers": "2"}).workers == 2
    with pytest.raises(
        ConfigError, match=r"--workers must be at most the peak VUs of --stages \(2\)"
    ):
        build_config({"stages": "1s:2,1s:0", "workers": "3"})
    assert build_config({"stages": "1s:0.5", "rate": "1", "workers": "4"}).workers == 4


@pytest.mark.anyio
async def test_a_staged_two_worker_run_agrees_with_the_targets_counts() -> None:
    """Real shard processes ramping against the builtin target: the merged
    counts equal what it received, both shards ran, and the headless progress
    line shows the current stage of the merged run."""
    async with builtin_target() as url:  # what --target builtin starts
        cfg = build_config(
            {"target": url, "stages": "500ms:4,1s:4", "think": "0", "workers": "2", "seed": "9"}
        )
        deltas: list[Snapshot] = []
        progress = ProgressLine(io.StringIO(), cfg.duration, live=False, config=cfg)
        coordinator = Coordinator(cfg, sinks=[CallbackSink(deltas.append), progress])
        assert [_targets(s.stages) for s in coordinator.shard_configs(url)] == [[2, 2], [2, 2]]
        result = await coordinator.run()
        stats = get_json(url + "/stats")
    total = result.total
    assert total.total > 20 and total.errors == 0
    assert_counts_agree(total, stats)
    assert set(total.health) == {0, 1}
    assert sum(d.total for d in deltas) == total.total
    assert "stage 2/2, target 4 VUs" in progress.render()


def test_the_ray_backend_splits_stages_on_the_same_path() -> None:
    pytest.importorskip("ray")
    from engine.shards.ray_backend import RayCoordinator

    cfg = build_config(
        {"target": URL, "stages": "1s:5,1s:1", "workers": "2", "backend": "ray", "seed": "3"}
    )
    ray_shards = RayCoordinator(cfg).shard_configs(URL)
    assert [_targets(s.stages) for s in ray_shards] == [[2, 0], [3, 1]]
    assert ray_shards == Coordinator(cfg).shard_configs(URL)


@pytest.mark.anyio
async def test_the_tui_shows_the_stage_of_a_staged_two_worker_run() -> None:
    from tests.test_tui_pilot import SIZE, wait_for
    from tui.app import WebhookLoadApp
    from tui.widgets.panels import ProgressPanel

    cfg = build_config(
        {
            "target": "builtin",
            "workers": "2",
            "vus": "2",  # the form refuses 0 VUs, a staged run's default start
            "stages": "1s:2,2s:4",
            "think": "0",
            "seed": "2",
        }
    )
    app = WebhookLoadApp(cfg, autostart=True)
    seen: list[str] = []

    def stage_shown() -> bool:
        text = app.query_one(ProgressPanel).plain
        seen.extend(re.findall(r"stage \d/2, target \d+ VUs", text))
        return app.state == "finished" or app.failure is not None

    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, stage_shown, 60)
        assert app.failure is None, app.failure
        assert app.result is not None and set(app.result.total.health) == {0, 1}
        await pilot.press("q")
    assert seen and all(s.startswith(("stage 1/2", "stage 2/2")) for s in seen), seen
