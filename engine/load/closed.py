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
not per request. A walker whose ``answers_wait`` is true (the flow walker on
the ``fast`` transport, whose every answer comes in a later turn of the loop)
has waited for the loop in every journey it walked accepted: that journey
gets no extra yield (docs/PERFORMANCE.md, section 9). A rejected one still
does, since a request may fail without waiting (a closed transport).

Ramp stages (``--stages``) move the target number of VUs at the times
:func:`~engine.domain.stages.vu_changes` lists: a VU whose index is at or
above the target finishes its journey (and its pause) and parks until the
target rises past it again; none is cut off mid-journey.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

import anyio
import anyio.lowlevel

from engine.load.base import Walker
from engine.load.clock import Clock

START_BATCH = 256
"""VUs started per turn of the event loop. Started all at once, every VU's first
request (its journey planned, a connection opened) ran in one turn: 16,000 VUs
held the loop for over 5 s, during which neither the deadline nor Ctrl+C could
act, so a 3 s run lasted 13 s. In batches the loop turns between them (a batch
costs ~0.1 s), and a stop during the start-up stops the starting too."""


class ClosedModel:
    """``vus`` users; user ``i`` draws its journeys from ``rng_for(i)``. With
    ``changes`` (``(seconds, vus)`` in time order), ``vus`` is the start and the
    target moves at those times."""

    def __init__(
        self,
        vus: int,
        think: float,
        rng_for: Callable[[int], random.Random],
        changes: Sequence[tuple[float, int]] = (),
    ) -> None:
        self.vus = vus
        self.think = think
        self._rng_for = rng_for
        self._changes = changes
        self.target = vus  # VUs wanted now
        self._raised: anyio.Event | None = None  # set and replaced when the target rises

    async def drive(self, walker: Walker, clock: Clock) -> None:
        most = max([self.vus, *(n for _, n in self._changes)])
        self._raised = anyio.Event()  # made on the loop (anyio needs one)
        async with anyio.create_task_group() as tg:
            if self._changes:
                tg.start_soon(self._ramp, clock)
            for i in range(most):
                tg.start_soon(self._vu, walker, clock, i)
                if i % START_BATCH == START_BATCH - 1:
                    await anyio.lowlevel.checkpoint()  # see START_BATCH

    async def _ramp(self, clock: Clock) -> None:
        """Move the target at its times, from this model's start."""
        t0 = clock.now()
        for at, vus in self._changes:
            ahead = t0 + at - clock.now()
            if ahead > 0:
                await clock.sleep(ahead)
            rose = vus > self.target
            self.target = vus
            if rose and self._raised is not None:
                self._raised.set()
                self._raised = anyio.Event()

    async def _vu(self, walker: Walker, clock: Clock, index: int) -> None:
        """Journeys back to back; paced after a rejected step (see the module docstring)."""
        rng = self._rng_for(index)
        think = self.think
        plan, walk, sleep = walker.plan, walker.walk, clock.sleep
        waited = getattr(walker, "answers_wait", False)
        while True:
            while index >= self.target and self._raised is not None:  # parked
                await self._raised.wait()
            rest = await walk(plan(rng))
            if rest is None and waited:  # it waited for every answer: no yield needed
                continue
            # paced after a failure; and the yield a transport that never waits never made
            await sleep(0 if rest is None else max(think, rest))
