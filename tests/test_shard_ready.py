"""``--workers``: the shards start on a ready handshake, at one epoch picked once
every shard is ready, so a slow-starting shard delays the start instead of
losing the run's first seconds (a fixed start 1.5 s ahead did: 64 workers on 2
cores sent nothing in a 1 s run)."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Sequence

import anyio
import pytest

from engine.config import RunConfig, build_config
from engine.errors import EXIT_SHARD_LOST
from engine.metrics.stats import Snapshot, Stats
from engine.run.runner import RunResult
from engine.run.sinks import CallbackSink, Sink
from engine.shards.coordinator import Coordinator, ShardLost
from engine.shards.gate import StartGate
from engine.shards.worker import ProcessRunner, WorkerError
from tests.helpers import get_json, target_process
from tests.test_engine_live import assert_counts_agree
from tests.test_interrupts import CMD, _has_child, _wait_for

pytestmark = pytest.mark.anyio

SLOW_START_S = 3.0
"""A shard's late start-up, twice the old fixed start delay (1.5 s)."""


class _SlowStart(ProcessRunner):
    """A real process shard whose process starts :data:`SLOW_START_S` late, as
    one of 64 on 2 cores (or behind a slow disk) does."""

    async def run(self) -> RunResult:
        await anyio.sleep(SLOW_START_S)
        return await super().run()


def _by_shard(deltas: Sequence[Snapshot]) -> dict[int, list[Snapshot]]:
    """Each shard's deltas (a shard's delta carries its own health only)."""
    out: dict[int, list[Snapshot]] = {}
    for d in deltas:
        (shard,) = d.health
        out.setdefault(shard, []).append(d)
    return out


async def test_a_slow_shard_delays_the_common_start_and_loses_no_second() -> None:
    """Shard 1 starts 3 s late: the epoch is picked after it is ready, and it
    sends in the run's first second like shard 0 (with the start fixed 1.5 s
    ahead, its load began about 2 s into a 2 s run)."""

    def factory(cfg: RunConfig, i: int, gate: StartGate, sinks: Sequence[Sink]) -> ProcessRunner:
        kind = _SlowStart if i == 1 else ProcessRunner
        return kind(cfg, sinks=sinks, shard=i, gate=gate)

    with target_process() as url:
        cfg = build_config(
            {"target": url, "vus": "2", "duration": "2s", "think": "0", "workers": "2"}
        )
        deltas: list[Snapshot] = []
        coordinator = Coordinator(cfg, sinks=[CallbackSink(deltas.append)], shard_factory=factory)
        result = await coordinator.run()
        stats = get_json(url + "/stats")
    gate = coordinator.gate
    assert gate is not None and gate.epoch is not None and set(gate.ready_at) == {0, 1}
    assert gate.epoch >= max(gate.ready_at.values())  # picked after the last ready
    shards = _by_shard(deltas)
    assert set(shards) == {0, 1}
    for i, own in shards.items():
        assert all(d.start >= 0 for d in own)  # nothing before the epoch
        first_second = sum(d.total for d in own if d.start < 1.0)
        assert first_second > 0, (i, [(d.start, d.end, d.total) for d in own])
    assert not result.stopped and result.total.errors == 0
    assert_counts_agree(result.total, stats)


async def test_eight_workers_all_send_and_agree_with_the_targets_counts() -> None:
    """``--workers 8 --vus 8 --duration 1s``: every shard sends (8 processes on
    2 cores may take longer to start than the old 1.5 s start delay)."""
    with target_process() as url:
        cfg = build_config(
            {"target": url, "vus": "8", "duration": "1s", "think": "0", "workers": "8"}
        )
        deltas: list[Snapshot] = []
        result = await Coordinator(cfg, sinks=[CallbackSink(deltas.append)]).run()
        stats = get_json(url + "/stats")
    sent = {i: sum(d.total for d in own) for i, own in _by_shard(deltas).items()}
    assert sorted(sent) == list(range(8)) and all(n > 0 for n in sent.values()), sent
    assert sum(sent.values()) == result.total.total
    assert set(result.total.health) == set(range(8))
    assert not result.stopped and result.total.errors == 0
    assert_counts_agree(result.total, stats)


class _Fake:
    """A shard with no process: says ready (unless ``never``), then sends one
    delta; stopped, it ends at once with nothing sent."""

    def __init__(self, config: RunConfig, shard: int, gate: StartGate, sinks: Sequence[Sink]):
        self.config, self.shard, self.gate, self.sinks = config, shard, gate, sinks
        self.never = False
        self.epoch: float | None = None
        self.stopped = anyio.Event()

    @property
    def where(self) -> str:
        return f"fake {self.shard}"

    def stop(self) -> None:
        self.stopped.set()

    async def run(self) -> RunResult:
        stats = Stats(shard=self.shard)
        if self.never:
            await self.stopped.wait()
        else:
            self.epoch = await self.gate.ready(self.shard)
        if self.epoch is not None:
            stats.record_response(0, 202, 1000)
        delta = stats.take(1.0)
        for sink in self.sinks:
            sink.on_snapshot(delta)
        return RunResult(self.config, self.config.target, delta, 1.0, self.epoch is None)


