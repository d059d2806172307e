"""``--workers N``: shards in processes, merged by the coordinator into one run."""

from __future__ import annotations

import os
import signal
from collections.abc import Sequence

import anyio
import pytest

from engine.config import ConfigError, RunConfig, build_config
from engine.errors import EXIT_SHARD_LOST
from engine.metrics.stats import Snapshot, Stats
from engine.outputs.summary import result_json
from engine.run.runner import RunResult
from engine.run.sinks import CallbackSink, Sink
from engine.shards.coordinator import Coordinator, ShardLost
from engine.shards.gate import StartGate
from engine.shards.runners import make_runner
from engine.shards.worker import ProcessRunner
from tests.helpers import get_json, target_process, when_shards_send
from tests.test_engine_live import assert_counts_agree
from tui import headless

pytestmark = pytest.mark.anyio


async def test_two_worker_shards_agree_with_the_targets_own_counts() -> None:
    """Merged counts equal what the target received; distinct streams, so no
    invalid event sequence (no 4xx); VUs split exactly; one time base."""
    with target_process() as url:
        cfg = build_config(
            {
                "target": url,
                "vus": "5",
                "duration": "1500ms",
                "think": "0",
                "workers": "2",
                "dispute_ratio": "0.5",
            }
        )
        deltas: list[Snapshot] = []
        coordinator = Coordinator(cfg, sinks=[CallbackSink(deltas.append)])
        assert [c.vus for c in coordinator.shard_configs(url)] == [2, 3]
        result = await coordinator.run()
        stats = get_json(url + "/stats")
    total = result.total
    assert total.total > 50 and total.errors == 0
    assert_counts_agree(total, stats)
    assert set(total.health) == {0, 1}  # both shards ran, kept apart
    assert sum(d.total for d in deltas) == total.total
    assert not result.stopped and result.config.workers == 2
    # where each shard ran: in the result, and in the JSON's generator.shards
    pids = [s.pid for s in coordinator.shards if isinstance(s, ProcessRunner)]
    assert len(pids) == 2 and result.where == tuple(f"pid {p}" for p in pids)
    shards = result_json(result)["generator"]["shards"]
    assert [(s["shard"], s["where"]) for s in shards] == [
        (0, f"pid {pids[0]}"),
        (1, f"pid {pids[1]}"),
    ]


class _FakeShard:
    """Records its settings, says ready, sends one delta and a result: no process."""

    def __init__(
        self, config: RunConfig, shard: int, gate: StartGate, sinks: Sequence[Sink]
    ) -> None:
        self.config, self.shard, self.gate, self.sinks = config, shard, gate, sinks
        self.epoch: float | None = None
        self.stopped = False

    @property
    def where(self) -> str:
        return f"fake {self.shard}"

    async def run(self) -> RunResult:
        self.epoch = await self.gate.ready(self.shard)
        stats = Stats(shard=self.shard)
        for _ in range(self.config.vus):
            stats.record_response(0, 202, 1000 * (self.shard + 1))
        delta = stats.take(1.0)
        for sink in self.sinks:
            sink.on_snapshot(delta)
        return RunResult(self.config, self.config.target, delta, 1.0, False)

    def stop(self) -> None:
        self.stopped = True


async def test_one_builtin_target_for_every_shard_and_histograms_add() -> None:
    made: list[_FakeShard] = []

    def factory(cfg: RunConfig, i: int, gate: StartGate, sinks: Sequence[Sink]) -> _FakeShard:
        made.append(_FakeShard(cfg, i, gate, sinks))
        return made[-1]

    cfg = build_config({"target": "builtin", "vus": "7", "workers": "3", "verify": "10"})
    result = await Coordinator(cfg, shard_factory=factory).run()
    urls = {s.config.target for s in made}
    assert len(urls) == 1 and urls != {"builtin"}  # the coordinator's one target
    assert result.target_url in urls and result.config.target == "builtin"
    assert [s.config.vus for s in made] == [2, 2, 3]
    assert [s.config.verify for s in made] == [3, 3, 4]
    assert len({s.epoch for s in made}) == 1 and len({s.config.seed for s in made}) == 1
    assert made[0].epoch is not None
    # exact percentiles across shards: the merged histogram holds every sample
    assert result.total.total == 7 and sum(result.total.latency.values()) == 7
    assert result.total.latency_max_us == 3000


