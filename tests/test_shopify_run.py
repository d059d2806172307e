"""``--scenario shopify`` end to end against a Shopify endpoint written from
Shopify's documentation (tests/receivers/shopify_receiver.py: its HMAC recipe,
its delivery headers, every key of its example objects). One run (a 1 s load,
a grace that lets nothing be cut) carries duplicates, reordering and retries
of the receiver's first 500s: 0 rejected, the counts agree."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.receivers.loopback import (
    Rejected,
    assert_counts_agree,
    faulted_run,
    signed_samples,
)
from tests.receivers.shopify_receiver import ShopifyReceiver

SECRET = "hush"  # Shopify's docs' example client secret
TYPES = {
    "orders/create": ("order", "started"),
    "orders/paid": ("order", "paid"),
    "orders/fulfilled": ("order", "fulfilled"),
    "refunds/create": ("refund", "started"),
}


def test_a_run_with_faults_and_retries_is_all_accepted(tmp_path: Path) -> None:
    receiver = ShopifyReceiver(secret=SECRET, fail_first=2, fail_types=frozenset({"orders/create"}))
    doc = faulted_run(receiver, "shopify", [SECRET], tmp_path / "s.json")
    assert_counts_agree(receiver, doc, TYPES)
    cancelled = doc["flows"]["order"]["ended"]
    got = receiver.accepted["orders/cancelled"]
    assert cancelled["cancelled"] + cancelled["voided"] == got  # two states, one topic


def test_every_sample_journey_passes_and_a_wrong_secret_is_rejected() -> None:
    receiver = ShopifyReceiver(secret=SECRET)
    url = "http://127.0.0.1:8080"
    types = {receiver.check(h, b)[1] for h, b in signed_samples("shopify", 60, url, SECRET)}
    assert types == {*TYPES, "orders/cancelled"}
    for headers, body in signed_samples("shopify", 2, url, "not the secret"):
        with pytest.raises(Rejected, match="X-Shopify-Hmac-Sha256"):
            receiver.check(headers, body)