async def _no_preflight(url: str) -> None:
    pass


async def test_a_shard_never_ready_is_lost_and_nobody_starts() -> None:
    made: list[_Fake] = []

    def factory(cfg: RunConfig, i: int, gate: StartGate, sinks: Sequence[Sink]) -> _Fake:
        made.append(_Fake(cfg, i, gate, sinks))
        made[-1].never = i == 1
        return made[-1]

    cfg = build_config({"target": "http://127.0.0.1:1", "vus": "3", "workers": "3"})
    coordinator = Coordinator(
        cfg, shard_factory=factory, preflight=_no_preflight, ready_timeout=0.5
    )
    with anyio.fail_after(30), pytest.raises(ShardLost) as err:  # a bound, not a timing check
        await coordinator.run()
    assert str(err.value) == "shard 1 of 3 (fake 1) was not ready after 0.5 s"
    assert err.value.exit_code == EXIT_SHARD_LOST
    assert all(s.stopped.is_set() for s in made)  # the others were stopped
    assert all(s.epoch is None for s in made)  # and none of them started its load
    assert err.value.partial is not None and err.value.partial.total.total == 0


class _DiesOfTheStop(_Fake):
    """A shard whose process the terminal's Ctrl+C killed as it was spawned."""

    async def run(self) -> RunResult:
        await self.stopped.wait()
        raise WorkerError("the engine process ended without a result (killed by SIGINT)")


async def test_a_shard_killed_by_the_stop_before_the_start_is_not_lost() -> None:
    """Stopped before the common start, the run is interrupted (exit 130), not
    lost (exit 6), even if a shard died of the same Ctrl+C."""

    def factory(cfg: RunConfig, i: int, gate: StartGate, sinks: Sequence[Sink]) -> _Fake:
        shard = (_DiesOfTheStop if i == 1 else _Fake)(cfg, i, gate, sinks)
        shard.never = True
        return shard

    cfg = build_config({"target": "http://127.0.0.1:1", "vus": "2", "workers": "2"})
    coordinator = Coordinator(cfg, shard_factory=factory, preflight=_no_preflight)
    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:

            async def stop() -> None:
                await anyio.wait_all_tasks_blocked()
                coordinator.stop()

            tg.start_soon(stop)
            result = await coordinator.run()
    assert result.stopped and result.total.total == 0


async def test_a_stop_while_shards_wait_for_each_other_ends_the_run() -> None:
    """A real process waits for its go while shard 1 is not ready; the stop
    (Ctrl+C) ends the run at once, with nothing sent and the process gone."""
    made: list[ProcessRunner | _Fake] = []

    def factory(
        cfg: RunConfig, i: int, gate: StartGate, sinks: Sequence[Sink]
    ) -> ProcessRunner | _Fake:
        if i == 0:
            made.append(ProcessRunner(cfg, sinks=sinks, shard=i, gate=gate))
        else:
            fake = _Fake(cfg, i, gate, sinks)
            fake.never = True
            made.append(fake)
        return made[-1]

    with target_process() as url:
        cfg = build_config({"target": url, "vus": "2", "duration": "0", "workers": "2"})
        coordinator = Coordinator(cfg, shard_factory=factory)

        async def stop_once_shard_0_waits() -> None:
            # the gate is made inside run(): polled, bounded by the fail_after below
            while coordinator.gate is None or 0 not in coordinator.gate.ready_at:  # noqa: ASYNC110
                await anyio.sleep(0.01)
            coordinator.stop()

        with anyio.fail_after(30):  # a bound: an unbounded run that must not hang
            async with anyio.create_task_group() as tg:
                tg.start_soon(stop_once_shard_0_waits)
                result = await coordinator.run()
        stats = get_json(url + "/stats")
    assert result.stopped and result.total.total == 0
    assert coordinator.gate is not None and coordinator.gate.epoch is None
    assert sum(stats["received"]["orders"].values()) == 0
    shard = made[0]
    assert isinstance(shard, ProcessRunner) and shard.pid is not None
    with pytest.raises(ProcessLookupError):
        os.kill(shard.pid, 0)  # the process ended (and was reaped)


def test_ctrl_c_while_the_shards_start_exits_130_at_once() -> None:
    """The terminal's Ctrl+C as soon as the first shard process exists (4 shards
    on 2 cores are still starting then): exit 130, no traceback, no hang."""
    with target_process() as url:
        proc = subprocess.Popen(
            [*CMD, "--no-ui", "--target", url, "--workers", "4", "--vus", "4", "--duration", "1m"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own process group, like a terminal's job
        )
        try:
            _wait_for(lambda: _has_child(proc.pid), proc)
            assert proc.poll() is None, proc.communicate()
            os.killpg(proc.pid, signal.SIGINT)
            stdout, stderr = proc.communicate(timeout=30)  # a bound: a hang fails
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == 130, (stdout, stderr)
    assert "Traceback" not in stderr and "webhookload-tui: shard" not in stderr, stderr
