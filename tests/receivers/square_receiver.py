"""A Square webhook subscription's endpoint written from Square's documentation
and its Python SDK only (PyPI ``squareup``).

What Square's docs tell an endpoint to do: verify ``x-square-hmacsha256-signature``
with the SDK's webhooks helper (``square.utils.webhooks_helper.verify_signature``:
the signature key and the notification URL exactly as subscribed), answer 2xx,
expect the same event more than once (deduplicate by ``event_id``). On top of
that, as a strict integrator would: each event validates as the SDK's typed event
(``PaymentCreatedEvent``, ``PaymentUpdatedEvent``, ``RefundCreatedEvent``,
``RefundUpdatedEvent``) with no key the SDK does not know anywhere in it; the
object carries every field of Square's own example of that event type
(tests/data/square/, from Square's API specification) the SDK knows; ``data.id``
is the object's id and ``data.type`` its kind; the status is one Square documents.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic
from square.types.payment_created_event import PaymentCreatedEvent
from square.types.payment_updated_event import PaymentUpdatedEvent
from square.types.refund_created_event import RefundCreatedEvent
from square.types.refund_updated_event import RefundUpdatedEvent
from square.utils.webhooks_helper import verify_signature

from tests.receivers.loopback import Receiver, Rejected

DATA = Path(__file__).parent.parent / "data" / "square"
HEADER = "x-square-hmacsha256-signature"

MODEL: dict[str, type[pydantic.BaseModel]] = {
    "payment.created": PaymentCreatedEvent,
    "payment.updated": PaymentUpdatedEvent,
    "refund.created": RefundCreatedEvent,
    "refund.updated": RefundUpdatedEvent,
}
# Square's Payment.status and PaymentRefund.status as its API reference lists them
PAYMENT_STATUSES = {"APPROVED", "PENDING", "COMPLETED", "CANCELED", "FAILED"}
STATUS_FOR_TYPE = {
    "payment.created": PAYMENT_STATUSES,
    "payment.updated": PAYMENT_STATUSES,
    "refund.created": {"PENDING"},
    "refund.updated": {"PENDING", "COMPLETED", "REJECTED", "FAILED"},
}


def _unknown_keys(model: Any, path: str = "$") -> list[str]:
    """Every key of the validated event that the SDK's models have no field for."""
    out: list[str] = []
    if isinstance(model, pydantic.BaseModel):
        out += [f"{path}.{k}" for k in (model.model_extra or {})]
        for name in type(model).model_fields:
            out += _unknown_keys(getattr(model, name), f"{path}.{name}")
    elif isinstance(model, list):
        for i, item in enumerate(model):
            out += _unknown_keys(item, f"{path}[{i}]")
    return out


def _example_fields() -> dict[str, frozenset[str]]:
    """The object fields of Square's example of each event type that the SDK knows."""
    out = {}
    for path in DATA.glob("*.json"):
        example = json.loads(path.read_text())
        kind = example["data"]["type"]
        known = MODEL[example["type"]].model_validate(example).data.object  # type: ignore[attr-defined]
        known_fields = type(getattr(known, kind)).model_fields
        out[example["type"]] = frozenset(example["data"]["object"][kind]) & frozenset(known_fields)
    return out


@dataclass
class SquareReceiver(Receiver):
    signature_key: str = ""
    notification_url: str = ""  # as subscribed; default the URL it listens at

    def __post_init__(self) -> None:
        self.fields = _example_fields()

    def identify(self, headers: Any, body: bytes) -> tuple[str, str]:
        raw = json.loads(body)
        return str(raw.get("event_id")), str(raw.get("type"))

    def check(self, headers: Any, body: bytes) -> tuple[str, str]:
        text = body.decode()
        url = self.notification_url or self.url
        signature = headers.get(HEADER, "")
        if not verify_signature(
            request_body=text,
            signature_header=signature,
            signature_key=self.signature_key,
            notification_url=url,
        ):
            raise Rejected(f"signature: {HEADER} does not match for {url}")
        raw = json.loads(text)
        etype = str(raw.get("type"))
        model = MODEL.get(etype)
        if model is None:
            raise Rejected(f"type {etype!r} is not a payment or refund event")
        try:
            event = model.model_validate(raw)
        except pydantic.ValidationError as exc:
            raise Rejected(f"{etype}: the SDK's {model.__name__} refuses it: {exc}") from exc
        problems = [f"a key Square's SDK does not know: {k}" for k in _unknown_keys(event)]
        problems += self._problems(etype, raw)
        if problems:
            raise Rejected(f"{etype} {raw.get('event_id')}: " + "; ".join(problems))
        return str(raw["event_id"]), etype

    def _problems(self, etype: str, raw: dict[str, Any]) -> list[str]:
        out = []
        for name in ("merchant_id", "event_id", "created_at"):
            if not raw.get(name):
                out.append(f"{name} is missing")
        try:
            uuid.UUID(str(raw.get("event_id")))
        except ValueError:
            out.append(f"event_id {raw.get('event_id')!r} is not a UUID")
        data = raw.get("data") or {}
        kind = etype.split(".")[0]
        obj = (data.get("object") or {}).get(kind) or {}
        if data.get("type") != kind or data.get("id") != obj.get("id"):
            out.append(f"data.type/data.id do not name the {kind} in data.object")
        example = self.fields.get(etype) or self.fields[f"{kind}.created"]  # no refund.updated
        if obj.get("status") != "COMPLETED":  # "only populated for COMPLETED payments"
            example -= {"receipt_number", "receipt_url"}
        missing = example - set(obj)
        if missing:
            out.append(f"fields Square's example carries are missing: {sorted(missing)}")
        if obj.get("status") not in STATUS_FOR_TYPE[etype]:
            out.append(f"status {obj.get('status')!r} is not one Square documents")
        if kind == "refund" and not str(obj.get("id", "")).startswith(f"{obj.get('payment_id')}_"):
            out.append("a refund's id is its payment's id, '_', and more")
        return out
