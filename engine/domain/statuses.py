"""The payment domain's lifecycles, exactly as CONTRACT.md states them.

The order status machine mirrors the service's ``Status.CanBeUpdatedTo``; the
dispute lifecycle mirrors its chargeback handling. The generator and the
reference target both use these tables, so the traffic we send and the rules
we test against can never drift apart.
"""

from __future__ import annotations

from enum import StrEnum

CONTRACTS = ("ingest", "plan")
"""Payload field names the generator sends and the reference target binds."""
TARGET_MODES = ("sync", "queue")
"""``sync`` applies inline (HTTP mode); ``queue`` answers 202 and applies later (Kafka mode)."""


class OrderStatus(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    SUCCESS = "success"
    FAILED = "failed"


class DisputeStatus(StrEnum):
    OPENED = "opened"
    UPDATED = "updated"
    CLOSED = "closed"


class Resolution(StrEnum):
    WON = "won"
    LOST = "lost"


_ORDER_NEXT: dict[OrderStatus | None, tuple[OrderStatus, ...]] = {
    None: (OrderStatus.CREATED,),
    OrderStatus.CREATED: (OrderStatus.UPDATED, OrderStatus.SUCCESS, OrderStatus.FAILED),
    OrderStatus.UPDATED: (OrderStatus.UPDATED, OrderStatus.SUCCESS, OrderStatus.FAILED),
    OrderStatus.SUCCESS: (),
    OrderStatus.FAILED: (),
}

TERMINAL_ORDER_STATUSES = frozenset({OrderStatus.SUCCESS, OrderStatus.FAILED})


def next_order_statuses(current: OrderStatus | None) -> tuple[OrderStatus, ...]:
    """Statuses an order in ``current`` (``None``: not yet known) may move to."""
    return _ORDER_NEXT[current]


def can_be_updated_to(current: OrderStatus | None, nxt: OrderStatus) -> bool:
    """The domain's ``Status.CanBeUpdatedTo``: is ``current -> nxt`` allowed?"""
    return nxt in _ORDER_NEXT[current]


_DISPUTE_NEXT: dict[DisputeStatus | None, tuple[DisputeStatus, ...]] = {
    None: (DisputeStatus.OPENED,),
    DisputeStatus.OPENED: (DisputeStatus.UPDATED, DisputeStatus.CLOSED),
    DisputeStatus.UPDATED: (DisputeStatus.UPDATED, DisputeStatus.CLOSED),
    DisputeStatus.CLOSED: (),
}


def can_dispute_move_to(current: DisputeStatus | None, nxt: DisputeStatus) -> bool:
    """Dispute lifecycle: ``opened`` creates; ``updated`` keeps open; ``closed`` ends."""
    return nxt in _DISPUTE_NEXT[current]


class Verdict(StrEnum):
    """What the lifecycle rules say about one event, before any HTTP code.

    A receiver maps each verdict to its own answer (the strict reference target
    and the public service differ: CONTRACT.md), so the rules live here once.
    """

    APPLY = "apply"
    NOT_FOUND = "not_found"  # refers to an order or dispute that does not exist (yet)
    ALREADY_EXISTS = "already_exists"  # creates what already exists
    INVALID = "invalid"  # a transition the lifecycle forbids (e.g. after the end)


def judge_order_event(current: OrderStatus | None, nxt: OrderStatus) -> Verdict:
    """The verdict on moving an order in ``current`` (``None``: unknown) to ``nxt``."""
    if nxt in _ORDER_NEXT[current]:
        return Verdict.APPLY
    if current is None:
        return Verdict.NOT_FOUND
    if nxt is OrderStatus.CREATED:
        return Verdict.ALREADY_EXISTS
    return Verdict.INVALID


def judge_dispute_event(current: DisputeStatus | None, nxt: DisputeStatus) -> Verdict:
    """The verdict on a chargeback event ``nxt`` for a dispute whose last applied
    event was ``current`` (``None``: no dispute for the order)."""
    if nxt in _DISPUTE_NEXT[current]:
        return Verdict.APPLY
    if current is None:
        return Verdict.NOT_FOUND
    if nxt is DisputeStatus.OPENED:
        return Verdict.ALREADY_EXISTS
    return Verdict.INVALID


EVIDENCE_DAYS_OPENED = 14
"""``opened`` carries ``evidence_due_at`` = now + 14 days (CONTRACT.md)."""
EVIDENCE_DAYS_UPDATED = 7
"""``updated`` moves the evidence deadline to now + 7 days (CONTRACT.md)."""
