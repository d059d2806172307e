"""The reference target's in-memory domain: orders, disputes, idempotency.

Applies events with the status codes of CONTRACT.md. Pure (no I/O), so the
contract's rules are unit-tested directly and the HTTP layer stays thin.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.domain import DisputeStatus, OrderStatus, Resolution, can_be_updated_to

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_ORDER_STATUSES = {s.value: s for s in OrderStatus}
_DISPUTE_STATUSES = {s.value: s for s in DisputeStatus}
_RESOLUTIONS = {r.value for r in Resolution}


class Reject(Exception):
    """An event the service refuses: ``code`` and the ``message`` of its JSON body."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(slots=True)
class Order:
    order_id: str
    user_id: str
    status: OrderStatus
    created_at: str
    updated_at: str
    on_hold: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "user_id": self.user_id,
            "status": self.status.value,
            "on_hold": self.on_hold,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


@dataclass(slots=True)
class Dispute:
    dispute_id: str
    order_id: str
    status: str  # open | won | lost
    evidence_due_at: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "dispute_id": self.dispute_id,
            "order_id": self.order_id,
            "status": self.status,
            "evidence_due_at": self.evidence_due_at,
        }


def _str(payload: dict[str, Any], key: str, *, kind: str = "string") -> str:
    value = payload.get(key)
    if not isinstance(value, str) or not value:
        raise Reject(400, f"field {key!r} is required and must be a {kind}")
    if kind == "uuid" and not _UUID.match(value):
        raise Reject(400, f"field {key!r} must be a UUID")
    if kind == "RFC 3339 time":
        try:
            datetime.fromisoformat(value)
        except ValueError:
            raise Reject(400, f"field {key!r} must be an RFC 3339 time") from None
    return value


@dataclass(slots=True)
class OrderEvent:
    event_id: str
    order_id: str
    user_id: str
    status: str
    created_at: str
    updated_at: str


@dataclass(slots=True)
class ChargebackEvent:
    event_id: str
    order_id: str
    dispute_id: str | None
    status: str
    resolution: str | None
    evidence_due_at: str | None
    occurred_at: str


def parse_order(payload: Any, contract: str) -> OrderEvent:
    """Bind an order webhook body (400 if it cannot be bound)."""
    if not isinstance(payload, dict):
        raise Reject(400, "body must be a JSON object")
    if contract == "plan":
        occurred = _str(payload, "occurred_at", kind="RFC 3339 time")
        return OrderEvent(
            event_id=_str(payload, "event_id"),
            order_id=_str(payload, "provider_order_id"),
            user_id=_str(payload, "user_id"),
            status=_str(payload, "status"),
            created_at=occurred,
            updated_at=occurred,
        )
    return OrderEvent(
        event_id=_str(payload, "provider_event_id", kind="uuid"),
        order_id=_str(payload, "order_id", kind="uuid"),
        user_id=_str(payload, "user_id", kind="uuid"),
        status=_str(payload, "status"),
        created_at=_str(payload, "created_at", kind="RFC 3339 time"),
        updated_at=_str(payload, "updated_at", kind="RFC 3339 time"),
    )


def parse_chargeback(payload: Any, contract: str) -> ChargebackEvent:
    """Bind a chargeback webhook body (400 if it cannot be bound)."""
    if not isinstance(payload, dict):
        raise Reject(400, "body must be a JSON object")
    meta = payload.get("meta")
    if meta is not None and not isinstance(meta, dict):
        raise Reject(400, "field 'meta' must be an object of strings")
    resolution = meta.get("resolution") if meta else None
    if not isinstance(payload.get("amount", 0), int | float):
        raise Reject(400, "field 'amount' must be a number")
    if contract == "plan":
        return ChargebackEvent(
            event_id=_str(payload, "event_id"),
            order_id=_str(payload, "provider_order_id"),
            dispute_id=_str(payload, "chargeback_id"),
            status=_str(payload, "status"),
            resolution=resolution,
            evidence_due_at=None,
            occurred_at=_str(payload, "occurred_at", kind="RFC 3339 time"),
        )
    due = payload.get("evidence_due_at")
    if due is not None:
        due = _str(payload, "evidence_due_at", kind="RFC 3339 time")
    return ChargebackEvent(
        event_id=_str(payload, "provider_event_id", kind="uuid"),
        order_id=_str(payload, "order_id", kind="uuid"),
        dispute_id=None,
        status=_str(payload, "status"),
        resolution=resolution,
        evidence_due_at=due,
        occurred_at=_str(payload, "occurred_at", kind="RFC 3339 time"),
    )


