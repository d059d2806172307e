"""Shards run their part of the whole run's load at EVERY moment (not only at
stage boundaries): VU counts add up to the one-worker count, and the merged
arrival schedule is the one-worker schedule."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator

import anyio
import pytest

from engine.config import build_config
from engine.domain.stages import (
    arrival_offsets,
    constant_offsets,
    parse_stages,
    shard_arrival_offsets,
    shard_vu_changes,
    total_duration,
    vu_changes,
)
from engine.load.clock import FakeClock
from engine.load.closed import ClosedModel
from engine.shards.coordinator import Coordinator
from tests.helpers import target_process

pytestmark = pytest.mark.anyio

STAGES = ["3s:4,1s:4", "4s:2,1s:2", "2s:7,3s:0,1s:5", "1s:13,2s:13,1s:1", "5s:3"]
STARTS = [0, 1, 6]


def _model(vus: int, changes: list[tuple[float, int]]) -> ClosedModel:
    return ClosedModel(vus, 0.0, lambda _: random.Random(0), changes)


@pytest.mark.parametrize("text", STAGES)
@pytest.mark.parametrize("start", STARTS)
async def test_shard_vu_counts_add_up_to_the_one_worker_count_at_every_instant(
    text: str, start: int
) -> None:
    stages = parse_stages(text)
    changes = vu_changes(stages, start)
    times = sorted({t for t, _ in changes} | {0.0, total_duration(stages)})
    # between every two change times, and at random instants (never on a change time)
    rng = random.Random(7)
    probes = sorted(
        {(a + b) / 2 for a, b in itertools.pairwise(times)}
        | {t + 1e-6 for t in times}
        | {rng.uniform(0, total_duration(stages) + 1) for _ in range(40)}
    )
    for n in range(1, 9):
        whole = _model(start, changes)
        parts = [_model(*shard_vu_changes(stages, start, i, n)) for i in range(n)]
        seen = await _sample(whole, parts, probes)
        assert len(seen) == len(probes)
        for at, one, summed in seen:
            assert summed == one, (n, at)
        assert any(one > 0 for _, one, _ in seen)


async def _sample(
    whole: ClosedModel, parts: list[ClosedModel], probes: list[float]
) -> list[tuple[float, int, int]]:
    """(instant, one-worker target, the shards' summed targets) on virtual time."""
    seen: list[tuple[float, int, int]] = []
    async with FakeClock() as clock:

        async def probe() -> None:
            t0 = clock.now()
            for at in probes:
                await clock.sleep(t0 + at - clock.now())
                seen.append((at, whole.target, sum(p.target for p in parts)))

        async with anyio.create_task_group() as tg:
            for m in [whole, *parts]:
                tg.start_soon(m._ramp, clock)
            tg.start_soon(probe)
    return seen


def _bounded(offsets: Iterator[float], end: float) -> list[float]:
    out = []
    for x in offsets:
        if x >= end:
            break
        out.append(x)
    return out


@pytest.mark.parametrize(
    ("rate", "text", "end"),
    [(0.5, "", 1.0), (7.0, "", 3.0), (100.0, "2s:200,2s:0", 4.0), (3.0, "1s:0,2s:5", 3.0)],
)
def test_merged_shard_arrivals_are_the_one_worker_arrivals(
    rate: float, text: str, end: float
) -> None:
    stages = parse_stages(text) if text else ()

    def every() -> Iterator[float]:
        return arrival_offsets(stages, rate) if stages else constant_offsets(rate)

    one = _bounded(every(), end)
    for n in range(1, 9):
        parts = [_bounded(shard_arrival_offsets(every(), i, n), end) for i in range(n)]
        assert sorted(x for p in parts for x in p) == one, n


async def test_half_an_arrival_per_second_on_two_workers_starts_one_journey() -> None:
    """Each shard started its first arrival at t0: 2 journeys where 1 worker starts 1."""
    with target_process() as url:
        cfg = build_config(
            {"target": url, "rate": "0.5", "duration": "1s", "think": "0", "workers": "2"}
        )
        result = await Coordinator(cfg).run()
    assert result.total.arrivals == 1


async def test_a_ramp_to_two_vus_on_two_workers_sends_before_its_end() -> None:
    """Each shard ramped to 1 on its own, reaching it at the end: 0 requests."""
    with target_process() as url:
        cfg = build_config({"target": url, "stages": "1s:2", "think": "0", "workers": "2"})
        result = await Coordinator(cfg).run()
    assert result.total.total > 0
