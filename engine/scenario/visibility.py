"""``--visibility N``: how long from a webhook's 2xx until the read API shows
its effect (issue 19 §3).

In Kafka or inbox mode a service answers 202 before it applies an event; the
number its users want most is how long until the effect can be read. So N
flow runs whose every step was accepted are followed as they finish (the first
ones, at most :data:`FOLLOWED_AT_ONCE` at a time, so the sample spreads over
the run and the polling rate stays bounded): the flow's own read-back (its
``read.url``, e.g. ingest's ``GET /orders/{id}``, through ``--read-api`` when
apart; a flow whose read is a list, as ingest's disputes, is not followed)
every :data:`POLL_S` until it shows the status its ``read.expect`` names. The
time from the last step's answer to the first read that shows it is the
run's visibility, within one polling interval (reported with it). One not
shown within :data:`TIMEOUT_S` counts as ``not_visible``; one still followed
when the run ends, ``unfinished``. The polls are the tool's own measuring,
not load: they are counted (``polls``), never recorded as requests.

The same reading tells the read-back (``--read-ratio``) apart: a 404 for a
flow run whose every event was accepted is ``not yet visible``, never an error
(``reads_not_yet_visible``; engine/scenario/flows.py).
"""

from __future__ import annotations

import random
import re
from collections.abc import Awaitable, Callable

import anyio
import anyio.abc

from engine.metrics.stats import Stats
from engine.scenario.compiled import CompiledFlow, CompiledScenario, Vars
from engine.scenario.sample import join
from engine.transports import Transport, TransportError

POLL_S = 0.01
"""How often a followed flow run is read: the measure's resolution."""
FOLLOWED_AT_ONCE = 8
"""Flow runs followed at the same time: at most 800 reads a second at POLL_S."""
TIMEOUT_S = 10.0
"""A flow run not shown this long after its last step's answer is ``not_visible``."""

VISIBILITY_KEYS = ("followed", "visible", "not_visible", "unfinished", "polls")
"""The ``visibility`` counters (JSON keys), besides ``reads_not_yet_visible``."""


def shows(body_head: bytes, status: str) -> bool:
    """Whether a read (its first bytes) shows ``status``."""
    return (
        re.search(rb'"status"\s*:\s*"' + re.escape(status.encode()) + rb'"', body_head) is not None
    )


class Visibility:
    """Follows up to ``limit`` finished flow runs of ``scenario`` (reads under
    ``read_api``); :meth:`offer` hears of each (the walker's ``on_end``),
    :meth:`serve` runs the followers until cancelled."""

    def __init__(
        self,
        limit: int,
        transport: Transport,
        scenario: CompiledScenario,
        read_api: str,
        stats: Callable[[], Stats],
        now: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
        *,
        poll_s: float = POLL_S,
        timeout_s: float = TIMEOUT_S,
    ) -> None:
        self.limit = limit
        self._transport = transport
        self._read_api = read_api
        # the flows whose read-back reads their own object (not a list)
        self._own: dict[str, CompiledFlow] = {
            f.name: f for f in scenario.flows if f.read is not None and not f.read.items
        }
        self._stats = stats
        self._now = now
        self._sleep = sleep
        self.poll_s = poll_s
        self.timeout_s = timeout_s
        self._taken = 0
        self._active = 0
        self._tg: anyio.abc.TaskGroup | None = None

    def offer(self, flow: str, status: str, v: Vars, parent: Vars | None) -> None:
        """A run of ``flow`` whose every step was accepted, just now, whose read
        should show ``status``: follow it while fewer than ``limit`` were taken
        and a follower is free (and its flow reads its own object)."""
        if self._tg is None or self._taken >= self.limit or self._active >= FOLLOWED_AT_ONCE:
            return
        own = self._own.get(flow)
        if own is None or own.read is None:
            return
        # read templates draw nothing; the builders take an rng
        url = join(self._read_api, own.read.url(v, parent, random.Random(0)))
        self._taken += 1
        self._active += 1
        self._stats().visibility_count("followed")
        self._tg.start_soon(self._follow, url, status, self._now())

    async def serve(self) -> None:
        """Run the followers (they are cancelled with it, at the run's end)."""
        async with anyio.create_task_group() as tg:
            self._tg = tg
            await anyio.sleep_forever()

    async def _follow(self, url: str, status: str, accepted_at: float) -> None:
        polls = 0
        try:
            while True:
                polls += 1
                try:
                    code, done, head = await self._transport.get(url)
                except TransportError:
                    code, done, head = 0, self._now(), b""
                if code == 200 and shows(head, status):
                    self._stats().record_visibility(int(max(0.0, done - accepted_at) * 1e6))
                    return
                if self._now() - accepted_at >= self.timeout_s:
                    self._stats().visibility_count("not_visible")
                    return
                await self._sleep(self.poll_s)
        except anyio.get_cancelled_exc_class():
            self._stats().visibility_count("unfinished")
            raise
        finally:
            self._active -= 1
            self._stats().visibility_count("polls", polls)
