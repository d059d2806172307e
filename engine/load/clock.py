"""The monotonic clock a run is paced and timed by, and a virtual one for tests.

Load models ask a :class:`Clock` for ``now()`` and ``sleep()`` and the runner
asks it for the run's deadline, instead of calling ``time``/``anyio`` directly,
so pacing (and later stages and open-model arrivals) can be tested exactly
and without real sleeps: :class:`FakeClock`, as httpx's ``MockTransport`` is
for the network. Here, in ``engine/load``, because the load models are its
consumers and sit below ``engine/run`` (which imports it from here).

What stays on real time whatever the clock: the snapshot reporter's 4 Hz tick
and the event-loop lag sampler (they measure and show the real process).
"""

from __future__ import annotations

import asyncio
import heapq
import math
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Protocol

import anyio
import anyio.abc
import anyio.lowlevel


class Clock(Protocol):
    """Seconds on a monotonic scale (the origin means nothing), and waiting on it."""

    @property
    def now(self) -> Callable[[], float]:
        """The reading function itself (a plain callable the hot path calls
        directly, and transports stamp completions with)."""
        ...

    @property
    def sleep(self) -> Callable[[float], Awaitable[None]]:
        """Wait this many seconds (0: just yield to the other tasks once)."""
        ...

    def deadline(self, seconds: float) -> anyio.CancelScope:
        """A cancel scope that cancels itself ``seconds`` from now (``math.inf``: never)."""
        ...


class SystemClock:
    """Real time: ``time.perf_counter`` and ``asyncio.sleep``, handed out as they
    are (no wrapper, so the hot path pays nothing for the indirection). The
    engine runs on asyncio only (engine/run/loop.py), where ``anyio.sleep`` is
    ``asyncio.sleep`` behind a backend lookup that the closed model's yield per
    journey would pay every time; cancel scopes cancel either alike."""

    __slots__ = ()

    @property
    def now(self) -> Callable[[], float]:
        return time.perf_counter

    @property
    def sleep(self) -> Callable[[float], Awaitable[None]]:
        return asyncio.sleep

    def deadline(self, seconds: float) -> anyio.CancelScope:
        return anyio.CancelScope(deadline=anyio.current_time() + seconds)


SYSTEM_CLOCK = SystemClock()


class FakeClock:
    """Virtual time that jumps ahead whenever every other task is waiting
    (as trio's ``MockClock(autojump_threshold=0)``).

    ``sleep(d)`` parks the task until virtual time reaches ``now() + d``; a
    driver task (``async with FakeClock() as clock:`` runs it) lets every
    runnable task run, and once each one is blocked, advances time to the
    earliest wake-up and wakes those sleepers (and cancels the scopes of
    :meth:`deadline` that are due). So a run of a thousand virtual seconds
    takes as long as its CPU work, and every wake-up happens at its exact
    virtual time: a VU paced 30 ms after a failure starts its next journey
    at exactly ``t + 0.03``.

    Exact when nothing else moves time: use it with
    :class:`~engine.transports.fake.FakeTransport`, not with real sockets
    (a task waiting on real I/O also counts as blocked, and time jumps past
    it). asyncio only: "blocked" is read from each task's pending future
    (``Task._fut_waiter``, as anyio's own ``wait_all_tasks_blocked`` does).
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._seq = 0  # FIFO among timers due at the same instant
        self._timers: list[tuple[float, int, asyncio.Future[None] | anyio.CancelScope]] = []
        self._tg: anyio.abc.TaskGroup | None = None
        self._pushed = asyncio.Event()  # a timer was added: the driver has work

    @property
    def now(self) -> Callable[[], float]:
        return self._read

    @property
    def sleep(self) -> Callable[[float], Awaitable[None]]:
        return self._sleep

    def _read(self) -> float:
        return self._now

    async def _sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await anyio.lowlevel.checkpoint()
            return
        wake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._push(self._now + seconds, wake)
        await wake  # if cancelled, the timer stays behind until the driver drops it

    def deadline(self, seconds: float) -> anyio.CancelScope:
        scope = anyio.CancelScope()
        if seconds != math.inf:
            self._push(self._now + seconds, scope)
        return scope

    def _push(self, at: float, what: asyncio.Future[None] | anyio.CancelScope) -> None:
        self._seq += 1
        heapq.heappush(self._timers, (at, self._seq, what))
        self._pushed.set()

    async def _drive(self) -> None:
        me = asyncio.current_task()
        while True:
            if not self._timers:  # nothing to wake: no reason to spin
                self._pushed.clear()
                await self._pushed.wait()
            await asyncio.sleep(0)  # let whatever can run, run
            if not _all_blocked(me):
                continue
            self._drop_stale()
            if not self._timers:
                continue
            at = self._timers[0][0]
            self._now = max(self._now, at)
            while self._timers and self._timers[0][0] <= at:
                _, _, what = heapq.heappop(self._timers)
                if isinstance(what, anyio.CancelScope):
                    what.cancel()
                elif not what.done():
                    what.set_result(None)

    def _drop_stale(self) -> None:
        """Forget timers nobody waits for any more (a cancelled sleeper, a scope
        already cancelled), so they never move time forward."""
        timers = self._timers
        while timers:
            what = timers[0][2]
            if isinstance(what, anyio.CancelScope) and not what.cancel_called:
                return
            if isinstance(what, asyncio.Future) and not what.done():
                return
            heapq.heappop(timers)

    async def __aenter__(self) -> FakeClock:
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        self._tg.start_soon(self._drive)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        assert self._tg is not None
        self._tg.cancel_scope.cancel()
        return await self._tg.__aexit__(exc_type, exc, tb)


def _all_blocked(me: asyncio.Task[object] | None) -> bool:
    """Every task but ``me`` waits on a future that is not done (none can run)."""
    for task in asyncio.all_tasks():
        if task is me:
            continue
        waiter = getattr(task, "_fut_waiter", None)
        if waiter is None or waiter.done():
            return False
    return True
