"""The default run's walker (the built-in ``ingest`` file's FlowWalker) with
journeys a test fixes instead of drawing them: pacing, latency correction and
retry tests need to know exactly which steps a journey sends.

``Steps(("created", "success"), dispute=("opened", "won"), read=True)`` is one
journey: the order flow's states in order, then its dispute's (a child, after
the order), and whether the order is read back. :class:`FixedWalker` plans
what ``steps(rng)`` returns; :meth:`FixedWalker.journey` builds one to
:meth:`~engine.scenario.flows.FlowWalker.walk` by hand.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from engine.config import RunConfig
from engine.metrics.stats import Stats
from engine.scenario.flow_tables import FlowJourney, FlowRun
from engine.scenario.flows import FlowWalker
from engine.scenario.select import compiled_for
from engine.transports import Headers, Reply, Transport


@dataclass(frozen=True, slots=True)
class Steps:
    """One journey's states: the order's, its dispute's (none: no dispute)."""

    order: Sequence[str]
    dispute: Sequence[str] = ()
    read: bool = False
    retry_seed: int = 0


class FixedWalker(FlowWalker):
    """Sends the journeys ``steps`` gives (called with each VU's RNG)."""

    def __init__(
        self,
        steps: Callable[[random.Random], Steps],
        *,
        transport: Transport,
        stats: Stats,
        think: float,
        now: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
        target: str = "http://service.test",
        **kwargs: Any,
    ) -> None:
        super().__init__(
            transport=transport,
            stats=stats,
            scenario=compiled_for(RunConfig()),
            target=target,
            think=think,
            now=now,
            sleep=sleep,
            **kwargs,
        )
        self.steps = steps

    def plan(self, rng: random.Random) -> FlowJourney:
        return self.journey(self.steps(rng))

    def journey(self, steps: Steps) -> FlowJourney:
        """``steps`` as a planned journey of this walker's flows."""
        children = (self._fixed("dispute", steps.dispute, (), False),) if steps.dispute else ()
        root = self._fixed("order", steps.order, children, steps.read)
        return FlowJourney(root, random.Random(0), steps.retry_seed)

    def _fixed(
        self, name: str, states: Sequence[str], children: tuple[FlowRun, ...], read: bool
    ) -> FlowRun:
        flow = next(f for f in self._flows if f.flow.name == name)
        run = tuple(flow.steps[flow.flow.state(str(s)).index] for s in states)
        rest = sum(len(c.steps) - 1 + c.rest for c in children)
        return FlowRun(flow, run, children, read_back=read, rest=rest)


class _NoTransport:
    """Planning sends nothing."""

    async def post(self, url: str, body: bytes, headers: Headers = ()) -> Reply:
        raise AssertionError("planning sends nothing")

    async def get(self, url: str) -> Reply:
        raise AssertionError("planning sends nothing")

    async def aclose(self) -> None:
        pass


async def _no_sleep(seconds: float) -> None:
    pass


def planner(**settings: Any) -> FlowWalker:
    """The walker a run with these settings (RunConfig fields) would plan with:
    for tests of planning only (it sends nothing)."""
    cfg = RunConfig(**settings)
    scenario = compiled_for(cfg)
    return FlowWalker(
        transport=_NoTransport(),
        stats=Stats(endpoints=scenario.endpoints),
        scenario=scenario,
        target="http://service.test",
        think=0.0,
        now=time.perf_counter,
        sleep=_no_sleep,
        read_ratio=cfg.read_ratio,
        duplicate_rate=cfg.duplicate_rate,
        reorder_rate=cfg.reorder_rate,
        retries=cfg.retries,
    )


def words(run: FlowRun) -> tuple[str, ...]:
    """The statuses a planned flow run sends (its states' words)."""
    return tuple(s.state.word for s in run.steps)
