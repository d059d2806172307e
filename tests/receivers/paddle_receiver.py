"""A Paddle Billing notification destination written from Paddle's documentation
and its Python SDK only (PyPI ``paddle-python-sdk``).

What Paddle's docs tell a destination to do: verify ``Paddle-Signature`` with
the SDK (``paddle_billing.Notifications.Verifier``, which refuses a signature
more than 5 s old, with the destination's secret keys: several while one
rolls), answer 200, deduplicate by ``event_id``. On top of that, as a strict
integrator would: the SDK parses the notification (``NotificationEvent``) into
its typed entity (a ``Transaction``, ``Subscription``, ``SubscriptionCreated``;
the SDK turns what it cannot parse into an ``UndefinedEntity``, refused here);
the entity carries every field Paddle's own example notifications carry
(tests/data/paddle/, from the SDK's fixtures); ids follow Paddle's form
(``txn_`` and 26 lower-case characters); the status is the one Paddle documents
for the event type.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from paddle_billing.Entities.Notifications import NotificationEvent
from paddle_billing.Notifications import Secret, Verifier
from paddle_billing.Notifications.Entities.Subscription import Subscription
from paddle_billing.Notifications.Entities.SubscriptionCreated import SubscriptionCreated
from paddle_billing.Notifications.Entities.Transaction import Transaction

from tests.receivers.loopback import Receiver, Rejected

DATA = Path(__file__).parent.parent / "data" / "paddle"

# Paddle, the transaction.* and subscription.* event references: the entity's status.
STATUS_FOR_TYPE = {
    "transaction.created": {"draft", "ready"},
    "transaction.paid": {"paid"},
    "transaction.completed": {"completed"},
    "subscription.created": {"active", "trialing"},
    "subscription.updated": {"active", "trialing", "past_due", "paused"},
    "subscription.canceled": {"canceled"},
}
ENTITY_FOR_TYPE: dict[str, type] = {
    "transaction": Transaction,
    "subscription": Subscription,
    "subscription.created": SubscriptionCreated,
}
PADDLE_ID = re.compile(r"^[a-z]+_[a-z\d]{26}$")  # Paddle's API reference: ^txn_[a-z\d]{26}$
ID_FIELDS = ("id", "customer_id", "address_id", "subscription_id", "transaction_id", "invoice_id")


def _fields(kind: str) -> frozenset[str]:
    """The fields every example notification of this kind carries."""
    sets = [frozenset(json.loads(p.read_text())) for p in DATA.glob(f"{kind}.*.json")]
    return frozenset.intersection(*sets)


@dataclass
class PaddleReceiver(Receiver):
    secrets: list[str] = field(default_factory=list)
    fields: dict[str, frozenset[str]] = field(
        default_factory=lambda: {k: _fields(k) for k in ("transaction", "subscription")}
    )

    def identify(self, headers: Any, body: bytes) -> tuple[str, str]:
        raw = json.loads(body)
        return str(raw.get("event_id")), str(raw.get("event_type"))

    def check(self, headers: Any, body: bytes) -> tuple[str, str]:
        request = SimpleNamespace(headers=headers, body=body)
        try:  # a list of secrets raises when none matches; one secret returns False
            ok = Verifier().verify(request, [Secret(s) for s in self.secrets])
        except ConnectionRefusedError as exc:
            raise Rejected(f"signature: {exc}") from exc
        if not ok:
            raise Rejected("signature: missing or stale Paddle-Signature")
        try:
            event = NotificationEvent.from_request(request)
        except (KeyError, ValueError) as exc:
            raise Rejected(f"the SDK cannot read the notification: {exc!r}") from exc
        etype = str(event.event_type)
        etype = getattr(event.event_type, "value", etype)
        raw = json.loads(body)
        problems = self._problems(etype, raw["data"], event.data)
        for name in ("event_id", "notification_id"):
            if not PADDLE_ID.match(str(raw.get(name))):
                problems.append(f"{name} {raw.get(name)!r} is not a Paddle id")
        if problems:
            raise Rejected(f"{etype} {event.event_id}: " + "; ".join(problems))
        return event.event_id, etype

    def _problems(self, etype: str, data: dict[str, Any], entity: object) -> list[str]:
        kind = etype.split(".")[0]
        want = ENTITY_FOR_TYPE.get(etype) or ENTITY_FOR_TYPE.get(kind)
        if want is None:
            return [f"{etype} is not a transaction or subscription event"]
        out = []
        if not isinstance(entity, want):
            out.append(f"the SDK did not parse data into a {want.__name__}")
        missing = self.fields[kind] - set(data)
        if missing:
            out.append(f"fields Paddle's examples always carry are missing: {sorted(missing)}")
        if data.get("status") not in STATUS_FOR_TYPE[etype]:
            out.append(f"status {data.get('status')!r} is not what Paddle documents")
        for name in ID_FIELDS:
            value = data.get(name)
            if value is not None and not PADDLE_ID.match(str(value)):
                out.append(f"{name} {value!r} is not a Paddle id")
        return out
