"""``--grace``: requests in flight at the deadline may finish (issue 19 §4).

A webhook provider never abandons a delivery mid-flight; a load test that
cancels every request at its deadline makes some receivers half-write (the
public service commits an order and its ``events`` row, then loses its
``order_events`` row to ``context canceled``: an API 500 nobody sees). So at
the deadline the run *drains*: nothing new is sent (a journey between steps
parks there), and the requests already in flight get up to ``--grace`` to
finish. Those that do are recorded as usual and counted apart
(``finished_in_grace``); the rest are cancelled when the grace is over, and
still count as cancelled at the deadline. A stop (Ctrl+C, ``x``) does not
drain: it ends at once.

One :class:`Drain` per run, shared by the walker and the faults (every
request goes through one of them); the runner starts it at the deadline.
"""

from __future__ import annotations

import anyio

from engine.metrics.stats import Stats


class Drain:
    """How many requests are in flight, and whether the run is draining."""

    __slots__ = ("_idle", "draining", "inflight")

    def __init__(self) -> None:
        self.draining = False
        self.inflight = 0
        self._idle: anyio.Event | None = None

    def start(self) -> anyio.Event:
        """The deadline came: send nothing new. The event is set once nothing is
        in flight (at once when nothing is)."""
        self.draining = True
        self._idle = anyio.Event()
        if self.inflight <= 0:
            self._idle.set()
        return self._idle

    def left(self, stats: Stats) -> None:
        """A request in flight got its answer (or its transport error)."""
        self.inflight -= 1
        if self.draining:
            stats.record_finished_in_grace()
            if self.inflight <= 0 and self._idle is not None:
                self._idle.set()


async def park() -> None:
    """Wait, sending nothing, until the drain's end cancels the run."""
    await anyio.sleep_forever()
