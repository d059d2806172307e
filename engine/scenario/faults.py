"""Deliberate delivery faults: duplicates (--duplicate-rate) and early events
(--reorder-rate), sent for a journey by :class:`~engine.scenario.walk.Walker`.

A fault delivery is never an error, whatever its code: it is recorded as a
request, and counted in the ``delivery`` counters by what came back
(Expect.DUPLICATE and EARLY, engine/scenario/expect.py). Timed from the actual
send (no intended time: the provider's schedule has no slot for a fault).
"""

from __future__ import annotations

from collections.abc import Callable

import anyio

from engine.domain.contracts import Event
from engine.metrics.stats import Stats
from engine.scenario.expect import Table
from engine.transports import Headers, Transport, TransportError


class Faults:
    """Sends fault deliveries for every virtual user of a run (no per-user state);
    ``dress`` is the Walker's signing/--header step (None: the event's own headers)."""

    __slots__ = ("_dress", "_now", "_stats", "_transport")

    def __init__(
        self,
        transport: Transport,
        stats: Stats,
        now: Callable[[], float],
        dress: Callable[[Event, str], Headers] | None,
    ) -> None:
        self._transport = transport
        self._stats = stats
        self._now = now
        self._dress = dress

    async def again(self, endpoint: int, url: str, event: Event, seen: Table | None = None) -> None:
        """A deliberate duplicate: the same event, re-signed now; never an error,
        counted by what came back (409 rejected, 2xx accepted, else failed).
        ``seen``: a scenario file's ``accept.duplicate`` table; an answer it
        takes that is not a 2xx counts as rejected (the "already seen" answer)."""
        status = await self._post(endpoint, url, event)
        stats = self._stats
        stats.delivered("duplicates_sent")
        if status is not None and 200 <= status < 300:
            stats.delivered("duplicates_accepted")
        elif status == 409 if seen is None else status is not None and seen[status]:
            stats.delivered("duplicates_rejected")
        else:
            stats.delivered("duplicates_failed")

    async def early(
        self, endpoint: int, url: str, event: Event, refused: Table | None = None
    ) -> bool:
        """An event sent before the one it depends on; never an error, counted by
        what came back (404/422 refused, 2xx accepted, else failed). True when accepted.
        ``refused``: a scenario file's ``accept.early`` table; an answer it takes
        that is not a 2xx counts as refused."""
        status = await self._post(endpoint, url, event)
        stats = self._stats
        stats.delivered("early_sent")
        if status is not None and 200 <= status < 300:
            stats.delivered("early_accepted")
            return True
        ok = status in (404, 422) if refused is None else status is not None and refused[status]
        stats.delivered("early_refused" if ok else "early_failed")
        return False

    async def _post(self, endpoint: int, url: str, event: Event) -> int | None:
        """One fault delivery, recorded as a request that is no error whatever its
        code; its status, or None without an answer."""
        stats = self._stats
        dress = self._dress
        headers = event.headers if dress is None else dress(event, url)
        t0 = self._now()
        try:
            status, done, body_head = await self._transport.post(url, event.body, headers)
        except TransportError as exc:
            detail = str(exc).removeprefix(exc.kind).removeprefix(": ")
            stats.record_error(endpoint, exc.kind, detail, event.event_id)
            return None
        except anyio.get_cancelled_exc_class():
            stats.record_cancelled()
            raise
        stats.record_response(endpoint, status, int((done - t0) * 1e6), body_head, True)
        return status
