"""Deliberate delivery faults: duplicates (--duplicate-rate) and early events
(--reorder-rate), sent for a journey by :class:`~engine.scenario.flows.FlowWalker`.

A 5xx or a transport failure is an error whatever was sent (issue 19): it
counts in Errors, in its endpoint's errors and kinds and in thresholds, and
can be a sample failure (with its body and the event's id). Everything else
is judged by what a provider would make of it:

- a duplicate is *handled* when answered 2xx or the "already seen" answer
  (:data:`ALREADY_SEEN`, 409); any other 4xx is a *refusal*: no error of this
  run, but a real provider would retry it for days, so it is counted apart
  (``duplicates_refused``) and the summary says so in words;
- an early event refused with a 4xx is expected (the provider retries it
  once the event it depends on is in); a 2xx means it was applied early.

A 1xx/3xx is an error too, as for a first delivery (engine/scenario/expect.py:
a redirect is never followed, so nothing was delivered), and no handling
either: it is counted as ``other``. A scenario file's
``accept.duplicate`` / ``accept.early`` say which answers below 500 are the
"already seen" / the refusal instead; a 5xx stays an error whatever they say.

Every fault delivery is counted in the ``delivery`` counters by its answer
class (DELIVERY_KEYS) and by its exact status or transport error kind, keys
``dup:<status>`` / ``early:<status>`` (``dup:500``, ``early:timeout``), for the
summary's words. Timed from the actual send (no intended time: the provider's
schedule has no slot for a fault).
"""

from __future__ import annotations

from collections.abc import Callable

import anyio

from engine.domain.contracts import Event
from engine.metrics.stats import Stats
from engine.scenario.drain import Drain, park
from engine.scenario.expect import ACCEPTS, Expect, Table
from engine.transports import Headers, Transport, TransportError

ALREADY_SEEN = frozenset({409})
"""The "already seen" answer to a duplicate (a strict receiver's 409)."""

DUPLICATE_STATUS = "dup:"
EARLY_STATUS = "early:"
"""Prefixes of the per-answer ``delivery`` keys (``dup:500``, ``early:timeout``)."""

_NOT_AN_ERROR = ACCEPTS[Expect.DUPLICATE]  # the same table for EARLY: 2xx-4xx are no error


def answer_class(status: int | None, already_seen: frozenset[int] = ALREADY_SEEN) -> str:
    """``2xx``, ``already_seen``, ``4xx``, ``5xx``, ``transport`` (None: no answer)
    or ``other`` (1xx/3xx): the classes the Delivery line splits by."""
    if status is None:
        return "transport"
    if 200 <= status < 300:
        return "2xx"
    if status in already_seen:
        return "already_seen"
    if 400 <= status < 500:
        return "4xx"
    return "5xx" if status >= 500 else "other"


_DUPLICATE_KEYS = {
    "2xx": "duplicates_accepted",
    "already_seen": "duplicates_rejected",
    "4xx": "duplicates_refused",
    "5xx": "duplicates_5xx",
    "transport": "duplicates_transport",
    "other": "duplicates_other",
}
_EARLY_KEYS = {
    "2xx": "early_accepted",
    "4xx": "early_refused",
    "5xx": "early_5xx",
    "transport": "early_transport",
    "other": "early_other",
}


class Faults:
    """Sends fault deliveries for every virtual user of a run (no per-user state);
    ``dress`` is the Walker's signing/--header step (None: the event's own headers)."""

    __slots__ = ("_drain", "_dress", "_now", "_stats", "_transport")

    def __init__(
        self,
        transport: Transport,
        stats: Stats,
        now: Callable[[], float],
        dress: Callable[[Event, str], Headers] | None,
        drain: Drain | None = None,
    ) -> None:
        self._transport = transport
        self._drain = drain if drain is not None else Drain()
        self._stats = stats
        self._now = now
        self._dress = dress

    async def again(self, endpoint: int, url: str, event: Event, seen: Table | None = None) -> None:
        """A deliberate duplicate: the same event, re-signed now; handled when 2xx
        or already seen, refused on another 4xx, an error on a 5xx or no answer.
        ``seen``: a scenario file's ``accept.duplicate`` table; an answer below
        500 it takes that is not a 2xx is the "already seen" answer (else 409)."""
        status, answer = await self._post(endpoint, url, event)
        stats = self._stats
        stats.delivered("duplicates_sent")
        stats.delivered(DUPLICATE_STATUS + answer)
        if seen is None:
            cls = answer_class(status)
        else:
            cls = answer_class(status, frozenset())
            if cls in ("4xx", "other") and status is not None and seen[status]:
                cls = "already_seen"
        if cls not in ("2xx", "already_seen"):
            stats.delivered("duplicates_failed")  # not handled (kept from issue 10)
        stats.delivered(_DUPLICATE_KEYS[cls])

    async def early(
        self, endpoint: int, url: str, event: Event, refused: Table | None = None
    ) -> bool:
        """An event sent before the one it depends on: refused with a 4xx as
        expected, applied early on a 2xx, an error on a 5xx or no answer.
        True when accepted (2xx). ``refused``: a scenario file's ``accept.early``
        table; then an answer below 500 is refused when the table takes it (a
        non-2xx), else counted as ``other`` (neither refused nor applied)."""
        status, answer = await self._post(endpoint, url, event)
        stats = self._stats
        stats.delivered("early_sent")
        stats.delivered(EARLY_STATUS + answer)
        cls = answer_class(status, frozenset())
        if refused is not None and cls in ("4xx", "other") and status is not None:
            cls = "4xx" if refused[status] else "other"
        if cls in ("5xx", "transport", "other"):
            stats.delivered("early_failed")  # neither refused nor applied
        stats.delivered(_EARLY_KEYS[cls])
        return cls == "2xx"

    async def _post(self, endpoint: int, url: str, event: Event) -> tuple[int | None, str]:
        """One fault delivery, recorded as a request: an error when its answer is
        a 5xx or none at all. Its status (None without an answer) and the answer
        as a key: the status, or the transport error's kind."""
        stats = self._stats
        dress = self._dress
        drain = self._drain
        if drain.draining:  # the deadline came (--grace): nothing new is sent
            await park()
        headers = event.headers if dress is None else dress(event, url)
        drain.inflight += 1
        t0 = self._now()
        try:
            status, done, body_head = await self._transport.post(url, event.body, headers)
        except TransportError as exc:
            drain.left(stats)
            detail = str(exc).removeprefix(exc.kind).removeprefix(": ")
            stats.record_error(endpoint, exc.kind, detail, event.event_id)
            return None, exc.kind
        except anyio.get_cancelled_exc_class():
            drain.inflight -= 1
            stats.record_cancelled()
            raise
        drain.left(stats)
        fine = 0 <= status < len(_NOT_AN_ERROR) and _NOT_AN_ERROR[status]
        latency_us = int((done - t0) * 1e6)
        stats.record_response(endpoint, status, latency_us, body_head, fine, None, event.event_id)
        return status, str(status)
