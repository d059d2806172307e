"""The payment manager's payments and the acquirer's webhook, for ``--scenario payments``.

``POST /api/v1/payments`` authorizes a payment and answers it with a fresh
``provider_tx_id`` (the acquirer's transaction id) that the acquirer's
webhooks, ``POST /webhooks/silvergate``, then carry; ``GET
/api/v1/payments/{id}`` reads it back (``--verify``). The rules are the
service's (docs/CONTRACT.md, "Payments (acquirer webhook)": entity.go's
``validTransitions``; a refund adds its own amount to ``refunded_amount``;
the event store's idempotency key ``webhook_{transaction_id}_{event}``, a
refund's with ``_{refund_id}``). The profile says what each case costs:

- ``strict`` (a well-behaved receiver): a stored key again is 409, an
  invalid transition or a refund beyond what is left 422, an unknown
  transaction 404, an unknown status 422, a body that does not bind 400
  naming the field;
- ``public``, as the public service was *measured* to answer (docs/CONTRACT.md,
  "The acquirer webhook … (measured)"): an invalid transition 202 and
  ignored, a stored key again 500 ``… write event: event already stored``,
  an unknown transaction or unknown status 500, a body that does not bind
  400 ``{"message":"Invalid payload"}``, refunds applied without a state or
  amount check.

Pure state plus a thin aiohttp layer; the counters are ``/stats``'s
``payments`` section, what a run's counts are compared with.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from aiohttp import web

from engine.domain.durations import parse_duration
from target.profiles import api_500 as _api_500_template

MERCHANT_ID = "merchant_webhookload"
"""The one merchant this service acts for (the service's is configured, too)."""

REFUNDED = "transaction.refunded"
_REFUNDABLE = ("captured", "partially_refunded")
VALID_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "authorized": ("capture_pending", "voided"),
    "capture_pending": ("captured", "capture_failed"),
    "captured": ("partially_refunded", "refunded"),
    "partially_refunded": ("partially_refunded", "refunded"),
}
"""services/paymanager/internal/payment/entity.go, ``validTransitions``."""
_BY_STATUS = ("captured", "capture_failed", "voided")
"""The statuses a non-refund webhook may move a payment to (``refund_failed``
is logged and changes nothing)."""
_FIELDS: dict[str, type] = {
    "event": str,
    "transaction_id": str,
    "refund_id": str,
    "order_id": str,
    "merchant_id": str,
    "status": str,
    "amount": int,
    "currency": str,
    "timestamp": str,
}
"""services/ingest/dto/payment_webhook.go: what binds, with its Go type."""
INVALID_PAYLOAD = "Invalid payload"


def api_500(inner: str) -> str:
    """The public ingest's 500 body message around the API's ``inner`` one
    (target.profiles.api_500 as text, not a template: ``inner`` may hold braces)."""
    return _api_500_template(inner.replace("{", "{{").replace("}", "}}")).format()


class PaymentReject(Exception):
    """A request refused with ``code`` and ``message`` (the body's ``message``)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


@dataclass(slots=True)
class Payment:
    id: str
    amount: int
    currency: str
    card_token: str
    status: str
    provider_tx_id: str
    merchant_id: str
    created_at: str
    updated_at: str
    refunded_amount: int = 0
    capture_at: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The service's ``Payment`` JSON (``capture_at`` only when set)."""
        out: dict[str, Any] = {
            "id": self.id,
            "amount": self.amount,
            "currency": self.currency,
            "card_token": self.card_token,
            "status": self.status,
            "provider_tx_id": self.provider_tx_id,
            "merchant_id": self.merchant_id,
            "refunded_amount": self.refunded_amount,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }
        if self.capture_at is not None:
            out["capture_at"] = self.capture_at
        return out


def _field(body: dict[str, Any], key: str, kind: type) -> Any:
    value = body.get(key)
    if value is None or type(value) is not kind:  # bool is no int here
        raise PaymentReject(400, f"{key} is required and must be a {kind.__name__}")
    return value


