"""Payload builders for the two contracts, in one place.

``ingest`` is the real ingest service's DTOs (CONTRACT.md); ``plan`` is the
original plan's field names, kept for services built to the plan. Both take
the same inputs, so the scenarios never know which one they speak.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import orjson

from engine.domain.clock import WallClock
from engine.domain.ids import new_uuid
from engine.domain.statuses import EVIDENCE_DAYS_OPENED, EVIDENCE_DAYS_UPDATED, DisputeStatus

ORDERS_PATH = "/webhooks/payments/orders"
CHARGEBACKS_PATH = "/webhooks/payments/chargebacks"
AMOUNT = 99.99
CURRENCY = "USD"
REASON = "fraudulent"
_DAY = 86_400.0


@dataclass(slots=True)
class OrderRef:
    """What a scenario knows about the order it drives."""

    order_id: str = field(default_factory=new_uuid)
    user_id: str = field(default_factory=new_uuid)
    created_at: str = ""
    dispute_id: str = ""


class Contract(Protocol):
    name: str

    def order_event(self, order: OrderRef, status: str) -> bytes: ...

    def chargeback_event(self, order: OrderRef, status: str, resolution: str | None) -> bytes: ...


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

    def order_event(self, order: OrderRef, status: str) -> bytes:
        now = self.clock.stamp()
        if not order.created_at:
            order.created_at = now
        return orjson.dumps(
            {
                "provider_event_id": new_uuid(),
                "order_id": order.order_id,
                "user_id": order.user_id,
                "status": status,
                "created_at": order.created_at,
                "updated_at": now,
            }
        )

    def chargeback_event(self, order: OrderRef, status: str, resolution: str | None) -> bytes:
        body: dict[str, object] = {
            "provider_event_id": new_uuid(),
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
        return orjson.dumps(body)


class PlanContract:
    """The original plan's field names (``provider_order_id``, ``event_id``, ...)."""

    name = "plan"

    def __init__(self, clock: WallClock | None = None) -> None:
        self.clock = clock or WallClock()

    def order_event(self, order: OrderRef, status: str) -> bytes:
        return orjson.dumps(
            {
                "provider_order_id": order.order_id,
                "status": status,
                "user_id": order.user_id,
                "amount": AMOUNT,
                "currency": CURRENCY,
                "occurred_at": self.clock.stamp(),
                "event_id": new_uuid(),
            }
        )

    def chargeback_event(self, order: OrderRef, status: str, resolution: str | None) -> bytes:
        if not order.dispute_id:
            order.dispute_id = new_uuid()
        body: dict[str, object] = {
            "chargeback_id": order.dispute_id,
            "provider_order_id": order.order_id,
            "status": status,
            "reason": REASON,
            "amount": AMOUNT,
            "currency": CURRENCY,
            "occurred_at": self.clock.stamp(),
            "event_id": new_uuid(),
        }
        if resolution is not None:
            body["meta"] = {"resolution": resolution}
        return orjson.dumps(body)


def make_contract(name: str, clock: WallClock | None = None) -> Contract:
    """The builder for ``--contract NAME``."""
    if name == "ingest":
        return IngestContract(clock)
    if name == "plan":
        return PlanContract(clock)
    raise ValueError(f"unknown contract {name!r}")
