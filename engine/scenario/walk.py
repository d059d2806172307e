"""Walking one journey through a transport: *what* a virtual user sends.

A journey (an order's steps, maybe a read-back, maybe a dispute) is sent
step by step, each answer recorded into the run's :class:`Stats`, with the
think time paused between steps. *When* journeys start is not decided here:
that is the load model's (:mod:`engine.load`), which calls :meth:`Walker.walk`.

A step whose answer is not one its expectation accepts (see
:mod:`engine.scenario.expect`: for a first delivery, an error status), or
that gets no answer at all, is rejected and ends the journey there.
:meth:`Walker.walk` then says how much think time the journey's remaining
steps (its dispute's too) would have taken, so the load model can keep a
failing service's load no higher than a healthy one's (the closed model
waits at least that long before the next journey).

Scenario outcomes partition what was begun: an order or dispute cut off by
the deadline or a stop (the cancellation that reaches a step) is
``unfinished``; see :class:`~engine.domain.outcomes.ScenarioKey`.

Corrected latency (the open model): a journey that arrived at its intended
time ``t`` meant to send its step ``i`` (counting on through the read-back
and the dispute's steps) at ``t + i * think``, the provider's schedule for
the order's events. Each request's latency is recorded from that intended
time, and its service time from its actual send. So every wait before a
request is in its latency: a busy event loop, a think timer firing late, and
the earlier steps' answers (a step is sent only once the previous one is
answered, so a stalled earlier step delays all later ones), as wrk2 and oha's
``--latency-correction`` count from the schedule, not the send. Without an
intended time (the closed model), the two are the same.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio

from engine.domain.contracts import CHARGEBACKS_PATH, ORDERS_PATH, Contract, Event, OrderRef
from engine.domain.outcomes import ScenarioKey
from engine.domain.statuses import DisputeStatus, OrderStatus, Resolution
from engine.metrics.stats import DISPUTES, ORDERS, READS, Stats
from engine.scenario.expect import ACCEPTS, Expect, Table
from engine.scenario.journeys import DisputePlan, Journey
from engine.transports import Transport, TransportError

# module globals: a global lookup is cheaper than an enum class attribute's
_ORDERS_STARTED = ScenarioKey.ORDERS_STARTED
_ORDERS_ABORTED = ScenarioKey.ORDERS_ABORTED
_ORDERS_UNFINISHED = ScenarioKey.ORDERS_UNFINISHED
_ORDERS_SUCCESS = ScenarioKey.ORDERS_SUCCESS
_ORDERS_FAILED = ScenarioKey.ORDERS_FAILED
_DISPUTES_OPENED = ScenarioKey.DISPUTES_OPENED
_DISPUTES_ABORTED = ScenarioKey.DISPUTES_ABORTED
_DISPUTES_UPDATED = ScenarioKey.DISPUTES_UPDATED
_DISPUTES_UNFINISHED = ScenarioKey.DISPUTES_UNFINISHED
_DISPUTES_WON = ScenarioKey.DISPUTES_WON
_DISPUTES_LOST = ScenarioKey.DISPUTES_LOST
_CLOSED, _UPDATED = DisputeStatus.CLOSED, DisputeStatus.UPDATED
_FIRST = ACCEPTS[Expect.FIRST]  # every webhook a journey sends is a first delivery
_READ = ACCEPTS[Expect.READ]


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Where each kind of request goes."""

    orders: str
    chargebacks: str
    reads: str  # + the order id

    @classmethod
    def at(cls, target: str, read_api: str | None = None) -> Endpoints:
        """The webhook paths on ``target``; reads on ``read_api`` when it is apart."""
        reads = (read_api or target) + "/orders/"
        return cls(target + ORDERS_PATH, target + CHARGEBACKS_PATH, reads)


