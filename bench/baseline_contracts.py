"""The hand-written payload builders ``--contract ingest|plan`` used until
December 2026, kept verbatim as the baseline: bench/builders.py measures the
compiled ``ingest`` file against ``IngestContract``, and
tests/test_scenario_golden.py proves the built-in ``ingest`` and ``plan``
files send these bytes for the same ids and clock. Not used by the engine
(engine/scenario/builtin/*.toml replaced them).

``ingest`` is the real ingest service's DTOs (docs/CONTRACT.md); ``plan`` is
the original plan's field names. A builder returns an
:class:`~engine.domain.contracts.Event` and changes nothing it was given: what
an order carries across its events (``created_at``, the plan's
``chargeback_id``) is fixed when the contract makes the :class:`OrderRef`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol

import orjson

from engine.domain.clock import WallClock, rfc3339
from engine.domain.contracts import Event
from engine.domain.ids import new_uuid
from engine.domain.statuses import EVIDENCE_DAYS_OPENED, EVIDENCE_DAYS_UPDATED, DisputeStatus

ORDERS_PATH = "/webhooks/payments/orders"
CHARGEBACKS_PATH = "/webhooks/payments/chargebacks"
AMOUNT = 99.99
CURRENCY = "USD"
REASON = "fraudulent"
_DAY = 86_400.0


CORRELATION_HEADER = "X-Correlation-ID"
"""Every webhook carries its event id here; the service echoes it on the answer."""


@dataclass(frozen=True, slots=True)
class OrderRef:
    """What a scenario knows about the order it drives, fixed at creation.

    Make one with :meth:`Contract.new_order`, which fills what that contract
    sends on every event of the order (``created_at`` for ``ingest``, the
    dispute's id for ``plan``); the defaults suit a test that builds one by hand."""

    order_id: str = field(default_factory=new_uuid)
    user_id: str = field(default_factory=new_uuid)
    created_at: str = field(default_factory=lambda: rfc3339(time.time()))
    dispute_id: str = field(default_factory=new_uuid)


def _event(event_id: str, body: dict[str, object]) -> Event:
    return Event(event_id, ((CORRELATION_HEADER, event_id),), orjson.dumps(body))


class Contract(Protocol):
    name: str

    def new_order(self) -> OrderRef: ...

    def order_event(self, order: OrderRef, status: str) -> Event: ...

    def chargeback_event(self, order: OrderRef, status: str, resolution: str | None) -> Event: ...


def _evidence_days(status: str) -> int | None:
    if status == DisputeStatus.OPENED:
        return EVIDENCE_DAYS_OPENED
    if status == DisputeStatus.UPDATED:
        return EVIDENCE_DAYS_UPDATED
    return None


class IngestContract:
    """The ingest service's real DTOs."""

    name = "ingest"

    def __init__(self, clock: WallClock | None = None) -> None:
        self.clock = clock or WallClock()

    def new_order(self) -> OrderRef:
        """``created_at`` is stamped now and repeated on every event of the order."""
        return OrderRef(new_uuid(), new_uuid(), self.clock.stamp(), "")

    def order_event(self, order: OrderRef, status: str) -> Event:
        event_id = new_uuid()
        return _event(
            event_id,
            {
                "provider_event_id": event_id,
                "order_id": order.order_id,
                "user_id": order.user_id,
                "status": status,
                "created_at": order.created_at,
                "updated_at": self.clock.stamp(),
            },
        )

    def chargeback_event(self, order: OrderRef, status: str, resolution: str | None) -> Event:
        event_id = new_uuid()
        body: dict[str, object] = {
            "provider_event_id": event_id,
            "order_id": order.order_id,
            "user_id": order.user_id,
            "status": status,
            "reason": REASON,
            "amount": AMOUNT,
            "currency": CURRENCY,
            "occurred_at": self.clock.stamp(),
        }
        days = _evidence_days(status)
        if days is not None:
            body["evidence_due_at"] = self.clock.stamp(days * _DAY)
        if resolution is not None:
            body["meta"] = {"resolution": resolution}
        return _event(event_id, body)


class PlanContract:
    """The original plan's field names (``provider_order_id``, ``event_id``, ...)."""

    name = "plan"

    def __init__(self, clock: WallClock | None = None) -> None:
        self.clock = clock or WallClock()

    def new_order(self) -> OrderRef:
        """The dispute's ``chargeback_id`` is drawn now: every event of it repeats it."""
        return OrderRef(new_uuid(), new_uuid(), "", new_uuid())

    def order_event(self, order: OrderRef, status: str) -> Event:
        event_id = new_uuid()
        return _event(
            event_id,
            {
                "provider_order_id": order.order_id,
                "status": status,
                "user_id": order.user_id,
                "amount": AMOUNT,
                "currency": CURRENCY,
                "occurred_at": self.clock.stamp(),
                "event_id": event_id,
            },
        )

    def chargeback_event(self, order: OrderRef, status: str, resolution: str | None) -> Event:
        event_id = new_uuid()
        body: dict[str, object] = {
            "chargeback_id": order.dispute_id,
            "provider_order_id": order.order_id,
            "status": status,
            "reason": REASON,
            "amount": AMOUNT,
            "currency": CURRENCY,
            "occurred_at": self.clock.stamp(),
            "event_id": event_id,
        }
        if resolution is not None:
            body["meta"] = {"resolution": resolution}
        return _event(event_id, body)


def make_contract(name: str, clock: WallClock | None = None) -> Contract:
    """The builder for ``--contract NAME``."""
    if name == "ingest":
        return IngestContract(clock)
    if name == "plan":
        return PlanContract(clock)
    raise ValueError(f"unknown contract {name!r}")
