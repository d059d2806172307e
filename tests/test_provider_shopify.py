"""``--scenario shopify`` end to end, judged by Shopify's documented recipe.

Shopify publishes no Python verifier; its docs (shopify.dev, "Verify the
webhook") say: compute the base64 HMAC-SHA256 of the raw body with the app's
client secret and compare it, in constant time, with X-Shopify-Hmac-Sha256.
The receiver does that, then what an app relies on: the delivery headers
(topic, webhook and event ids, trigger time, shop domain, API version),
deduplication on X-Shopify-Event-Id, and a body of the topic's resource with
every key Shopify's own example object carries (tests/data/shopify/) and the
status the topic means. A 2 s run with duplicates, reordering and retries has
0 rejections, the counts agree, and a wrong secret is refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path

from tests.receivers.provider import Receiver, Reject, every_state_signed, one_signed, run_against

SECRET = "hush"  # Shopify's docs' example client secret
DATA = Path(__file__).parent / "data" / "shopify"
ORDER_KEYS = frozenset(json.loads((DATA / "orders-create.json").read_text()))
REFUND_KEYS = frozenset(json.loads((DATA / "refunds-create.json").read_text()))
FINANCIAL = {  # the Order's financial_status each topic can carry (Order object docs)
    "orders/create": {"pending", "authorized", "paid"},
    "orders/paid": {"paid"},
    "orders/fulfilled": {"paid", "partially_refunded"},
    "orders/cancelled": {"refunded", "voided", "partially_refunded"},
}
API_VERSION = re.compile(r"^\d{4}-(01|04|07|10)$")


def check(secret: str) -> Callable[[bytes, Mapping[str, str], str], tuple[str, str]]:
    def shopify(body: bytes, headers: Mapping[str, str], url: str) -> tuple[str, str]:
        digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
        if not hmac.compare_digest(
            base64.b64encode(digest).decode(), headers.get("X-Shopify-Hmac-Sha256", "")
        ):
            raise Reject("X-Shopify-Hmac-Sha256 does not verify")
        for name in ("X-Shopify-Topic", "X-Shopify-Webhook-Id", "X-Shopify-Event-Id"):
            if not headers.get(name):
                raise Reject(f"no {name}")
        datetime.fromisoformat(headers["X-Shopify-Triggered-At"])
        if not headers.get("X-Shopify-Shop-Domain", "").endswith(".myshopify.com"):
            raise Reject("X-Shopify-Shop-Domain")
        if not API_VERSION.match(headers.get("X-Shopify-API-Version", "")):
            raise Reject("X-Shopify-API-Version")
        topic = headers["X-Shopify-Topic"]
        obj = json.loads(body)
        if topic == "refunds/create":
            missing = REFUND_KEYS - set(obj)
            if obj["admin_graphql_api_id"] != f"gid://shopify/Refund/{obj['id']}":
                raise Reject("refund admin_graphql_api_id")
        else:
            missing = ORDER_KEYS - set(obj)
            if obj["financial_status"] not in FINANCIAL[topic]:
                raise Reject(f"{topic} with financial_status {obj['financial_status']}")
            if obj["admin_graphql_api_id"] != f"gid://shopify/Order/{obj['id']}":
                raise Reject("order admin_graphql_api_id")
            if (topic == "orders/fulfilled") != (obj["fulfillment_status"] == "fulfilled"):
                raise Reject(f"{topic} with fulfillment_status {obj['fulfillment_status']}")
            if (topic == "orders/cancelled") != (obj["cancelled_at"] is not None):
                raise Reject(f"{topic} with cancelled_at {obj['cancelled_at']}")
            if obj["total_price_set"]["shop_money"]["amount"] != obj["total_price"]:
                raise Reject("total_price_set disagrees with total_price")
        if missing:
            raise Reject(f"{topic}: keys Shopify's example carries are missing: {sorted(missing)}")
        return headers["X-Shopify-Event-Id"], topic

    return shopify


def test_a_run_with_faults_and_retries_is_all_accepted_by_shopifys_recipe() -> None:
    receiver = Receiver(check(SECRET), fail_every=5, fail_types=frozenset({"orders/create"}))
    doc = run_against(receiver, "shopify", SECRET)
    got, order, refund = receiver.accepted, doc["flows"]["order"], doc["flows"]["refund"]
    cut = doc["cancelled_at_deadline"] + doc["finished_in_grace"]
    assert order["started"] - order["unfinished"] <= got["orders/create"] <= order["started"]
    assert 0 <= got["orders/fulfilled"] - order["ended"]["fulfilled"] <= cut
    cancelled = order["ended"]["cancelled"] + order["ended"]["voided"]
    assert 0 <= got["orders/cancelled"] - cancelled <= cut
    assert 0 <= got["refunds/create"] - refund["ended"]["created"] <= cut  # (few under load)


def test_a_wrong_secret_is_refused() -> None:
    body, headers = one_signed("shopify", "not the secret", "http://127.0.0.1/webhooks")
    try:
        check(SECRET)(body, headers, "")
    except Reject as exc:
        assert "X-Shopify-Hmac-Sha256" in str(exc)
    else:
        raise AssertionError("a wrong secret was accepted")
    body, headers = one_signed("shopify", SECRET, "http://127.0.0.1/webhooks")
    assert check(SECRET)(body, headers, "")[1] == "orders/create"


def test_every_states_payload_is_accepted() -> None:
    """Whatever a run draws: one event of each state, each a type the check knows."""
    url = "http://127.0.0.1:9/webhooks"
    events = every_state_signed("shopify", SECRET, url)
    seen = {check(SECRET)(body, headers, url)[1] for _, _, body, headers in events}
    assert seen == {
        "orders/create",
        "orders/paid",
        "orders/fulfilled",
        "orders/cancelled",
        "refunds/create",
    }
