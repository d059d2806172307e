"""``--scenario square`` end to end, judged by Square's Python SDK.

The receiver does what Square's docs tell a webhook endpoint to do, with
``squareup``: ``WebhooksHelper``'s ``verify_signature`` of
x-square-hmacsha256-signature over the notification URL it was subscribed
with (the URL the run sends to) and the body, then the SDK's typed model of
the event type (``PaymentCreatedEvent``, ``PaymentUpdatedEvent``,
``RefundCreatedEvent``, ``RefundUpdatedEvent``) with the statuses Square
documents; deduplicate on ``event_id``. A 2 s run with duplicates,
reordering and retries has 0 rejections, the counts agree, and a wrong
signature key is refused."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from square.types.payment_created_event import PaymentCreatedEvent
from square.types.payment_updated_event import PaymentUpdatedEvent
from square.types.refund_created_event import RefundCreatedEvent
from square.types.refund_updated_event import RefundUpdatedEvent
from square.utils.webhooks_helper import verify_signature

from tests.receivers.provider import Receiver, Reject, every_state_signed, one_signed, run_against

SECRET = "Ibxx_5AKakO-3qeNVR61Dw"  # the SDK's test signature key
MODELS: dict[str, Any] = {
    "payment.created": PaymentCreatedEvent,
    "payment.updated": PaymentUpdatedEvent,
    "refund.created": RefundCreatedEvent,
    "refund.updated": RefundUpdatedEvent,
}
PAYMENT = {  # (status, card_details.status) pairs Square documents
    ("APPROVED", "AUTHORIZED"),
    ("COMPLETED", "CAPTURED"),
    ("CANCELED", "VOIDED"),
}


def check(key: str) -> Callable[[bytes, Mapping[str, str], str], tuple[str, str]]:
    def square(body: bytes, headers: Mapping[str, str], url: str) -> tuple[str, str]:
        signature = headers.get("x-square-hmacsha256-signature", "")
        if not verify_signature(
            request_body=body.decode(),
            signature_header=signature,
            signature_key=key,
            notification_url=url,
        ):
            raise Reject(f"x-square-hmacsha256-signature does not verify for {url}")
        payload = json.loads(body)
        etype = payload.get("type")
        if etype not in MODELS:
            raise Reject(f"unexpected type {etype}")
        try:
            event = MODELS[etype].model_validate(payload)
        except ValueError as exc:
            raise Reject(f"{etype}: the SDK's model refuses it: {str(exc)[:300]}") from None
        if etype.startswith("payment."):
            p = event.data.object.payment
            if (p.status, p.card_details.status) not in PAYMENT:
                raise Reject(f"{etype}: status {p.status}/{p.card_details.status}")
            if p.total_money.amount != p.amount_money.amount + (
                p.tip_money.amount if p.tip_money else 0
            ):
                raise Reject(f"{etype}: total_money is not amount_money + tip_money")
            done = p.status == "COMPLETED"
            return payload["event_id"], f"{etype}.completed" if done else etype
        refund = event.data.object.refund
        if refund.payment_id is None or not event.data.id.startswith(refund.payment_id):
            raise Reject(f"{etype}: refund id does not name its payment")
        return payload["event_id"], etype

    return square


def test_a_run_with_faults_and_retries_is_all_accepted_by_squares_sdk() -> None:
    receiver = Receiver(check(SECRET), fail_every=5, fail_types=frozenset({"payment.created"}))
    doc = run_against(receiver, "square", SECRET)
    got, pay, refund = receiver.accepted, doc["flows"]["payment"], doc["flows"]["refund"]
    cut = doc["cancelled_at_deadline"] + doc["finished_in_grace"]
    assert pay["started"] - pay["unfinished"] <= got["payment.created"] <= pay["started"]
    completed = pay["ended"]["completed"] + pay["ended"]["tip_completed"]
    assert 0 <= got["payment.updated.completed"] - completed <= cut
    assert refund["started"] - refund["unfinished"] <= got["refund.created"] <= refund["started"]
    assert 0 <= got["refund.updated"] - refund["ended"]["completed"] <= cut


def test_a_wrong_key_is_refused() -> None:
    url = "http://127.0.0.1:9/square/webhooks"
    body, headers = one_signed("square", "wrong-key", url)
    try:
        check(SECRET)(body, headers, url)
    except Reject as exc:
        assert "does not verify" in str(exc)
    else:
        raise AssertionError("a wrong key was accepted")
    body, headers = one_signed("square", SECRET, url)
    assert check(SECRET)(body, headers, url)[1] == "payment.created"
    try:  # the signature covers the notification URL too
        check(SECRET)(body, headers, url + "?x=1")
    except Reject:
        pass
    else:
        raise AssertionError("another URL was accepted")


def test_every_states_payload_is_accepted() -> None:
    """Whatever a run draws: one event of each state, each a type the check knows."""
    url = "http://127.0.0.1:9/square/webhooks"
    events = every_state_signed("square", SECRET, url)
    seen = {check(SECRET)(body, headers, url)[1] for _, _, body, headers in events}
    assert seen == {
        "payment.created",
        "payment.updated",
        "payment.updated.completed",
        "refund.created",
        "refund.updated",
    }
