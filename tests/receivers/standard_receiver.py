"""A Standard Webhooks endpoint written from the specification and its official
libraries only (PyPI ``standardwebhooks`` and ``svix``, the spec's reference
implementation's company, which reads the same ``webhook-*`` headers).

What the spec tells a consumer to do: verify ``webhook-signature`` over
``{webhook-id}.{webhook-timestamp}.{body}`` with the ``whsec_`` secret (both
libraries, each refusing a timestamp more than 5 minutes off), use
``webhook-id`` as the idempotency key, answer 2xx. On top of that, as a strict
consumer would: the payload is the spec's recommended structure, exactly
``{type, timestamp, data}``, with a full-stop delimited ``type``, an ISO 8601
``timestamp`` and an object ``data``; the id holds no ``.`` (the spec forbids
it); the type is one this endpoint subscribed to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import standardwebhooks.webhooks
import svix.webhooks

from tests.receivers.loopback import Receiver, Rejected

TYPE = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")  # "grouped hierarchically", full-stop delimited
SUBSCRIBED = frozenset(
    {"invoice.created", "invoice.paid", "invoice.payment_failed", "invoice.voided"}
)


@dataclass
class StandardReceiver(Receiver):
    secret: str = ""

    def identify(self, headers: Any, body: bytes) -> tuple[str, str]:
        return str(headers.get("webhook-id")), str(orjson.loads(body).get("type"))

    def check(self, headers: Any, body: bytes) -> tuple[str, str]:
        lowered = {k.lower(): v for k, v in headers.items()}
        try:
            payload = standardwebhooks.webhooks.Webhook(self.secret).verify(body, lowered)
        except standardwebhooks.webhooks.WebhookVerificationError as exc:
            raise Rejected(f"signature (standardwebhooks): {exc}") from exc
        try:
            svix.webhooks.Webhook(self.secret).verify(body, lowered)
        except svix.webhooks.WebhookVerificationError as exc:
            raise Rejected(f"signature (svix): {exc}") from exc
        msg_id = lowered["webhook-id"]
        problems = []
        if "." in msg_id:
            problems.append(f"webhook-id {msg_id!r} holds a '.'")
        if not isinstance(payload, dict) or set(payload) != {"type", "timestamp", "data"}:
            keys = sorted(payload) if isinstance(payload, dict) else type(payload).__name__
            raise Rejected(f"{msg_id}: not the spec's {{type, timestamp, data}}: {keys}")
        etype = str(payload["type"])
        if not TYPE.match(etype) or etype not in SUBSCRIBED:
            problems.append(f"type {etype!r} is not a subscribed, full-stop delimited type")
        try:
            datetime.fromisoformat(str(payload["timestamp"]))
        except ValueError:
            problems.append(f"timestamp {payload['timestamp']!r} is not ISO 8601")
        if not isinstance(payload["data"], dict) or not payload["data"].get("id"):
            problems.append("data is not an object naming its id")
        if problems:
            raise Rejected(f"{etype} {msg_id}: " + "; ".join(problems))
        return msg_id, etype