class Walker:
    """Sends journeys for every virtual user of a run (it holds no per-user state).

    ``now`` times requests (the transport stamps completion on the same
    clock); ``sleep`` pauses the think time; ``plan`` draws a user's next
    journey from that user's RNG; ``on_order`` hears of each order whose every
    step was accepted, with its final status (the ``--verify`` sample).
    """

    __slots__ = (
        "_contract",
        "_endpoints",
        "_now",
        "_on_order",
        "_sleep",
        "_stats",
        "_think",
        "_transport",
        "plan",
    )

    def __init__(
        self,
        *,
        transport: Transport,
        stats: Stats,
        contract: Contract,
        endpoints: Endpoints,
        plan: Callable[[random.Random], Journey],
        think: float,
        now: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
        on_order: Callable[[str, str], None] | None = None,
    ) -> None:
        self._transport = transport
        self._stats = stats
        self._contract = contract
        self._endpoints = endpoints
        self.plan = plan
        self._think = think
        self._now = now
        self._sleep = sleep
        self._on_order = on_order

    async def walk(self, journey: Journey, intended: float | None = None) -> float | None:
        """Send one journey. None when every step was accepted; else it ended at a
        rejected step, and this is the think time its remaining steps (the
        dispute's too) would have taken (0.0 when none were left).

        ``intended``: when the journey was meant to start (the open model's
        arrival); latencies are then corrected (see the module docstring)."""
        stats = self._stats
        contract = self._contract
        think = self._think
        steps = journey.order
        dispute_thinks = len(journey.dispute.statuses) - 1 if journey.dispute is not None else 0
        url = self._endpoints.orders
        order = contract.new_order()
        stats.scenario(_ORDERS_STARTED)
        try:
            for step, status in enumerate(steps):
                if step and think:
                    await self._sleep(think)
                event = contract.order_event(order, status)
                due = None if intended is None else intended + step * think
                if not await self._send(ORDERS, url, event, _FIRST, due):
                    stats.scenario(_ORDERS_ABORTED)
                    return (len(steps) - 1 - step + dispute_thinks) * think
        except anyio.get_cancelled_exc_class():
            stats.scenario(_ORDERS_UNFINISHED)  # cut off by the deadline or a stop
            raise
        final = steps[-1]
        success = final is OrderStatus.SUCCESS
        stats.scenario(_ORDERS_SUCCESS if success else _ORDERS_FAILED)
        if self._on_order is not None:
            self._on_order(order.order_id, final.value)
        # the read-back and the dispute follow the last step without a think
        last = None if intended is None else intended + (len(steps) - 1) * think
        if journey.read_back:
            await self._send(READS, self._endpoints.reads + order.order_id, None, _READ, last)
        if journey.dispute is not None:
            return await self._dispute(order, journey.dispute, last)
        return None

    async def _dispute(
        self, order: OrderRef, plan: DisputePlan, intended: float | None
    ) -> float | None:
        """Like :meth:`walk`, for the dispute that follows an accepted success."""
        stats = self._stats
        think = self._think
        steps = plan.statuses
        url = self._endpoints.chargebacks
        stats.scenario(_DISPUTES_OPENED)  # begun; it ends won, lost, aborted or unfinished
        try:
            for step, status in enumerate(steps):
                if step and think:
                    await self._sleep(think)
                res = plan.resolution if status is _CLOSED else None
                event = self._contract.chargeback_event(order, status, res)
                due = None if intended is None else intended + step * think
                if not await self._send(DISPUTES, url, event, _FIRST, due):
                    stats.scenario(_DISPUTES_ABORTED)
                    return (len(steps) - 1 - step) * think
                if status is _UPDATED:
                    stats.scenario(_DISPUTES_UPDATED)
        except anyio.get_cancelled_exc_class():
            stats.scenario(_DISPUTES_UNFINISHED)
            raise
        won = plan.resolution is Resolution.WON
        stats.scenario(_DISPUTES_WON if won else _DISPUTES_LOST)
        return None

    async def _send(
        self,
        endpoint: int,
        url: str,
        event: Event | None,
        accepts: Table,
        due: float | None = None,
    ) -> bool:
        """One request (a GET without an event), recorded; True when its answer is
        one ``accepts`` (the request's expectation, :mod:`engine.scenario.expect`).
        ``due``: its intended send time; its latency is then counted from there."""
        stats = self._stats
        t0 = self._now()
        try:
            if event is None:
                status, done, body_head = await self._transport.get(url)
            else:
                status, done, body_head = await self._transport.post(url, event.body, event.headers)
        except TransportError as exc:
            # str(exc) is "kind: detail" (or just "kind"); the kind is recorded apart
            detail = str(exc).removeprefix(exc.kind).removeprefix(": ")
            stats.record_error(endpoint, exc.kind, detail)
            return False
        except anyio.get_cancelled_exc_class():
            stats.record_cancelled()
            raise
        latency_us = int((done - t0) * 1e6)
        if due is None:
            return stats.record_response(endpoint, status, latency_us, body_head, accepts[status])
        # a due time in the future (the loop woke early) never makes it shorter
        corrected_us = max(latency_us, int((done - due) * 1e6))
        return stats.record_response(
            endpoint, status, corrected_us, body_head, accepts[status], latency_us
        )
