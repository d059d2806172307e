"""Is the generator itself the bottleneck? Event-loop lag and CPU, judged per shard.

A load generator that cannot keep up reports its own queueing as the
service's latency. Each shard (one engine process, one event loop) samples
how late a short timer fires (loop lag) and its process's CPU time; both
travel in every snapshot delta under the shard's index, so any window can be
judged: a shard is saturated when its loop lag p99 exceeds 10 ms or its CPU
exceeds 90 % of one core (one event loop uses one core). The run is saturated
when any shard is, and the verdict names which: shards' figures never add up
(two shards at 50 % are two healthy processes, not one at 100 %).

A span without a single loop-lag sample (a run stopped within its first
20 ms) is not judged at all: its CPU is the start-up's, not the load's, and
"100 % of a core, SATURATED" from it contradicted the rest of the summary.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import anyio

from engine.metrics.health import ShardHealth
from engine.metrics.histogram import percentiles
from engine.metrics.stats import Snapshot, Stats

LAG_P99_LIMIT_MS = 10.0
CPU_LIMIT_PCT = 90.0
LAG_SAMPLE_S = 0.02
NAMED_SHARDS = 3
"""At most this many saturated shards are named in one line; the JSON has all."""


def _figures(lag_p99_ms: float | None, cpu_pct: float | None) -> str:
    lag = "-" if lag_p99_ms is None else f"{lag_p99_ms:.1f}ms"
    cpu = "-" if cpu_pct is None else f"{cpu_pct:.0f}%"
    return f"loop lag p99 {lag}, CPU {cpu} of a core"


def _highest(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return max(known) if known else None


@dataclass(frozen=True, slots=True)
class ShardSaturation:
    """One shard's verdict and the figures it rests on."""

    shard: int
    saturated: bool
    loop_lag_p99_ms: float | None
    loop_lag_max_ms: float | None
    cpu_pct: float | None

    def describe(self) -> str:
        return _figures(self.loop_lag_p99_ms, self.cpu_pct)

    def as_json(self) -> dict[str, object]:
        return {
            "shard": self.shard,
            "saturated": self.saturated,
            "loop_lag_p99_ms": self.loop_lag_p99_ms,
            "loop_lag_max_ms": self.loop_lag_max_ms,
            "cpu_pct": self.cpu_pct,
        }


@dataclass(frozen=True, slots=True)
class Saturation:
    """The verdict over every shard that reported health, by shard index.

    The run-level figures are the highest of any shard (for one shard, its
    own): a limit is crossed when any shard crosses it."""

    shards: tuple[ShardSaturation, ...] = ()

    @property
    def saturated(self) -> bool:
        return any(s.saturated for s in self.shards)

    @property
    def judged(self) -> bool:
        """Some shard took a loop-lag sample: without one there is no verdict."""
        return any(s.loop_lag_p99_ms is not None for s in self.shards)

    @property
    def hot(self) -> tuple[ShardSaturation, ...]:
        """The saturated shards."""
        return tuple(s for s in self.shards if s.saturated)

    @property
    def loop_lag_p99_ms(self) -> float | None:
        return _highest([s.loop_lag_p99_ms for s in self.shards])

    @property
    def loop_lag_max_ms(self) -> float | None:
        return _highest([s.loop_lag_max_ms for s in self.shards])

    @property
    def cpu_pct(self) -> float | None:
        return _highest([s.cpu_pct for s in self.shards])

    def describe(self) -> str:
        """The figures, as one line: for one shard (or none) just its figures;
        for several, the saturated shards by name, else the highest figures."""
        if len(self.shards) <= 1:
            return _figures(self.loop_lag_p99_ms, self.cpu_pct)
        hot = self.hot
        if not hot:
            highest = _figures(self.loop_lag_p99_ms, self.cpu_pct)
            return f"{highest} (highest of {len(self.shards)} shards)"
        named = "; ".join(f"shard {s.shard}: {s.describe()}" for s in hot[:NAMED_SHARDS])
        more = len(hot) - NAMED_SHARDS
        return f"{named}; and {more} more shards" if more > 0 else named

    def as_json(self) -> dict[str, object]:
        doc: dict[str, object] = {
            "loop_lag_p99_ms": self.loop_lag_p99_ms,
            "loop_lag_max_ms": self.loop_lag_max_ms,
            "cpu_pct": self.cpu_pct,
            "loop_lag_p99_limit_ms": LAG_P99_LIMIT_MS,
            "cpu_limit_pct": CPU_LIMIT_PCT,
        }
        if len(self.shards) > 1:
            doc["saturated_shards"] = [s.shard for s in self.hot]
            doc["shards"] = [s.as_json() for s in self.shards]
        return doc


def judge_shard(shard: int, health: ShardHealth) -> ShardSaturation:
    """One shard's saturation over its span."""
    p = percentiles(health.loop_lag, (99, 100))
    p99 = None if p[99] is None else p[99] / 1000
    pmax = None if p[100] is None else p[100] / 1000
    cpu = health.cpu_pct
    # no lag sample: too short a span to judge (its CPU is start-up, not load)
    saturated = p99 is not None and (p99 > LAG_P99_LIMIT_MS or (cpu or 0.0) > CPU_LIMIT_PCT)
    return ShardSaturation(shard, saturated, p99, pmax, cpu)


def judge(snap: Snapshot) -> Saturation:
    """Saturation over ``snap``'s span (a delta, a window or the whole run), per shard."""
    return Saturation(tuple(judge_shard(i, h) for i, h in sorted(snap.health.items())))


async def sample_loop_lag(
    stats: Callable[[], Stats], clock: Callable[[], float], interval: float = LAG_SAMPLE_S
) -> None:
    """Forever: sleep ``interval`` and record how much later than asked we woke."""
    while True:
        before = clock()
        await anyio.sleep(interval)
        late = clock() - before - interval
        stats().record_lag(int(late * 1e6) if late > 0 else 0)
