"""The closed model: N virtual users, each looping journeys back to back.

Pacing does not depend on the service's answers. A VU pauses ``think``
between the steps of a journey (the walker does). When a step is rejected
(an error status or no response), the journey ends there, and the VU first
waits the think time the journey's remaining steps would have taken, and at
least one think time. Without that, a failed first step started the next
journey at once, and a struggling or down service got many times the load of
a healthy one, exactly when it should get less.

Every iteration yields to the event loop at least once (a zero sleep after a
journey that was not paced, the pause itself after one that was): a
transport may answer or fail without ever yielding (aiohttp out of file
descriptors, or a fake transport), and a loop that never yields never sees
its deadline or Ctrl+C. With ``--think`` above 0 every journey already slept
between its steps; the extra yield costs one event-loop turn per journey,
not per request.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import anyio

from engine.load.clock import Clock
from engine.scenario.walk import Walker


class ClosedModel:
    """``vus`` users; user ``i`` draws its journeys from ``rng_for(i)``."""

    def __init__(self, vus: int, think: float, rng_for: Callable[[int], random.Random]) -> None:
        self.vus = vus
        self.think = think
        self._rng_for = rng_for

    async def drive(self, walker: Walker, clock: Clock) -> None:
        async with anyio.create_task_group() as tg:
            for i in range(self.vus):
                tg.start_soon(self._vu, walker, clock, i)

    async def _vu(self, walker: Walker, clock: Clock, index: int) -> None:
        """Journeys back to back; paced after a rejected step (see the module docstring)."""
        rng = self._rng_for(index)
        think = self.think
        plan, walk, sleep = walker.plan, walker.walk, clock.sleep
        while True:
            rest = await walk(plan(rng))
            # paced after a failure; and the yield a transport that never waits never made
            await sleep(0 if rest is None else max(think, rest))
