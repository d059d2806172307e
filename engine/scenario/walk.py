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
``unfinished``; the counters are the flows' (engine/domain/outcomes.py).

Corrected latency (the open model): a journey that arrived at its intended
time ``t`` meant to send its step ``i`` (counting on through the read-back
and the dispute's steps) at ``t + i * think``, the provider's schedule for
the order's events. Each request's latency is recorded from that intended
time, and its service time from its actual send. So every wait before a
request is in its latency: a busy event loop, a think timer firing late, and
the earlier steps' answers (a step is sent only once the previous one is
answered, so a stalled earlier step delays all later ones), as wrk2 and oha's
``--latency-correction`` count from the schedule, not the send. Without an
intended time (the closed model), the two are the same. Deliberate faults
(duplicates, early events, retries) are timed from their actual send.

The faults themselves are sent by engine/scenario/faults.py, --retries'
policy is engine/scenario/retry.py, and each request is sent, judged and
recorded by engine/scenario/send.py (shared with the scenario file's walker,
engine/scenario/flows.py).
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio

from engine.domain.contracts import CHARGEBACKS_PATH, ORDERS_PATH, Contract, Event, OrderRef
from engine.domain.outcomes import FlowKeys
from engine.domain.shape import INGEST_SHAPE
from engine.domain.statuses import DisputeStatus, OrderStatus, Resolution
from engine.domain.urls import join_url, split_query
from engine.metrics.stats import DISPUTES, ORDERS, READS, Stats
from engine.scenario.delivery import Dressing
from engine.scenario.drain import Drain, park
from engine.scenario.expect import ACCEPTS, Expect
from engine.scenario.faults import Faults
from engine.scenario.journeys import DisputePlan, Journey
from engine.scenario.retry import Retry
from engine.scenario.send import Sender
from engine.transports import Transport

