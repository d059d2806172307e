"""The common start of a run's shards: a ready handshake, not a fixed delay.

A fixed delay (the start 1.5 s ahead) was too short for a slow shard (64
workers on 2 cores: a 1 s run sent nothing, its shards all started after its
end) and too long for a quick one (every 2-worker run waited 1.5 s). So each
shard says when it is ready to send and waits; once every shard is ready, the
gate picks the epoch, now plus a small margin (the time for the go to reach
every shard), and every shard starts its load there.

One :class:`StartGate` per run, shared by its shards' driver sides (a
:class:`~engine.shards.worker.ProcessRunner`, a Ray shard), which await
:meth:`StartGate.ready` when their shard reports ready and pass the epoch on.
The coordinator bounds the wait (a shard not ready in time is lost) and calls
the start off on a stop.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import anyio


class StartGate:
    """Opens when every one of ``shards`` shards is ready (or done), at
    ``wall_clock() + margin``; :meth:`call_off` keeps it shut for good."""

    def __init__(
        self, shards: int, *, margin: float, wall_clock: Callable[[], float] = time.time
    ) -> None:
        self._waiting = set(range(shards))
        self._margin = margin
        self._wall_clock = wall_clock
        self._settled = anyio.Event()
        self._called_off = False
        self.epoch: float | None = None
        """The common start once the gate opened (a ``wall_clock()`` time)."""
        self.ready_at: dict[int, float] = {}
        """When each shard reported ready (``wall_clock()``), for a message or a test."""

    @property
    def not_ready(self) -> list[int]:
        """The shards neither ready nor done yet, lowest index first."""
        return sorted(self._waiting)

    async def ready(self, shard: int) -> float | None:
        """Shard ``shard`` is ready: wait for the others. Returns the epoch, or
        None when the start was called off (a stop, a lost shard)."""
        self.ready_at[shard] = self._wall_clock()
        self._settle(shard)
        await self._settled.wait()
        return self.epoch

    def done(self, shard: int) -> None:
        """Shard ``shard`` ended (stopped, failed) without a go: not waited for."""
        self._settle(shard)

    async def wait(self) -> bool:
        """Until the gate opens (True) or the start is called off (False)."""
        await self._settled.wait()
        return self.epoch is not None

    def call_off(self) -> None:
        """No start: every waiting shard gets None (a stop, a lost shard)."""
        self._called_off = True
        self._settled.set()

    def _settle(self, shard: int) -> None:
        self._waiting.discard(shard)
        if not self._waiting and not self._settled.is_set() and not self._called_off:
            self.epoch = self._wall_clock() + self._margin
            self._settled.set()
