"""Is the generator itself the bottleneck? Event-loop lag and CPU, judged.

A load generator that cannot keep up reports its own queueing as the
service's latency. The runner samples how late a short timer fires (loop
lag) and the process's CPU time; both travel in every snapshot delta, so any
window can be judged: saturated when loop lag p99 exceeds 10 ms or CPU
exceeds 90 % of one core (the engine runs on one event loop, one core).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import anyio

from engine.metrics.histogram import percentiles
from engine.metrics.stats import Snapshot, Stats

LAG_P99_LIMIT_MS = 10.0
CPU_LIMIT_PCT = 90.0
LAG_SAMPLE_S = 0.02


@dataclass(frozen=True, slots=True)
class Saturation:
    saturated: bool
    loop_lag_p99_ms: float | None
    loop_lag_max_ms: float | None
    cpu_pct: float | None

    def describe(self) -> str:
        lag = "-" if self.loop_lag_p99_ms is None else f"{self.loop_lag_p99_ms:.1f}ms"
        cpu = "-" if self.cpu_pct is None else f"{self.cpu_pct:.0f}%"
        return f"loop lag p99 {lag}, CPU {cpu} of a core"

    def as_json(self) -> dict[str, float | None]:
        return {
            "loop_lag_p99_ms": self.loop_lag_p99_ms,
            "loop_lag_max_ms": self.loop_lag_max_ms,
            "cpu_pct": self.cpu_pct,
            "loop_lag_p99_limit_ms": LAG_P99_LIMIT_MS,
            "cpu_limit_pct": CPU_LIMIT_PCT,
        }


def judge(snap: Snapshot) -> Saturation:
    """Saturation over ``snap``'s span (a delta, a window or the whole run)."""
    p = percentiles(snap.loop_lag, (99, 100))
    p99 = None if p[99] is None else p[99] / 1000
    pmax = None if p[100] is None else p[100] / 1000
    cpu = 100.0 * snap.cpu_s / snap.elapsed if snap.elapsed > 0 else None
    saturated = (p99 is not None and p99 > LAG_P99_LIMIT_MS) or (
        cpu is not None and cpu > CPU_LIMIT_PCT
    )
    return Saturation(saturated, p99, pmax, cpu)


async def sample_loop_lag(
    stats: Callable[[], Stats], clock: Callable[[], float], interval: float = LAG_SAMPLE_S
) -> None:
    """Forever: sleep ``interval`` and record how much later than asked we woke."""
    while True:
        before = clock()
        await anyio.sleep(interval)
        late = clock() - before - interval
        stats().record_lag(int(late * 1e6) if late > 0 else 0)
