"""One request of a journey, sent, judged and recorded.

:class:`~engine.scenario.flows.FlowWalker` (every run's walker) sends its
requests this way; a base class, so the request step reads on its own. A
subclass sets the attributes named in ``__slots__`` (the method is inherited:
looking it up costs what a method of the walker's own class costs).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio

from engine.domain.contracts import Event
from engine.domain.policies import PROVIDER_ANSWERS, PROVIDER_TIMEOUTS
from engine.metrics.stats import Stats
from engine.scenario.drain import Drain, park
from engine.scenario.expect import Table
from engine.scenario.retry import RETRIED_STATUS, Retry
from engine.transports import Headers, Reply, Transport, TransportError, retry_after


class Sender:
    """The request step of a walker: ``_send`` and ``_backoff``."""

    __slots__ = ("_drain", "_dress", "_now", "_sleep", "_slow", "_stats", "_transport")

    _transport: Transport
    _stats: Stats
    _now: Callable[[], float]
    _sleep: Callable[[float], Awaitable[None]]
    _dress: Callable[[Event, str], Headers] | None
    _drain: Drain  # --grace: shared with the run's Faults and the runner
    _slow: float | None  # the delivery policy's timeout (issue 22); None: no policy

    @property
    def draining(self) -> bool:
        """The deadline came and in-flight requests finish (``--grace``): start nothing."""
        return self._drain.draining

    def _post(self, url: str, event: Event, extra: Headers = ()) -> Awaitable[Reply]:
        """The delivery of ``event`` to ``url``, started: the transport's future of
        its answer when it can start it at once (the ``fast`` transport's
        :meth:`~engine.transports.fast.FastTransport.start`: no coroutine per
        request), else the transport's ``post`` coroutine. ``extra``: a retry's
        own headers (a delivery policy's, issue 22: Slack's retry number)."""
        dress = self._dress
        headers = event.headers if dress is None else dress(event, url)
        if extra:
            headers = (*headers, *extra)
        transport = self._transport
        start = getattr(transport, "start", None)
        if start is not None:
            future: Awaitable[Reply] | None = start("POST", url, event.body, headers)
            if future is not None:
                return future
        return transport.post(url, event.body, headers)

    async def _send(
        self,
        endpoint: int,
        url: str,
        event: Event | None,
        accepts: Table,
        retry: Retry | None = None,
        due: float | None = None,
        unseen: int = 0,
    ) -> bool:
        """One request (a GET without an event), recorded; True when its answer is
        one ``accepts`` (the request's expectation, :mod:`engine.scenario.expect`).
        ``due``: its intended send time; its latency is then counted from there,
        and its service time from the actual send.

        With ``retry`` (``--retries``), a 5xx, a 429, a timeout or a connection
        error is sent again after an exponential backoff with jitter (or the
        answer's Retry-After when longer); only the last
        attempt is recorded as the request, the earlier ones count as ``retries``
        (and a delivery whose every retry failed so, as ``retries_exhausted``),
        each earlier answer by its status or error kind (``retry:500``).
        ``unseen``: the status of a read-back that came before the order was
        readable (404), counted as ``reads_not_yet_visible``.
        At the deadline with ``--grace`` (the drain), nothing new is sent; a
        request in flight that gets its answer then counts as finished in grace.

        (:meth:`engine.scenario.flows.FlowWalker._run` inlines the one-attempt
        case, without ``retry``: a coroutine less per request.)"""
        stats = self._stats
        drain = self._drain
        attempt = 0
        failed: str | None = None  # why the last attempt failed: its error kind (None: an answer)
        while True:
            if drain.draining:  # the deadline came: nothing new is sent
                await park()
            drain.inflight += 1
            t0 = self._now()
            try:
                if event is None:
                    reply = await self._transport.get(url)
                else:
                    plan = None if retry is None or not attempt else retry.plan
                    extra = () if plan is None else plan.headers_for(attempt, failed)
                    reply = await self._post(url, event, extra)
            except TransportError as exc:
                drain.left(stats)
                exhausted = False
                if retry is not None and retry.retries_error(exc.kind):
                    if attempt < retry.limit:
                        stats.delivered(RETRIED_STATUS + exc.kind)  # an answer of its own
                        attempt += 1
                        failed = exc.kind
                        await self._backoff(retry, attempt)
                        continue
                    exhausted = attempt > 0
                return self._failed(endpoint, exc, event, exhausted)
            except anyio.get_cancelled_exc_class():
                drain.inflight -= 1
                stats.record_cancelled()
                raise
            drain.left(stats)
            if self._slow is not None and event is not None:
                self._timed(reply[1] - t0)
            status = reply[0]
            exhausted = False
            if retry is not None and not accepts[status] and retry.retries_answer(status):
                if attempt < retry.limit:
                    stats.delivered(RETRIED_STATUS + str(status))  # shown with the codes
                    attempt += 1
                    failed = None
                    await self._backoff(retry, attempt, retry_after(reply))
                    continue
                exhausted = attempt > 0
            return self._record(endpoint, reply, t0, due, event, accepts, unseen, exhausted)

    def _record(
        self,
        endpoint: int,
        reply: Reply,
        t0: float,
        due: float | None,
        event: Event | None,
        accepts: Table,
        unseen: int = 0,
        exhausted: bool = False,
    ) -> bool:
        """An answer, sent at ``t0`` (meant for ``due``), recorded as the request:
        True when it is one ``accepts``. ``exhausted``: the last of its retries."""
        status, done, body_head = reply
        stats = self._stats
        latency_us = int((done - t0) * 1e6)
        service_us: int | None = None
        if due is not None:
            # a due time in the future (the loop woke early) never makes it shorter
            service_us = latency_us
            latency_us = max(latency_us, int((done - due) * 1e6))
        if accepts[status]:  # the common case: nothing more to pass
            if status == unseen:
                stats.visibility_count("reads_not_yet_visible")
            return stats.record_response(endpoint, status, latency_us, body_head, True, service_us)
        if exhausted:
            stats.delivered("retries_exhausted")
        cid = "" if event is None else event.event_id  # X-Correlation-ID, for the sample
        return stats.record_response(
            endpoint, status, latency_us, body_head, False, service_us, cid
        )

    def _timed(self, took: float) -> None:
        """Issue 22: one webhook answer (any status) as the delivery policy's
        provider sees it: counted, and counted slow when it took longer than
        the provider waits (it would have given up on it and retried)."""
        stats = self._stats
        stats.delivered(PROVIDER_ANSWERS)
        if self._slow is not None and took > self._slow:
            stats.delivered(PROVIDER_TIMEOUTS)

    def _failed(
        self, endpoint: int, exc: TransportError, event: Event | None, exhausted: bool = False
    ) -> bool:
        """A request that got no answer, recorded as an error: False."""
        if exhausted:
            self._stats.delivered("retries_exhausted")
        # str(exc) is "kind: detail" (or just "kind"); the kind is recorded apart
        detail = str(exc).removeprefix(exc.kind).removeprefix(": ")
        cid = "" if event is None else event.event_id
        self._stats.record_error(endpoint, exc.kind, detail, cid)
        return False

    async def _backoff(self, retry: Retry, attempt: int, after: float | None = None) -> None:
        """Wait before retry number ``attempt``, at least ``after`` (the answer's
        Retry-After, capped; :meth:`Retry.wait`), counted as sent once it is
        over. A delivery still waiting to be retried when the run ends was in
        flight: it counts as cancelled at the deadline, as a request would."""
        try:
            await self._sleep(retry.wait(attempt, after))
            if self._drain.draining:  # the retry is not sent: it stays cancelled
                await park()
        except anyio.get_cancelled_exc_class():
            self._stats.record_cancelled()
            raise
        self._stats.delivered("retries")
