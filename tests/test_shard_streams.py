"""Shards never repeat each other, and share one time base.

Random streams derive from (seed, shard, VU): shard 0's are exactly those of a
run before shards (so ``--seed`` repeats its choices), the others differ. Every
shard stamps its snapshots from the coordinator's ``epoch``, so merged windows
and timelines line up. The runner is driven through a recording transport (the
choices are the point, not the socket); a loopback listener answers preflight.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import anyio
import anyio.abc
import anyio.lowlevel
import pytest

from engine.config import RunConfig, build_config
from engine.metrics.saturation import judge
from engine.metrics.stats import Snapshot, Stats, merge_all
from engine.run.runner import Runner, RunResult
from engine.run.sinks import CallbackSink, Phase
from engine.run.verify import OrderSample, sample_rng
from engine.scenario.flow_tables import FlowRun
from engine.scenario.flows import FlowWalker
from engine.scenario.rng import vu_rng
from engine.scenario.select import compiled_for
from engine.transports import Transport

pytestmark = pytest.mark.anyio
SEED = 42
STATUS = re.compile(rb'"status":"([a-z_]+)"')
Post = tuple[str, str]  # ("orders" | "chargebacks", status)


def planner(read_ratio: float = 0.0) -> FlowWalker:
    """The default run's walker (the built-in ``ingest``), to plan with only."""
    cfg = RunConfig(read_ratio=read_ratio)
    scenario = compiled_for(cfg)
    return FlowWalker(
        transport=RecordingTransport(0, lambda: None),
        stats=Stats(endpoints=scenario.endpoints),
        scenario=scenario,
        target="http://127.0.0.1:9",
        think=0.0,
        now=time.perf_counter,
        sleep=anyio.sleep,
        read_ratio=read_ratio,
    )


def _sends(run: FlowRun) -> list[tuple[str, str, bool]]:
    """A planned flow run's (flow, state, read back), its children's after it."""
    out = [(run.flow.flow.name, s.state.name, run.read_back) for s in run.steps]
    for child in run.children:
        out += _sends(child)
    return out


def draws(rng: random.Random, n: int = 30) -> list[object]:
    walker = planner(read_ratio=0.1)
    return [_sends(walker.plan(rng).root) for _ in range(n)]


def test_shard_zero_keeps_the_streams_of_a_run_without_shards() -> None:
    for vu in range(5):
        assert draws(vu_rng(SEED, 0, vu)) == draws(random.Random(f"{SEED}:{vu}"))
    assert draws(vu_rng(SEED, 0, 1)) == draws(vu_rng(SEED, 0, 1))


def test_shards_never_repeat_each_other() -> None:
    firsts = {
        (shard, vu): vu_rng(SEED, shard, vu).getrandbits(64)
        for shard in range(8)
        for vu in range(64)
    }
    assert len(set(firsts.values())) == len(firsts)
    assert draws(vu_rng(SEED, 1, 0)) != draws(vu_rng(SEED, 0, 0))
    assert draws(vu_rng(SEED, 3, 5)) == draws(vu_rng(SEED, 3, 5))  # still reproducible
    # without a seed every stream is fresh
    assert vu_rng(None, 0, 0).getrandbits(64) != vu_rng(None, 0, 0).getrandbits(64)


def test_each_shard_samples_its_own_orders_for_verify() -> None:
    assert sample_rng(SEED, 0).random() == random.Random(SEED).random()

    def kept(shard: int) -> list[tuple[str, str]]:
        sample = OrderSample(5, sample_rng(SEED, shard))
        for i in range(500):
            sample.offer(str(i), "success")
        return sample.items

    assert kept(0) == kept(0)
    assert len({tuple(kept(s)) for s in range(4)}) == 4


class _PhaseFlag:
    """Sets an event when the run says it is loading."""

    def __init__(self, event: anyio.Event) -> None:
        self.event = event

    def on_snapshot(self, delta: Snapshot) -> None:
        pass

    def on_phase(self, phase: Phase) -> None:
        self.event.set()


class RecordingTransport:
    """Answers 202 at once (after a checkpoint) and records what was posted;
    calls ``full`` once ``limit`` posts are in."""

    def __init__(self, limit: int, full: Callable[[], None]) -> None:
        self.posts: list[Post] = []
        self._limit = limit
        self._full = full

    async def post(
        self, url: str, body: bytes, *args: object, **kwargs: object
    ) -> tuple[int, float, bytes]:
        await anyio.lowlevel.checkpoint()
        m = STATUS.search(body)
        assert m is not None, body
        kind = "chargebacks" if url.endswith("/chargebacks") else "orders"
        self.posts.append((kind, m[1].decode()))
        if len(self.posts) == self._limit:
            self._full()
        return 202, time.perf_counter(), b""

    async def get(self, url: str, *args: object, **kwargs: object) -> tuple[int, float, bytes]:
        await anyio.lowlevel.checkpoint()
        return 200, time.perf_counter(), b""

    async def aclose(self) -> None:
        pass


