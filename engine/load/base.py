"""What every load model offers the runner: one coroutine that starts journeys.

A load model decides *when* journeys start (N looping users, or arrivals at
a rate, or stages of either); the walker
(:class:`~engine.scenario.flows.FlowWalker`) decides *what* each one sends.
The runner gives the model a walker and a clock and cancels
:meth:`LoadModel.drive` at the deadline or on a stop.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any, Protocol

from engine.load.clock import Clock


class Walker(Protocol):
    """What a load model needs of a walker: a journey drawn from a VU's RNG, and
    sending it (:class:`engine.scenario.flows.FlowWalker`; tests pass their own)."""

    @property
    def plan(self) -> Callable[[random.Random], Any]: ...

    @property
    def draining(self) -> bool:
        """The deadline came (``--grace``): the open model starts no arrival."""
        ...

    async def walk(self, journey: Any, intended: float | None = None) -> float | None: ...


class LoadModel(Protocol):
    async def drive(self, walker: Walker, clock: Clock) -> None:
        """Start journeys through ``walker`` until cancelled; pace by ``clock``."""
        ...
