"""``--scenario standard`` end to end, judged by the Standard Webhooks and
Svix libraries.

The receiver verifies every request twice, as the spec's consumers do: with
``standardwebhooks.Webhook(secret).verify`` and ``svix.webhooks.Webhook(
secret).verify`` (which reads the ``webhook-*`` names too); the payload must
have the spec's recommended shape ``{type, timestamp, data}``; it
deduplicates on ``webhook-id``. A 2 s run with
duplicates, reordering and retries, signed with two secrets while one rolls,
is accepted with each secret alone (0 rejections), the counts agree, and a
wrong secret is refused by both libraries."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime

import standardwebhooks.webhooks
import svix.webhooks

from tests.receivers.provider import (
    Receiver,
    Reject,
    each,
    every_state_signed,
    one_signed,
    run_against,
)

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # the spec's libraries' example secret
NEW_SECRET = "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo="


def check(secret: str) -> Callable[[bytes, Mapping[str, str], str], tuple[str, str]]:
    std = standardwebhooks.webhooks.Webhook(secret)
    sx = svix.webhooks.Webhook(secret)

    def standard(body: bytes, headers: Mapping[str, str], url: str) -> tuple[str, str]:
        plain = dict(headers)
        try:
            std.verify(body, plain)
            sx.verify(body, plain)
        except (
            standardwebhooks.webhooks.WebhookVerificationError,
            svix.webhooks.WebhookVerificationError,
        ) as exc:
            raise Reject(f"webhook-signature does not verify: {exc}") from None
        payload = json.loads(body)
        if set(payload) != {"type", "timestamp", "data"}:
            raise Reject(f"not the spec's payload structure: {sorted(payload)}")
        datetime.fromisoformat(payload["timestamp"])
        if not isinstance(payload["data"], dict) or "id" not in payload["data"]:
            raise Reject("data without the entity's id")
        return plain["webhook-id"], payload["type"]

    return standard


def test_a_run_with_faults_retries_and_two_secrets_is_all_accepted() -> None:
    both = each(check(SECRET), check(NEW_SECRET))
    receiver = Receiver(both, fail_every=5, fail_types=frozenset({"contact.created"}))
    doc = run_against(receiver, "standard", f"{SECRET}\n{NEW_SECRET}")
    got, contact, invoice = receiver.accepted, doc["flows"]["contact"], doc["flows"]["invoice"]
    cut = doc["cancelled_at_deadline"] + doc["finished_in_grace"]
    assert (
        contact["started"] - contact["unfinished"] <= got["contact.created"] <= contact["started"]
    )
    assert 0 <= got["contact.deleted"] - contact["ended"]["deleted"] <= cut
    assert (
        invoice["started"] - invoice["unfinished"] <= got["invoice.created"] <= invoice["started"]
    )
    assert 0 <= got["invoice.paid"] - invoice["ended"]["paid"] <= cut


def test_a_wrong_secret_is_refused_by_both_libraries() -> None:
    wrong = "whsec_d3JvbmdrZXl3cm9uZ2tleXdyb25na2V5"
    body, headers = one_signed("standard", wrong, "http://127.0.0.1/webhooks")
    for verify in (
        standardwebhooks.webhooks.Webhook(SECRET).verify,
        svix.webhooks.Webhook(SECRET).verify,
    ):
        try:
            verify(body, headers)
        except (
            standardwebhooks.webhooks.WebhookVerificationError,
            svix.webhooks.WebhookVerificationError,
        ):
            pass
        else:
            raise AssertionError("a wrong secret was accepted")
    body, headers = one_signed("standard", SECRET, "http://127.0.0.1/webhooks")
    assert check(SECRET)(body, headers, "")[1] == "contact.created"


def test_every_states_payload_is_accepted() -> None:
    """Whatever a run draws: one event of each state, each a type the check knows."""
    url = "http://127.0.0.1:9/webhooks"
    events = every_state_signed("standard", SECRET, url)
    seen = {check(SECRET)(body, headers, url)[1] for _, _, body, headers in events}
    assert seen == {
        "contact.created",
        "contact.updated",
        "contact.deleted",
        "invoice.created",
        "invoice.paid",
    }
