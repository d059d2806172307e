"""The reference target's in-memory state: orders, disputes, idempotency.

Pure (no I/O), so the contract's rules are unit-tested directly and the HTTP
layer stays thin. The lifecycle rules are ``engine.domain.statuses``'s verdicts; the
:class:`~target.profiles.Profile` turns each refusing verdict into a status
code. The store also counts what a load test's accounting is checked against:
deliveries of an already applied event id (``duplicates``) and events for an
order or dispute that does not exist yet (``early``).
"""

from __future__ import annotations

import uuid
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from engine.domain.statuses import (
    DisputeStatus,
    OrderStatus,
    Resolution,
    Verdict,
    judge_dispute_event,
    judge_order_event,
)
from target.binding import ChargebackEvent, OrderEvent, Reject, is_uuid
from target.binding import parse_chargeback as parse_chargeback
from target.binding import parse_order as parse_order
from target.profiles import STRICT, Profile

__all__ = ["Dispute", "Order", "Reject", "Store", "parse_chargeback", "parse_order"]

ORDERS = "orders"
CHARGEBACKS = "chargebacks"
_ORDER_STATUSES = {s.value: s for s in OrderStatus}
_DISPUTE_STATUSES = {s.value: s for s in DisputeStatus}
_RESOLUTIONS = {r.value for r in Resolution}
_OPEN = "open"


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
    status: str  # what the read API shows: open | won | lost | closed
    stage: DisputeStatus  # the lifecycle step the rules judge from
    evidence_due_at: str | None = None
    reason: str = ""
    amount: float = 0.0
    currency: str = ""
    opened_at: str = ""
    closed_at: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "dispute_id": self.dispute_id,
            "order_id": self.order_id,
            "status": self.status,
            "evidence_due_at": self.evidence_due_at,
        }

    def as_public_json(self) -> dict[str, Any]:
        """The public API's shape: optional times are left out when unset."""
        out: dict[str, Any] = {
            "dispute_id": self.dispute_id,
            "status": self.status,
            "order_id": self.order_id,
            "reason": self.reason,
            "amount": self.amount,
            "currency": self.currency,
            "opened_at": self.opened_at,
        }
        if self.evidence_due_at is not None:
            out["evidence_due_at"] = self.evidence_due_at
        if self.closed_at is not None:
            out["closed_at"] = self.closed_at
        return out


@dataclass(slots=True)
class LoggedEvent:
    """One applied order event, as the read API's event log shows it."""

    seq: int
    received_at: float  # unix time, formatted only when read
    event: OrderEvent