@dataclass
class Store:
    """All state of the reference target. Every mutation goes through ``apply_*``."""

    orders: dict[str, Order] = field(default_factory=dict)
    disputes: dict[str, Dispute] = field(default_factory=dict)  # by order id
    seen_events: set[str] = field(default_factory=set)
    events: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=1000))
    orders_by_status: Counter[str] = field(default_factory=Counter)
    disputes_by_status: Counter[str] = field(default_factory=Counter)

    def apply_order(self, ev: OrderEvent) -> None:
        """Apply an order event or raise :class:`Reject` (404/409/422)."""
        status = _ORDER_STATUSES.get(ev.status)
        if status is None:
            raise Reject(422, f"unknown order status {ev.status!r}")
        if ev.event_id in self.seen_events:
            raise Reject(409, "event already stored")
        order = self.orders.get(ev.order_id)
        if status is OrderStatus.CREATED:
            if order is not None:
                raise Reject(409, "order already exists")
            order = Order(ev.order_id, ev.user_id, status, ev.created_at, ev.updated_at)
            self.orders[ev.order_id] = order
        else:
            if order is None:
                raise Reject(404, "order not found")
            if not can_be_updated_to(order.status, status):
                raise Reject(422, f"invalid transition {order.status.value} -> {status.value}")
            self.orders_by_status[order.status.value] -= 1
            order.status = status
            order.updated_at = ev.updated_at
        self.orders_by_status[status.value] += 1
        self.seen_events.add(ev.event_id)
        self.events.append(
            {
                "event_id": ev.event_id,
                "order_id": ev.order_id,
                "status": status.value,
                "updated_at": ev.updated_at,
            }
        )

    def apply_chargeback(self, ev: ChargebackEvent) -> None:
        """Apply a chargeback event or raise :class:`Reject` (404/409/422)."""
        status = _DISPUTE_STATUSES.get(ev.status)
        if status is None:
            raise Reject(422, f"unknown chargeback status {ev.status!r}")
        if ev.event_id in self.seen_events:
            raise Reject(409, "event already stored")
        order = self.orders.get(ev.order_id)
        if order is None:
            raise Reject(404, "order not found")
        dispute = self.disputes.get(ev.order_id)
        if status is DisputeStatus.OPENED:
            if dispute is not None:
                raise Reject(409, "dispute already exists for this order")
            dispute = Dispute(
                ev.dispute_id or str(uuid.uuid4()), ev.order_id, "open", ev.evidence_due_at
            )
            self.disputes[ev.order_id] = dispute
            self.disputes_by_status["open"] += 1
            order.on_hold = True
        else:
            if dispute is None:
                raise Reject(404, "no open dispute for this order")
            if dispute.status != "open":
                raise Reject(422, f"dispute is already {dispute.status}")
            if status is DisputeStatus.UPDATED:
                dispute.evidence_due_at = ev.evidence_due_at or dispute.evidence_due_at
            else:
                if ev.resolution not in _RESOLUTIONS:
                    raise Reject(422, "closing needs meta.resolution 'won' or 'lost'")
                self.disputes_by_status["open"] -= 1
                dispute.status = str(ev.resolution)
                self.disputes_by_status[dispute.status] += 1
                order.on_hold = False
        self.seen_events.add(ev.event_id)