# the flow counters (engine/domain/outcomes.py), built once; module globals:
# a global lookup is cheaper than an attribute's
_ORDER = FlowKeys.for_flow(INGEST_SHAPE.flow("order"))
_DISPUTE = FlowKeys.for_flow(INGEST_SHAPE.flow("dispute"))
_ORDERS_STARTED = _ORDER.started
_ORDERS_ABORTED = _ORDER.aborted
_ORDERS_UNFINISHED = _ORDER.unfinished
_ORDERS_SUCCESS = _ORDER.ended[OrderStatus.SUCCESS]
_ORDERS_FAILED = _ORDER.ended[OrderStatus.FAILED]
_DISPUTES_OPENED = _DISPUTE.started
_DISPUTES_ABORTED = _DISPUTE.aborted
_DISPUTES_UPDATED = _DISPUTE.visited[DisputeStatus.UPDATED]
_DISPUTES_UNFINISHED = _DISPUTE.unfinished
_DISPUTES_WON = _DISPUTE.ended[Resolution.WON]
_DISPUTES_LOST = _DISPUTE.ended[Resolution.LOST]
_CLOSED, _UPDATED = DisputeStatus.CLOSED, DisputeStatus.UPDATED
_FIRST = ACCEPTS[Expect.FIRST]  # every webhook a journey sends is a first delivery
_READ = ACCEPTS[Expect.READ]
_READ_BACK = ACCEPTS[Expect.READ_BACK]


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Where each kind of request goes."""

    orders: str
    chargebacks: str
    reads: str  # + the order id + reads_query
    # --read-mix api: the read API's list reads, taken in turn with the order's own
    lists: tuple[str, ...] = ()
    reads_query: str = ""  # the read API's own query ("?token=abc"), after the id

    @classmethod
    def at(cls, target: str, read_api: str | None = None, read_mix: str = "id") -> Endpoints:
        """The webhook paths on ``target``; reads on ``read_api`` when it is apart.

        Both may have a path prefix and a query (see :mod:`engine.domain.urls`).
        """
        base = read_api or target
        lists = (join_url(base, "/orders?limit=10"), join_url(base, "/orders/events?limit=10"))
        reads, reads_query = split_query(join_url(base, "/orders/"))
        return cls(
            join_url(target, ORDERS_PATH),
            join_url(target, CHARGEBACKS_PATH),
            reads,
            lists if read_mix == "api" else (),
            reads_query,
        )

    def read(self, order_id: str) -> str:
        """``GET /orders/{id}`` on the read API, its query after the id."""
        return self.reads + order_id + self.reads_query


class Walker(Sender):
    """Sends journeys for every virtual user of a run (it holds no per-user state).

    ``now`` times requests (the transport stamps completion on the same
    clock); ``sleep`` pauses the think time; ``plan`` draws a user's next
    journey from that user's RNG; ``on_order`` hears of each order whose every
    step was accepted, with its final status and last event's id (the
    ``--verify`` sample), ``on_dispute`` likewise of each dispute, with its
    resolution (the status the read API shows once it is closed);
    ``dressing`` adds the ``--header`` pairs and the signature to every webhook.
    """

    __slots__ = (
        "_contract",
        "_endpoints",
        "_faults",
        "_on_dispute",
        "_on_order",
        "_reads_done",
        "_retries",
        "_think",
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
        on_order: Callable[[str, str, str], None] | None = None,
        on_dispute: Callable[[str, str, str], None] | None = None,
        dressing: Dressing | None = None,
        retries: int = 0,
        drain: Drain | None = None,
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
        self._on_dispute = on_dispute
        self._reads_done = 0
        self._retries = retries
        self._slow = None  # no delivery policy (issue 22): a scenario file's only
        self._dress = dressing.headers if dressing is not None and dressing.needed else None
        self._drain = drain if drain is not None else Drain()
        self._faults = Faults(transport, stats, now, self._dress, self._drain)

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
        dups = journey.duplicates
        dispute_thinks = len(journey.dispute.statuses) - 1 if journey.dispute is not None else 0
        url = self._endpoints.orders
        order = contract.new_order()
        ahead: Event | None = None  # sent early; delivered again in its turn
        retry = Retry(journey.retry_seed, self._retries) if self._retries else None
        if self._drain.draining:  # the deadline came: no journey begins in the grace
            await park()
        stats.scenario(_ORDERS_STARTED)
        try:
            if journey.early_order:
                first = contract.order_event(order, steps[0])
                ahead = contract.order_event(order, steps[1])
                ahead_ok = await self._faults.early(ORDERS, url, ahead)
            for step, status in enumerate(steps):
                if step and think:
                    await self._sleep(think)
                if ahead is not None and step == 0:
                    event = first
                elif ahead is not None and step == 1:
                    event = ahead
                    if ahead_ok:  # it applied early: in its turn it is a re-delivery
                        await self._faults.again(ORDERS, url, event)
                        continue
                else:
                    event = contract.order_event(order, status)
                due = None if intended is None else intended + step * think
                if not await self._send(ORDERS, url, event, _FIRST, retry, due):
                    stats.scenario(_ORDERS_ABORTED)
                    return (len(steps) - 1 - step + dispute_thinks) * think
                if dups and (dups >> step) & 1:
                    await self._faults.again(ORDERS, url, event)
        except anyio.get_cancelled_exc_class():
            stats.scenario(_ORDERS_UNFINISHED)  # cut off by the deadline or a stop
            raise
        final = steps[-1]
        success = final is OrderStatus.SUCCESS
        stats.scenario(_ORDERS_SUCCESS if success else _ORDERS_FAILED)
        if self._on_order is not None:
            self._on_order(order.order_id, final.value, event.event_id)
        # the read-back and the dispute follow the last step without a think
        last = None if intended is None else intended + (len(steps) - 1) * think
        if journey.read_back:
            read = self._read_url(order.order_id)
            if read.endswith(order.order_id):  # its own read: a 404 is "not yet visible"
                await self._send(READS, read, None, _READ_BACK, None, last, 404)
            else:
                await self._send(READS, read, None, _READ, None, last)
        if journey.dispute is not None:
            return await self._dispute(
                order, journey.dispute, dups >> len(steps), journey.early_dispute, retry, last
            )
        return None

    def _read_url(self, order_id: str) -> str:
        """``GET /orders/{id}``; with ``--read-mix api``, in turn with the lists."""
        ends = self._endpoints
        if not ends.lists:
            return ends.read(order_id)
        turn = self._reads_done % (len(ends.lists) + 1)
        self._reads_done += 1
        return ends.read(order_id) if turn == 0 else ends.lists[turn - 1]

    async def _dispute(
        self,
        order: OrderRef,
        plan: DisputePlan,
        dups: int = 0,
        early: bool = False,
        retry: Retry | None = None,
        intended: float | None = None,
    ) -> float | None:
        """Like :meth:`walk`, for the dispute that follows an accepted success."""
        stats = self._stats
        think = self._think
        steps = plan.statuses
        url = self._endpoints.chargebacks
        contract = self._contract
        ahead: Event | None = None
        if self._drain.draining:  # no dispute begins in the grace (--grace)
            await park()
        stats.scenario(_DISPUTES_OPENED)  # begun; it ends won, lost, aborted or unfinished
        try:
            if early:
                first = contract.chargeback_event(order, steps[0], None)
                res1 = plan.resolution if steps[1] is _CLOSED else None
                ahead = contract.chargeback_event(order, steps[1], res1)
                ahead_ok = await self._faults.early(DISPUTES, url, ahead)
            for step, status in enumerate(steps):
                if step and think:
                    await self._sleep(think)
                if ahead is not None and step == 0:
                    event = first
                elif ahead is not None and step == 1:
                    event = ahead
                else:
                    res = plan.resolution if status is _CLOSED else None
                    event = contract.chargeback_event(order, status, res)
                if ahead is not None and step == 1 and ahead_ok:
                    await self._faults.again(DISPUTES, url, event)
                elif not await self._send(
                    DISPUTES,
                    url,
                    event,
                    _FIRST,
                    retry,
                    None if intended is None else intended + step * think,
                ):
                    stats.scenario(_DISPUTES_ABORTED)
                    return (len(steps) - 1 - step) * think
                elif dups and (dups >> step) & 1:
                    await self._faults.again(DISPUTES, url, event)
                if status is _UPDATED:
                    stats.scenario(_DISPUTES_UPDATED)
        except anyio.get_cancelled_exc_class():
            stats.scenario(_DISPUTES_UNFINISHED)
            raise
        won = plan.resolution is Resolution.WON
        stats.scenario(_DISPUTES_WON if won else _DISPUTES_LOST)
        if self._on_dispute is not None:
            self._on_dispute(order.order_id, plan.resolution.value, event.event_id)
        return None
