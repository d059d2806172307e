"""Binding webhook bodies into events: what is a 400 and what is not.

Two ways, as the two profiles answer (CONTRACT.md): ``strict`` refuses a
missing or empty field, a malformed UUID and an unparsable time with 400;
``lenient`` binds like the public service's Go structs without binding tags:
a missing (or null) field takes its zero value, while a value of the wrong
JSON type or a time that is not RFC 3339 is still a 400.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
ZERO_TIME = "0001-01-01T00:00:00Z"
"""Go's zero ``time.Time``, what the public service stores for a missing time."""


class Reject(Exception):
    """An event the service refuses: ``code`` and the ``message`` of its JSON body."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def is_uuid(text: str) -> bool:
    return _UUID.fullmatch(text) is not None


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
    reason: str = ""
    amount: float = 0.0
    currency: str = ""


def _strict(payload: dict[str, Any], key: str, kind: str = "string") -> str:
    value = payload.get(key)
    if not isinstance(value, str) or not value:
        raise Reject(400, f"field {key!r} is required and must be a {kind}")
    if kind == "uuid" and not _UUID.fullmatch(value):
        raise Reject(400, f"field {key!r} must be a UUID")
    if kind == "RFC 3339 time":
        try:
            datetime.fromisoformat(value)
        except ValueError:
            raise Reject(400, f"field {key!r} must be an RFC 3339 time") from None
    return value


def _lenient(payload: dict[str, Any], key: str, kind: str = "string") -> str:
    value = payload.get(key)
    if value is None:
        return ZERO_TIME if kind == "RFC 3339 time" else ""
    if not isinstance(value, str):
        raise Reject(400, f"field {key!r} must be a string")
    if kind == "RFC 3339 time":
        if not _RFC3339.fullmatch(value):
            raise Reject(400, f"field {key!r} must be an RFC 3339 time")
        try:
            datetime.fromisoformat(value)
        except ValueError:
            raise Reject(400, f"field {key!r} must be an RFC 3339 time") from None
    return value


def _object(payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise Reject(400, "body must be a JSON object")
    return payload


def parse_order(payload: Any, contract: str, *, lenient: bool = False) -> OrderEvent:
    """Bind an order webhook body (400 if it cannot be bound)."""
    body = _object(payload)
    field = _lenient if lenient else _strict
    if contract == "plan":
        occurred = field(body, "occurred_at", "RFC 3339 time")
        return OrderEvent(
            event_id=field(body, "event_id"),
            order_id=field(body, "provider_order_id"),
            user_id=field(body, "user_id"),
            status=field(body, "status"),
            created_at=occurred,
            updated_at=occurred,
        )
    return OrderEvent(
        event_id=field(body, "provider_event_id", "uuid"),
        order_id=field(body, "order_id", "uuid"),
        user_id=field(body, "user_id", "uuid"),
        status=field(body, "status"),
        created_at=field(body, "created_at", "RFC 3339 time"),
        updated_at=field(body, "updated_at", "RFC 3339 time"),
    )


def _meta(body: dict[str, Any], lenient: bool) -> str | None:
    meta = body.get("meta")
    if meta is not None and not isinstance(meta, dict):
        raise Reject(400, "field 'meta' must be an object of strings")
    if lenient and meta and not all(isinstance(v, str) for v in meta.values()):
        raise Reject(400, "field 'meta' must be an object of strings")
    resolution = meta.get("resolution") if meta else None
    return resolution if isinstance(resolution, str) or resolution is None else str(resolution)


def _amount(body: dict[str, Any], lenient: bool) -> float:
    amount = body.get("amount", 0.0)
    if amount is None and lenient:  # null binds as zero in Go; strict has always refused it
        return 0.0
    if lenient and isinstance(amount, bool):  # Go refuses true for a float64
        raise Reject(400, "field 'amount' must be a number")
    if not isinstance(amount, int | float):
        raise Reject(400, "field 'amount' must be a number")
    return float(amount)


def _text(body: dict[str, Any], key: str, lenient: bool) -> str:
    value = body.get(key)
    if lenient and value is not None and not isinstance(value, str):
        raise Reject(400, f"field {key!r} must be a string")
    return value if isinstance(value, str) else ""


def parse_chargeback(payload: Any, contract: str, *, lenient: bool = False) -> ChargebackEvent:
    """Bind a chargeback webhook body (400 if it cannot be bound)."""
    body = _object(payload)
    field = _lenient if lenient else _strict
    resolution = _meta(body, lenient)
    amount = _amount(body, lenient)
    reason, currency = _text(body, "reason", lenient), _text(body, "currency", lenient)
    if contract == "plan":
        return ChargebackEvent(
            event_id=field(body, "event_id"),
            order_id=field(body, "provider_order_id"),
            dispute_id=field(body, "chargeback_id"),
            status=field(body, "status"),
            resolution=resolution,
            evidence_due_at=None,
            occurred_at=field(body, "occurred_at", "RFC 3339 time"),
            reason=reason,
            amount=amount,
            currency=currency,
        )
    due = body.get("evidence_due_at")
    if due is not None:
        due = field(body, "evidence_due_at", "RFC 3339 time")
    return ChargebackEvent(
        event_id=field(body, "provider_event_id", "uuid"),
        order_id=field(body, "order_id", "uuid"),
        dispute_id=None,
        status=field(body, "status"),
        resolution=resolution,
        evidence_due_at=due,
        occurred_at=field(body, "occurred_at", "RFC 3339 time"),
        reason=reason,
        amount=amount,
        currency=currency,
    )
