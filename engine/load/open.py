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

import random

import anyio

from engine.load.clock import Clock
from engine.metrics.stats import Stats
from engine.scenario.walk import Walker


class OpenModel:
    """Arrivals at ``rate`` per second (fractional allowed), at most
    ``max_inflight`` journeys at once; journeys are drawn from ``rng`` in
    arrival order (so ``--seed`` repeats them)."""

    def __init__(self, rate: float, max_inflight: int, rng: random.Random, stats: Stats) -> None:
        if rate <= 0:
            raise ValueError("rate must be > 0")
        self.rate = rate
        self.max_inflight = max_inflight
        self._rng = rng
        self._stats = stats
        self.inflight = 0

    def intended(self, t0: float, k: int) -> float:
        """When arrival ``k`` (from 0) is due: from the start, so errors never add up."""
        return t0 + k / self.rate

    async def drive(self, walker: Walker, clock: Clock) -> None:
        now, sleep = clock.now, clock.sleep
        stats = self._stats
        t0 = now()
        k = 0
        async with anyio.create_task_group() as tg:
            while True:
                due = self.intended(t0, k)
                ahead = due - now()
                # the yield a fast transport never made, when already late
                await sleep(ahead if ahead > 0 else 0)
                current = now()
                while due <= current:  # everything due by now starts now
                    if self.inflight >= self.max_inflight:
                        stats.record_dropped()
                    else:
                        self.inflight += 1
                        stats.record_arrival()
                        tg.start_soon(self._journey, walker, due)
                    k += 1
                    due = self.intended(t0, k)

    async def _journey(self, walker: Walker, intended: float) -> None:
        try:
            await walker.walk(walker.plan(self._rng))
        finally:
            self.inflight -= 1