def parse_create(body: Any) -> tuple[int, str, str, float]:
    """``CreatePaymentRequest`` bound as the service's tags say (amount
    ``required,min=1``, currency ``len=3``, card_token ``required``,
    capture_delay a duration or empty); 400 naming the field otherwise."""
    if not isinstance(body, dict):
        raise PaymentReject(400, "the body must be a JSON object")
    amount = _field(body, "amount", int)
    if amount < 1:
        raise PaymentReject(400, "amount must be at least 1 (minor units)")
    currency = _field(body, "currency", str)
    if len(currency) != 3 or not currency.isalpha():
        raise PaymentReject(400, "currency must be 3 letters")
    card_token = _field(body, "card_token", str)
    if not card_token:
        raise PaymentReject(400, "card_token is required")
    delay_text = body.get("capture_delay") or ""
    if not isinstance(delay_text, str):
        raise PaymentReject(400, "capture_delay must be a duration like 24h")
    try:
        delay = parse_duration(delay_text) if delay_text else 0.0
    except ValueError:
        raise PaymentReject(400, f"invalid capture_delay: {delay_text!r}") from None
    return amount, currency, card_token, delay


@dataclass
class Payments:
    """All payments, the stored idempotency keys and the counters."""

    public: bool = False
    payments: dict[str, Payment] = field(default_factory=dict)
    by_tx: dict[str, Payment] = field(default_factory=dict)
    stored_keys: set[str] = field(default_factory=set)
    created: int = 0
    received: Counter[int] = field(default_factory=Counter)  # webhook answers by code
    applied: int = 0
    ignored: int = 0  # invalid transitions answered 202 (public)
    replays: int = 0  # a stored key again (409 strict, 500 public)
    unknown_transactions: int = 0
    refund_failed: int = 0

    def create(self, body: Any) -> Payment:
        """Authorize: ``capture_pending`` at once without a delay (a capture is
        asked for), else ``authorized`` until ``capture_at``."""
        amount, currency, card_token, delay = parse_create(body)
        now = _now()
        payment = Payment(
            id=str(uuid.uuid4()),
            amount=amount,
            currency=currency.upper(),
            card_token=card_token,
            status="authorized" if delay else "capture_pending",
            provider_tx_id=f"sg_tx_{uuid.uuid4().hex}",
            merchant_id=MERCHANT_ID,
            created_at=now,
            updated_at=now,
        )
        if delay:
            at = datetime.now(UTC) + timedelta(seconds=delay)
            payment.capture_at = at.isoformat().replace("+00:00", "Z")
        self.payments[payment.id] = payment
        self.by_tx[payment.provider_tx_id] = payment
        self.created += 1
        return payment

    def _bind(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise PaymentReject(400, INVALID_PAYLOAD if self.public else "body must be an object")
        for key, kind in _FIELDS.items():
            value = body.get(key)
            if value is not None and type(value) is not kind:
                raise PaymentReject(
                    400, INVALID_PAYLOAD if self.public else f"{key} must be a {kind.__name__}"
                )
        if not self.public:
            for key in ("event", "transaction_id", "status"):
                if not body.get(key):
                    raise PaymentReject(400, f"{key} is required")
        return body

    def webhook(self, body: Any) -> bool:
        """Apply one acquirer webhook; True when it changed the payment, False
        when it was answered 202 without (refund_failed, an ignored transition).
        Raises :class:`PaymentReject` with the profile's answer."""
        w = self._bind(body)
        tx = str(w.get("transaction_id") or "")
        event = str(w.get("event") or "")
        status = str(w.get("status") or "")
        payment = self.by_tx.get(tx)
        if payment is None:
            self.unknown_transactions += 1
            if self.public:
                raise PaymentReject(
                    500, api_500(f"lookup payment by provider_tx_id {tx}: payment not found")
                )
            raise PaymentReject(404, "payment not found")
        if event == REFUNDED:
            key = f"webhook_{tx}_{event}_{w.get('refund_id') or ''}"
            self._not_stored(key)
            return self._refund(payment, int(w.get("amount") or 0), key)
        if status == "refund_failed":  # logged, nothing changes, nothing stored
            self.refund_failed += 1
            return False
        if status not in _BY_STATUS:
            raise PaymentReject(
                500 if self.public else 422,
                api_500(f"unknown webhook status: {status}")
                if self.public
                else f"unknown webhook status: {status}",
            )
        key = f"webhook_{tx}_{event}"
        self._not_stored(key)
        if status not in VALID_TRANSITIONS.get(payment.status, ()):
            if self.public:  # "ignoring webhook for invalid transition": 202
                self.ignored += 1
                return False
            raise PaymentReject(422, f"invalid transition {payment.status} -> {status}")
        self._move(payment, status, key)
        return True

    def _not_stored(self, key: str) -> None:
        if key in self.stored_keys:
            self.replays += 1
            if self.public:
                raise PaymentReject(500, api_500("write event: event already stored"))
            raise PaymentReject(409, "event already stored")

    def _refund(self, payment: Payment, amount: int, key: str) -> bool:
        total = payment.refunded_amount + amount
        if not self.public:  # the public service checks neither (measured)
            if payment.status not in _REFUNDABLE:
                raise PaymentReject(422, f"invalid transition {payment.status} -> refunded")
            if amount < 1 or total > payment.amount:
                raise PaymentReject(422, f"refund of {amount} exceeds what is left")
        payment.refunded_amount = total
        self._move(payment, "refunded" if total >= payment.amount else "partially_refunded", key)
        return True

    def _move(self, payment: Payment, status: str, key: str) -> None:
        payment.status = status
        payment.updated_at = _now()
        self.stored_keys.add(key)
        self.applied += 1

    def stats(self) -> dict[str, Any]:
        by_status = Counter(p.status for p in self.payments.values())
        return {
            "created": self.created,
            "received": {str(code): n for code, n in sorted(self.received.items())},
            "received_total": sum(self.received.values()),
            "applied": self.applied,
            "ignored": self.ignored,
            "replays": self.replays,
            "unknown_transactions": self.unknown_transactions,
            "refund_failed": self.refund_failed,
            "by_status": dict(sorted(by_status.items())),
        }


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


Guard = Callable[[web.Request, bytes], "web.Response | None"]
"""A check every webhook passes first (target.server: the signature, ``--fail-rate``);
a response refuses it."""


def add_routes(
    app: web.Application,
    payments: Payments,
    error_delay: float,
    *,
    delay: float = 0.0,
    guard: Guard | None = None,
) -> None:
    """Mount the payments API and the acquirer webhook; ``error_delay``: the
    wait before a 500 (the public ingest retries its API before answering);
    ``delay``: before every webhook (``--delay``); ``guard``: the server's checks."""

    async def create(request: web.Request) -> web.Response:
        try:
            payment = payments.create(orjson.loads(await request.read()))
        except orjson.JSONDecodeError:
            return _json({"message": "body is not valid JSON"}, 400)
        except PaymentReject as rej:
            return _json({"message": rej.message}, rej.code)
        return _json(payment.as_json())

    async def read(request: web.Request) -> web.Response:
        payment = payments.payments.get(request.match_info["payment_id"])
        if payment is None:
            return _json({"message": "payment not found"}, 404)
        return _json(payment.as_json())

    async def webhook(request: web.Request) -> web.Response:
        if delay:
            await asyncio.sleep(delay)
        try:
            body = await request.read()
        except ConnectionError:  # the client left mid-request
            return web.Response(status=400)
        refused = guard(request, body) if guard is not None else None
        if refused is not None:
            payments.received[refused.status] += 1
            return refused
        try:
            payments.webhook(orjson.loads(body))
        except orjson.JSONDecodeError:
            payments.received[400] += 1
            message = INVALID_PAYLOAD if payments.public else "body is not valid JSON"
            return _json({"message": message}, 400)
        except PaymentReject as rej:
            payments.received[rej.code] += 1
            if rej.code >= 500 and error_delay:
                await asyncio.sleep(error_delay)
            return _json({"message": rej.message}, rej.code)
        payments.received[202] += 1
        return web.Response(status=202)

    app.router.add_post("/api/v1/payments", create)
    app.router.add_get("/api/v1/payments/{payment_id}", read)
    app.router.add_post("/webhooks/silvergate", webhook)
