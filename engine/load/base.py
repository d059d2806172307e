"""What every load model offers the runner: one coroutine that starts journeys.

A load model decides *when* journeys start (N looping users, or arrivals at
a rate, or stages of either); the :class:`~engine.scenario.walk.Walker`
decides *what* each one sends. The runner gives the model a walker and a
clock and cancels :meth:`LoadModel.drive` at the deadline or on a stop.
"""

from __future__ import annotations

from typing import Protocol

from engine.load.clock import Clock
from engine.scenario.walk import Walker


class LoadModel(Protocol):
    async def drive(self, walker: Walker, clock: Clock) -> None:
        """Start journeys through ``walker`` until cancelled; pace by ``clock``."""
        ...
