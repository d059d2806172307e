"""The open model: journeys arrive at a rate, whether or not earlier ones finished.

Webhook providers send at their own pace; a receiver that slows down gets
a queue, not a gentler sender. So ``--rate R`` starts journey ``k`` at its
*intended* time ``t0 + k/R``, computed from the start and never from the
previous arrival (sleeping ``1/R`` after each would drift by every wake-up's
lateness). When the loop wakes late, every arrival already due starts at
once, each keeping its own intended time (no arrival is skipped to catch
up, as wrk2 does).

``--max-inflight N`` caps the journeys in flight: an arrival that finds the
cap full is *dropped* and counted (as k6's ``dropped_iterations``), never
queued or delayed, so the generator never silently slows down to the
service's pace (coordinated omission); the live view warns when it happens.

A journey walks its steps with ``--think`` as in the closed model. A
rejected step ends it; nothing waits after it, since the next arrival's time
does not depend on it.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterable

import anyio

from engine.load.base import Walker
from engine.load.clock import Clock
from engine.metrics.stats import Stats

CATCH_UP_YIELD = 64
"""When late, yield to the loop after this many arrivals started back to back
(a transport that never waits must not keep the deadline from the loop)."""


class OpenModel:
    """Arrivals at ``rate`` per second (fractional allowed), or at ``offsets``
    (seconds from the start, ascending: ramp stages), at most ``max_inflight``
    journeys at once; journeys are drawn from ``rng`` in arrival order (so
    ``--seed`` repeats them)."""

    def __init__(
        self,
        rate: float,
        max_inflight: int,
        rng: random.Random,
        stats: Stats,
        offsets: Iterable[float] | None = None,
    ) -> None:
        if rate <= 0 and offsets is None:
            raise ValueError("rate must be > 0")
        self.rate = rate
        self.max_inflight = max_inflight
        self._rng = rng
        self._stats = stats
        # journey k is due at k/R from the start, so errors never add up
        self._offsets = offsets if offsets is not None else (k / rate for k in itertools.count())
        self.inflight = 0

    async def drive(self, walker: Walker, clock: Clock) -> None:
        now, sleep = clock.now, clock.sleep
        stats = self._stats
        t0 = current = now()
        late = 0
        async with anyio.create_task_group() as tg:
            for offset in self._offsets:
                due = t0 + offset
                if due > current:
                    await sleep(due - current)
                    current = now()
                    late = 0
                else:  # due already: it starts now, with its own intended time
                    late += 1
                    if late % CATCH_UP_YIELD == 0:
                        await sleep(0)
                        current = now()
                if self.inflight >= self.max_inflight:
                    stats.record_dropped()
                else:
                    self.inflight += 1
                    stats.record_arrival()
                    tg.start_soon(self._journey, walker, due)

    async def _journey(self, walker: Walker, intended: float) -> None:
        try:
            await walker.walk(walker.plan(self._rng), intended)
        finally:
            self.inflight -= 1
