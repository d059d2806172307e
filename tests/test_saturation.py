"""The generator watches itself: loop lag and CPU, and the verdict on them."""

from __future__ import annotations

import time

import anyio
import anyio.lowlevel
import pytest

from engine.metrics.health import ShardHealth
from engine.metrics.histogram import bucket_index
from engine.metrics.saturation import judge, sample_loop_lag
from engine.metrics.stats import Snapshot, Stats


def lag_hist(values_us: list[int]) -> dict[int, int]:
    h: dict[int, int] = {}
    for v in values_us:
        h[bucket_index(v)] = h.get(bucket_index(v), 0) + 1
    return h


def over_10s(lag: dict[int, int], cpu_s: float, shard: int = 0) -> Snapshot:
    """A 10 s snapshot of one shard's health."""
    health = ShardHealth(lag, cpu_us=round(cpu_s * 1e6), span_us=10_000_000)
    return Snapshot(start=0, end=10, health={shard: health})


def test_verdicts() -> None:
    calm = over_10s(lag_hist([200] * 100), cpu_s=3.0)
    laggy = over_10s(lag_hist([200] * 90 + [25_000] * 10), cpu_s=3.0)
    busy = over_10s(lag_hist([200] * 100), cpu_s=9.5)
    assert not judge(calm).saturated
    assert judge(calm).cpu_pct == pytest.approx(30.0)
    assert judge(laggy).saturated and judge(laggy).loop_lag_p99_ms == pytest.approx(25, rel=0.01)
    assert judge(busy).saturated and judge(busy).cpu_pct == pytest.approx(95.0)
    empty = judge(Snapshot())
    assert not empty.saturated and empty.cpu_pct is None and empty.loop_lag_p99_ms is None


@pytest.mark.anyio
async def test_monitor_flags_an_artificially_blocked_loop() -> None:
    stats = Stats()

    async def blocker() -> None:
        for _ in range(15):
            time.sleep(0.03)  # noqa: ASYNC251 - the point: a hog that never yields for 30 ms
            await anyio.lowlevel.checkpoint()

    t0 = time.perf_counter()
    async with anyio.create_task_group() as tg:
        tg.start_soon(sample_loop_lag, lambda: stats, time.perf_counter, 0.005)
        await blocker()
        tg.cancel_scope.cancel()
    delta = stats.take(time.perf_counter() - t0)
    verdict = judge(delta)
    assert verdict.saturated
    assert verdict.loop_lag_p99_ms is not None and verdict.loop_lag_p99_ms > 10


@pytest.mark.anyio
async def test_monitor_samples_steadily() -> None:
    """About one sample per interval (no verdict asserted: a busy CI machine may lag)."""
    stats = Stats()
    t0 = time.perf_counter()
    async with anyio.create_task_group() as tg:
        tg.start_soon(sample_loop_lag, lambda: stats, time.perf_counter, 0.005)
        await anyio.sleep(0.3)
        tg.cancel_scope.cancel()
    delta = stats.take(time.perf_counter() - t0)
    assert sum(delta.loop_lag.values()) >= 10
