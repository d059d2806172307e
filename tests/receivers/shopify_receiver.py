"""A Shopify webhook endpoint written from Shopify's documentation only.

Shopify publishes no Python verifier; its docs ("Verify the webhook") say:
compute the base64 HMAC-SHA256 of the raw body with the app's client secret
and compare it in constant time with ``X-Shopify-Hmac-Sha256``. Then what an
app relies on: the delivery headers (``X-Shopify-Topic``, ``-Webhook-Id``,
``-Event-Id``, ``-Triggered-At``, ``-Shop-Domain``, ``-API-Version``),
deduplication on ``X-Shopify-Event-Id`` ("the same value across more than one
webhook indicates a duplicate"), and a body that is the topic's resource with
every key Shopify's own example object carries (tests/data/shopify/) and the
status the topic means.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.receivers.loopback import Receiver, Rejected

DATA = Path(__file__).parent.parent / "data" / "shopify"
ORDER_KEYS = frozenset(json.loads((DATA / "orders-create.json").read_text()))
REFUND_KEYS = frozenset(json.loads((DATA / "refunds-create.json").read_text()))
FINANCIAL = {  # the Order's financial_status each topic can carry (Order object docs)
    "orders/create": {"pending", "authorized", "paid"},
    "orders/paid": {"paid"},
    "orders/fulfilled": {"paid", "partially_refunded"},
    "orders/cancelled": {"refunded", "voided", "partially_refunded"},
}
API_VERSION = re.compile(r"^\d{4}-(01|04|07|10)$")
HEADERS = ("X-Shopify-Topic", "X-Shopify-Webhook-Id", "X-Shopify-Event-Id")


@dataclass
class ShopifyReceiver(Receiver):
    secret: str = ""

    def identify(self, headers: Any, body: bytes) -> tuple[str, str]:
        return str(headers.get("X-Shopify-Event-Id")), str(headers.get("X-Shopify-Topic"))

    def check(self, headers: Any, body: bytes) -> tuple[str, str]:
        digest = base64.b64encode(hmac.new(self.secret.encode(), body, hashlib.sha256).digest())
        if not hmac.compare_digest(digest.decode(), str(headers.get("X-Shopify-Hmac-Sha256", ""))):
            raise Rejected("X-Shopify-Hmac-Sha256 does not verify")
        missing = [h for h in HEADERS if not headers.get(h)]
        if missing:
            raise Rejected(f"no {missing}")
        try:
            datetime.fromisoformat(str(headers.get("X-Shopify-Triggered-At")))
        except ValueError:
            raise Rejected("X-Shopify-Triggered-At is not ISO 8601") from None
        if not str(headers.get("X-Shopify-Shop-Domain", "")).endswith(".myshopify.com"):
            raise Rejected("X-Shopify-Shop-Domain")
        if not API_VERSION.match(str(headers.get("X-Shopify-API-Version", ""))):
            raise Rejected("X-Shopify-API-Version")
        topic = str(headers["X-Shopify-Topic"])
        obj = json.loads(body)
        if topic == "refunds/create":
            problems = self._refund(obj)
        elif topic in FINANCIAL:
            problems = self._order(topic, obj)
        else:
            raise Rejected(f"topic {topic!r} is not one this app subscribed to")
        if problems:
            raise Rejected(f"{topic} {obj.get('id')}: " + "; ".join(problems))
        return str(headers["X-Shopify-Event-Id"]), topic

    @staticmethod
    def _refund(obj: dict[str, Any]) -> list[str]:
        out = []
        if missing := REFUND_KEYS - set(obj):
            out.append(f"keys Shopify's example Refund carries are missing: {sorted(missing)}")
        if obj.get("admin_graphql_api_id") != f"gid://shopify/Refund/{obj.get('id')}":
            out.append("admin_graphql_api_id does not name the refund")
        return out

    @staticmethod
    def _order(topic: str, obj: dict[str, Any]) -> list[str]:
        out = []
        if missing := ORDER_KEYS - set(obj):
            out.append(f"keys Shopify's example Order carries are missing: {sorted(missing)}")
            return out
        if obj["financial_status"] not in FINANCIAL[topic]:
            out.append(f"financial_status {obj['financial_status']}")
        if obj["admin_graphql_api_id"] != f"gid://shopify/Order/{obj['id']}":
            out.append("admin_graphql_api_id does not name the order")
        if (topic == "orders/fulfilled") != (obj["fulfillment_status"] == "fulfilled"):
            out.append(f"fulfillment_status {obj['fulfillment_status']}")
        if (topic == "orders/cancelled") != (obj["cancelled_at"] is not None):
            out.append(f"cancelled_at {obj['cancelled_at']}")
        if obj["total_price_set"]["shop_money"]["amount"] != obj["total_price"]:
            out.append("total_price_set disagrees with total_price")
        return out