@dataclass
class Store:
    """All state of the reference target. Every mutation goes through ``apply_*``."""

    profile: Profile = STRICT
    orders: dict[str, Order] = field(default_factory=dict)
    disputes: dict[str, Dispute] = field(default_factory=dict)  # by order id
    seen_events: set[str] = field(default_factory=set)  # event ids applied at least once
    events: deque[LoggedEvent] = field(default_factory=lambda: deque(maxlen=1000))
    orders_by_status: Counter[str] = field(default_factory=Counter)
    disputes_by_status: Counter[str] = field(default_factory=Counter)
    duplicates: Counter[str] = field(default_factory=Counter)  # by endpoint
    early: Counter[str] = field(default_factory=Counter)  # by endpoint
    _seq: int = 0

    def apply_order(self, ev: OrderEvent, now: float = 0.0) -> None:
        """Apply an order event or raise :class:`Reject` with the profile's code."""
        p = self.profile
        duplicate = ev.event_id in self.seen_events
        if duplicate:
            self.duplicates[ORDERS] += 1
        status = _ORDER_STATUSES.get(ev.status)
        if p.missing_key is not None and not ev.order_id:
            raise Reject(p.missing_key, p.message("missing_order_id"))
        order = self.orders.get(ev.order_id)
        if status is None:
            if p.unknown_order_status_by_existence and order is None:
                raise Reject(p.order_codes[Verdict.NOT_FOUND], p.message("order_not_found"))
            old = order.status.value if order is not None else "none"
            raise Reject(422, p.message("unknown_status", status=ev.status, old=old))
        if duplicate and p.dedupe:
            raise Reject(409, "event already stored")
        verdict = judge_order_event(order.status if order else None, status)
        if verdict is not Verdict.APPLY:
            if verdict is Verdict.NOT_FOUND:
                self.early[ORDERS] += 1
            old = order.status.value if order is not None else "none"
            message = p.message(_ORDER_CASES[verdict], old=old, new=status.value)
            raise Reject(p.order_codes[verdict], message)
        if duplicate and p.replay_code is not None:
            raise Reject(p.replay_code, p.message("order_replay"))
        if order is None:
            if p.missing_key is not None and not is_uuid(ev.user_id):
                raise Reject(p.missing_key, p.message("bad_user_id", user_id=ev.user_id))
            order = Order(ev.order_id, ev.user_id, status, ev.created_at, ev.updated_at)
            self.orders[ev.order_id] = order
        else:
            self.orders_by_status[order.status.value] -= 1
            order.status = status
            order.updated_at = ev.updated_at
        self.orders_by_status[status.value] += 1
        if not duplicate:  # the event log is unique per (order, event id)
            if ev.event_id:
                self.seen_events.add(ev.event_id)
            self._seq += 1
            self.events.append(LoggedEvent(self._seq, now, ev))

    def apply_chargeback(self, ev: ChargebackEvent) -> None:
        """Apply a chargeback event or raise :class:`Reject` with the profile's code."""
        p = self.profile
        duplicate = ev.event_id in self.seen_events
        if duplicate:
            self.duplicates[CHARGEBACKS] += 1
        if p.missing_key is not None and not ev.order_id:
            raise Reject(p.missing_key, p.message("missing_order_id"))
        status = _DISPUTE_STATUSES.get(ev.status)
        if status is None:
            raise Reject(p.bad_chargeback, f"unknown chargeback status {ev.status!r}")
        if duplicate and p.dedupe:
            raise Reject(409, "event already stored")
        order = self.orders.get(ev.order_id)
        if order is None:
            self.early[CHARGEBACKS] += 1
            raise Reject(p.no_order, p.message("chargeback_no_order"))
        dispute = self.disputes.get(ev.order_id)
        verdict = judge_dispute_event(dispute.stage if dispute else None, status)
        if verdict is not Verdict.APPLY:
            if verdict is Verdict.NOT_FOUND:
                self.early[CHARGEBACKS] += 1
            code = p.dispute_codes[verdict]
            if code is not None:
                raise Reject(code, p.message(_DISPUTE_CASES[verdict], order_id=ev.order_id))
        if duplicate and p.replay_code is not None:  # rolled back: nothing moves
            raise Reject(p.replay_code, p.message("chargeback_replay"))
        new_status = self._closed_status(ev) if status is DisputeStatus.CLOSED else _OPEN
        if dispute is None:
            dispute = Dispute(
                dispute_id=ev.dispute_id or str(uuid.uuid4()),
                order_id=ev.order_id,
                status=_OPEN,
                stage=DisputeStatus.OPENED,
                evidence_due_at=ev.evidence_due_at,
                reason=ev.reason,
                amount=ev.amount,
                currency=ev.currency,
                opened_at=ev.occurred_at,
            )
            self.disputes[ev.order_id] = dispute
            self.disputes_by_status[_OPEN] += 1
        else:
            if ev.evidence_due_at:
                dispute.evidence_due_at = ev.evidence_due_at
            if status is DisputeStatus.UPDATED:
                if dispute.stage is not DisputeStatus.CLOSED:  # `updated` never moves the status
                    dispute.stage = DisputeStatus.UPDATED
            else:
                if status is DisputeStatus.CLOSED:
                    dispute.closed_at = ev.occurred_at
                self._move(dispute, new_status, status)
        order.on_hold = dispute.status == _OPEN
        if ev.event_id:
            self.seen_events.add(ev.event_id)

    def _closed_status(self, ev: ChargebackEvent) -> str:
        p = self.profile
        resolution = ev.resolution
        if p.closed_without_resolution is not None:  # the public service lower-cases it
            if not resolution:
                return p.closed_without_resolution
            resolution = resolution.lower()
        if resolution not in _RESOLUTIONS:
            raise Reject(p.bad_chargeback, "closing needs meta.resolution 'won' or 'lost'")
        return str(resolution)

    def _move(self, dispute: Dispute, new_status: str, stage: DisputeStatus) -> None:
        self.disputes_by_status[dispute.status] -= 1
        dispute.status = new_status
        dispute.stage = stage
        self.disputes_by_status[new_status] += 1


_ORDER_CASES = {
    Verdict.NOT_FOUND: "order_not_found",
    Verdict.ALREADY_EXISTS: "order_exists",
    Verdict.INVALID: "invalid_transition",
}
_DISPUTE_CASES = {
    Verdict.NOT_FOUND: "no_dispute",
    Verdict.ALREADY_EXISTS: "dispute_exists",
    Verdict.INVALID: "dispute_closed",
}
"""The message case (target.profiles) of a refusing verdict."""