async def test_a_killed_shard_is_named_and_the_run_ends_with_a_partial_result() -> None:
    with target_process() as url:
        cfg = build_config({"target": url, "vus": "4", "duration": "0", "workers": "2"})
        sink, both = when_shards_send(0, 1)
        coordinator = Coordinator(cfg, sinks=[sink])

        async def kill_shard_1() -> None:
            await both.wait()  # both shards are sending (bounded by the test timeout)
            shard = coordinator.shards[1]
            assert isinstance(shard, ProcessRunner) and shard.pid is not None
            os.kill(shard.pid, signal.SIGKILL)

        async with anyio.create_task_group() as tg:
            tg.start_soon(kill_shard_1)
            with pytest.raises(ShardLost) as err:
                await coordinator.run()
    shard = coordinator.shards[1]
    assert isinstance(shard, ProcessRunner)
    text = str(err.value)
    assert f"shard 1 of 2 (pid {shard.pid})" in text and "killed by SIGKILL" in text
    assert err.value.exit_code == EXIT_SHARD_LOST
    partial = err.value.partial
    assert partial is not None and partial.stopped and partial.total.total > 0
    assert partial.where[1] == f"pid {shard.pid}"  # the partial JSON says where too
    assert 0 in partial.total.health  # shard 0 was stopped and still counted


def test_workers_flag_values() -> None:
    assert build_config({"workers": "auto"}).workers == (os.cpu_count() or 1)
    assert build_config({"workers": "2", "vus": "2"}).workers == 2
    with pytest.raises(ConfigError, match="--workers must be a positive integer or auto"):
        build_config({"workers": "0"})
    with pytest.raises(ConfigError, match=r"--workers must be at most --vus \(2\)"):
        build_config({"workers": "3", "vus": "2"})


def test_workers_auto_is_one_per_core_but_never_more_than_the_vus(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert build_config({"workers": "auto", "vus": "1"}).workers == 1
    assert build_config({"workers": "auto", "vus": "3"}).workers == 3
    assert build_config({"workers": "auto", "vus": "20"}).workers == 8
    assert build_config({"workers": "auto", "stages": "1s:5,1s:2"}).workers == 5  # the peak
    assert build_config({"workers": "auto", "rate": "2"}).workers == 8  # arrivals: cores


def test_one_worker_runs_in_process_several_under_a_coordinator() -> None:
    assert not isinstance(make_runner(build_config({})), Coordinator)
    assert isinstance(make_runner(build_config({"workers": "2"})), Coordinator)


def test_headless_prints_the_partial_summary_then_names_the_lost_shard(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stats = Stats()
    stats.record_response(0, 202, 1500)
    partial = RunResult(build_config({}), "http://127.0.0.1:1", stats.take(1.0), 1.0, True)

    class _Lost:
        def __init__(self, config: RunConfig, sinks: Sequence[Sink] = ()) -> None:
            self.config = config

        async def run(self) -> RunResult:
            raise ShardLost("shard 1 of 2 (pid 4242) failed: gone", partial)

        def stop(self) -> None:
            pass

    monkeypatch.setattr(headless, "make_runner", _Lost)
    code = headless.run_headless(build_config({"workers": "2", "seed": "1"}))
    out, err = capsys.readouterr()
    assert code == EXIT_SHARD_LOST == 6
    assert "Requests:" in out  # what was measured before the shard died
    assert "webhookload-tui: shard 1 of 2 (pid 4242) failed: gone" in err


def test_the_open_models_rate_and_cap_are_split_across_shards() -> None:
    """--rate and --max-inflight are totals, like --vus: each shard gets its exact share."""
    cfg = build_config(
        {"target": "http://127.0.0.1:1", "rate": "7.5", "max_inflight": "9", "workers": "2"}
    )
    shards = Coordinator(cfg).shard_configs("http://127.0.0.1:1")
    assert sum(s.rate for s in shards) == 7.5
    assert sorted(s.max_inflight for s in shards) == [4, 5]
    assert all(s.workers == 1 for s in shards)