@asynccontextmanager
async def listening() -> AsyncIterator[str]:
    """A loopback port that accepts and closes: enough for the preflight check."""
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)

    async def close(stream: anyio.abc.SocketStream) -> None:
        await stream.aclose()

    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, close)
        yield f"http://127.0.0.1:{port}"
        tg.cancel_scope.cancel()


def config(url: str) -> RunConfig:
    raw = {"target": url, "vus": "1", "duration": "0", "think": "0", "seed": str(SEED)}
    return build_config(raw)


async def recorded_run(
    url: str, limit: int = 40, **kwargs: object
) -> tuple[list[Post], list[Snapshot], RunResult]:
    """One VU until ``limit`` posts: what it sent, its deltas and its result."""
    deltas: list[Snapshot] = []
    transports: list[RecordingTransport] = []
    runner: Runner

    def factory(_: RunConfig) -> Transport:
        transports.append(RecordingTransport(limit, runner.stop))
        return transports[0]

    runner = Runner(
        config(url),
        sinks=[CallbackSink(deltas.append)],
        transport_factory=factory,
        **kwargs,  # type: ignore[arg-type]
    )
    result = await runner.run()
    return transports[0].posts[:limit], deltas, result


def expected_posts(rng: random.Random, n: int) -> list[Post]:
    """What a VU with ``rng`` sends, every step accepted, default ratios: the
    journeys the default run's walker plans from that stream (the events'
    values draw nothing from it in ``ingest``), each state's word as ``status``."""
    walker = planner()
    out: list[Post] = []
    while len(out) < n:
        run = walker.plan(rng).root
        out += [("orders", s.state.word) for s in run.steps]
        for child in run.children:
            out += [("chargebacks", s.state.word) for s in child.steps]
    return out[:n]


async def test_the_runner_sends_its_shards_choices() -> None:
    async with listening() as url:
        shard0, _, _ = await recorded_run(url)
        shard1, _, _ = await recorded_run(url, shard=1)
    assert shard0 == expected_posts(random.Random(f"{SEED}:0"), 40)  # as before shards
    assert shard1 == expected_posts(vu_rng(SEED, 1, 0), 40)
    assert shard0 != shard1


async def test_snapshots_are_stamped_from_the_common_epoch() -> None:
    """The coordinator's zero was 5 s ago: every delta of every shard lies after
    it, health stays per shard, and the merged run spans [5 s, ...)."""
    epoch = time.time() - 5.0
    async with listening() as url:
        posts: dict[int, list[Post]] = {}
        deltas: list[Snapshot] = []

        async def shard(i: int) -> None:
            sent, ds, result = await recorded_run(url, limit=30, shard=i, epoch=epoch)
            posts[i] = sent
            deltas.extend(ds)
            assert result.elapsed >= 5.0

        async with anyio.create_task_group() as tg:
            tg.start_soon(shard, 0)
            tg.start_soon(shard, 1)
    assert all(d.start >= 5.0 for d in deltas)
    total = merge_all(deltas)
    assert total.start >= 5.0 and total.total == 60
    assert set(total.health) == {0, 1}
    assert [s.shard for s in judge(total).shards] == [0, 1]
    assert posts[0] != posts[1]


async def test_without_an_epoch_the_zero_is_the_runners_start() -> None:
    async with listening() as url:
        _, deltas, _ = await recorded_run(url, limit=10)
    assert deltas[0].start == 0.0


async def test_a_stop_cuts_short_the_wait_for_a_future_epoch() -> None:
    """Shards wait for a zero that lies ahead; a stop (Ctrl+C) must not wait with them."""
    async with listening() as url:
        loading = anyio.Event()
        runner = Runner(config(url), epoch=time.time() + 600, sinks=[_PhaseFlag(loading)])
        results: list[RunResult] = []

        async def run() -> None:
            results.append(await runner.run())

        async with anyio.create_task_group() as tg:
            tg.start_soon(run)
            await loading.wait()
            await anyio.sleep(0.05)  # the runner is in its wait by now
            runner.stop()
    assert results[0].stopped and results[0].total.total == 0
