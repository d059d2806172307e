"""The reference target's payments API and acquirer webhook (target/payments.py):
each row of docs/CONTRACT.md's measured acquirer-webhook table under
``--profile public``, the well-behaved answers under ``strict``, and the API
over HTTP against the target as a process."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

import orjson
import pytest

from target.payments import Payment, PaymentReject, Payments
from tests.helpers import get_json, post, target_process
from tests.target_http import target_with_output

CREATE = {"amount": 1500, "currency": "USD", "card_token": "tok_visa_4242", "capture_delay": ""}


def _hook(p: Payment, event: str, status: str = "", **extra: Any) -> dict[str, Any]:
    """An acquirer webhook for ``p`` as silvergate's sender writes it."""
    body: dict[str, Any] = {
        "event": f"transaction.{event}",
        "transaction_id": p.provider_tx_id,
        "order_id": "7b1e4c9a-0000-4000-8000-000000000001",
        "merchant_id": p.merchant_id,
        "status": status or event,
        "amount": p.amount,
        "currency": p.currency,
        "timestamp": "2026-12-07T13:00:00Z",
    }
    return {**body, **extra}


def _refused(payments: Payments, body: Any) -> PaymentReject:
    with pytest.raises(PaymentReject) as info:
        payments.webhook(body)
    return info.value


def _held(payments: Payments) -> Payment:
    return payments.create({**CREATE, "capture_delay": "24h"})


# -- public: every measured row ---------------------------------------------------------


def test_public_captured_on_capture_pending_is_applied() -> None:
    pay = Payments(public=True)
    p = pay.create(CREATE)
    assert p.status == "capture_pending"  # no capture_delay: the capture is asked at once
    assert pay.webhook(_hook(p, "captured")) is True
    assert p.status == "captured"


def test_public_captured_on_authorized_is_202_and_ignored() -> None:
    pay = Payments(public=True)
    p = _held(pay)
    assert p.status == "authorized" and p.capture_at is not None
    assert pay.webhook(_hook(p, "captured")) is False  # answered 202, nothing moves
    assert p.status == "authorized" and pay.ignored == 1


def test_public_voided_on_authorized_then_on_captured_or_voided_is_ignored() -> None:
    pay = Payments(public=True)
    p = _held(pay)
    assert pay.webhook(_hook(p, "voided")) is True
    assert p.status == "voided"
    q = pay.create(CREATE)
    pay.webhook(_hook(q, "captured"))
    assert pay.webhook(_hook(q, "voided")) is False and q.status == "captured"
    r = _held(pay)
    r.status = "voided"  # voided through the API (POST /api/v1/payments/{id}/void)
    assert pay.webhook(_hook(r, "voided")) is False and r.status == "voided"


def test_public_refunds_add_up_then_go_beyond_the_amount_and_onto_a_voided_payment() -> None:
    pay = Payments(public=True)
    p = pay.create(CREATE)
    pay.webhook(_hook(p, "captured"))
    pay.webhook(_hook(p, "refunded", refund_id="r1", amount=500))
    assert (p.status, p.refunded_amount) == ("partially_refunded", 500)
    pay.webhook(_hook(p, "refunded", refund_id="r2", amount=1000))
    assert (p.status, p.refunded_amount) == ("refunded", 1500)
    pay.webhook(_hook(p, "refunded", refund_id="r3", amount=1))  # measured: 1501 of 1500
    assert (p.status, p.refunded_amount) == ("refunded", 1501)
    v = _held(pay)
    pay.webhook(_hook(v, "voided"))
    pay.webhook(_hook(v, "refunded", refund_id="r4", amount=100))  # no state check
    assert (v.status, v.refunded_amount) == ("partially_refunded", 100)


@pytest.mark.parametrize("event", ["captured", "capture_failed", "refunded"])
def test_public_replay_of_an_applied_webhook_is_500_event_already_stored(event: str) -> None:
    pay = Payments(public=True)
    p = pay.create(CREATE)
    extra: dict[str, Any] = {"refund_id": "r1", "amount": 700} if event == "refunded" else {}
    if event == "refunded":
        pay.webhook(_hook(p, "captured"))
    pay.webhook(_hook(p, event, **extra))
    before = (p.status, p.refunded_amount)
    rej = _refused(pay, _hook(p, event, **extra))
    assert rej.code == 500 and rej.message.endswith('write event: event already stored"}')
    assert (p.status, p.refunded_amount) == before and pay.replays == 1


def test_public_unknown_transaction_or_empty_body_is_500_payment_not_found() -> None:
    pay = Payments(public=True)
    p = pay.create(CREATE)
    for body in (_hook(p, "captured", transaction_id="sg_tx_nobody"), {}):
        rej = _refused(pay, body)
        assert rej.code == 500 and "lookup payment by provider_tx_id" in rej.message
        assert "payment not found" in rej.message
    assert pay.unknown_transactions == 2


def test_public_unknown_status_is_500() -> None:
    pay = Payments(public=True)
    p = pay.create(CREATE)
    rej = _refused(pay, _hook(p, "capture_pending"))  # the acquirer's own capture webhook
    assert rej.code == 500 and "unknown webhook status: capture_pending" in rej.message
    assert p.status == "capture_pending"


def test_public_amount_as_a_string_is_400_invalid_payload() -> None:
    pay = Payments(public=True)
    p = pay.create(CREATE)
    for body in (_hook(p, "captured", amount="1500"), [1, 2]):
        rej = _refused(pay, body)
        assert (rej.code, rej.message) == (400, "Invalid payload")


def test_refund_failed_changes_nothing_in_either_profile() -> None:
    for public in (True, False):
        pay = Payments(public=public)
        p = pay.create(CREATE)
        pay.webhook(_hook(p, "captured"))
        assert pay.webhook(_hook(p, "refund_failed", refund_id="r1", amount=300)) is False
        assert (p.status, p.refunded_amount, pay.refund_failed) == ("captured", 0, 1)


# -- strict: the well-behaved receiver ---------------------------------------------------


def test_strict_refuses_replays_409_invalid_transitions_422_unknown_404() -> None:
    pay = Payments(public=False)
    p = pay.create(CREATE)
    pay.webhook(_hook(p, "captured"))
    assert _refused(pay, _hook(p, "captured")).code == 409
    assert _refused(pay, _hook(p, "voided")).code == 422
    assert _refused(pay, _hook(p, "captured", transaction_id="nope")).code == 404
    assert _refused(pay, _hook(p, "settled")).code == 422
    assert p.status == "captured"
    held = _held(pay)
    assert _refused(pay, _hook(held, "refunded", refund_id="r0", amount=1)).code == 422
    pay.webhook(_hook(p, "refunded", refund_id="r1", amount=1000))
    assert _refused(pay, _hook(p, "refunded", refund_id="r1", amount=1000)).code == 409
    rej = _refused(pay, _hook(p, "refunded", refund_id="r2", amount=501))
    assert rej.code == 422 and (p.status, p.refunded_amount) == ("partially_refunded", 1000)
    pay.webhook(_hook(p, "refunded", refund_id="r3", amount=500))
    assert p.status == "refunded"


def test_strict_400_names_the_field() -> None:
    pay = Payments(public=False)
    p = pay.create(CREATE)
    assert "amount" in _refused(pay, _hook(p, "captured", amount="1")).message
    assert "transaction_id" in _refused(pay, _hook(p, "captured", transaction_id="")).message


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**CREATE, "amount": 0}, "amount"),
        ({**CREATE, "amount": "15"}, "amount"),
        ({**CREATE, "currency": "EURO"}, "currency"),
        ({**CREATE, "card_token": ""}, "card_token"),
        ({k: v for k, v in CREATE.items() if k != "card_token"}, "card_token"),
        ({**CREATE, "capture_delay": "soon"}, "capture_delay"),
    ],
)
def test_create_refuses_what_the_service_does_not_bind(body: dict[str, Any], field: str) -> None:
    with pytest.raises(PaymentReject) as info:
        Payments().create(body)
    assert info.value.code == 400 and field in info.value.message


# -- over HTTP, against the target as a process -------------------------------------------


@pytest.mark.parametrize("profile", ["strict", "public"])
def test_the_api_and_the_webhook_over_http(profile: str) -> None:
    with target_process("--profile", profile, "--error-delay", "0") as url:
        code, raw = post(f"{url}/api/v1/payments", orjson.dumps(CREATE))
        assert code == 200, raw
        payment = orjson.loads(raw)
        assert payment["status"] == "capture_pending" and payment["refunded_amount"] == 0
        assert payment["provider_tx_id"] and payment["merchant_id"]
        assert get_json(f"{url}/api/v1/payments/{payment['id']}") == payment
        code, raw = post(f"{url}/api/v1/payments/nope", b"")
        assert code == 405  # reads are GET
        assert post(f"{url}/api/v1/payments", b'{"amount": 0}')[0] == 400
        held = orjson.loads(
            post(f"{url}/api/v1/payments", orjson.dumps({**CREATE, "capture_delay": "24h"}))[1]
        )
        assert held["status"] == "authorized" and held["capture_at"]
        p = Payment(**{k: v for k, v in payment.items() if k in Payment.__slots__})
        hook = f"{url}/webhooks/silvergate"
        assert post(hook, orjson.dumps(_hook(p, "captured"))) == (202, b"")
        replay = post(hook, orjson.dumps(_hook(p, "captured")))
        assert replay[0] == (500 if profile == "public" else 409), replay
        code, raw = post(hook, b"{not json")
        assert code == 400
        if profile == "public":
            assert raw == b'{"message":"Invalid payload"}'
        stats = get_json(f"{url}/stats")["payments"]
        assert stats["created"] == 2 and stats["applied"] == 1 and stats["replays"] == 1
        assert stats["received"] == {"202": 1, "400": 1, replay_code(profile): 1}
        assert stats["by_status"] == {"authorized": 1, "captured": 1}
        with urllib.request.urlopen(f"{url}/metrics", timeout=10) as resp:
            metrics = resp.read().decode()
        assert 'ingest_webhooks_received_total{endpoint="silvergate",code="202"} 1' in metrics


def replay_code(profile: str) -> str:
    return "500" if profile == "public" else "409"


def test_get_of_an_unknown_payment_is_404_payment_not_found() -> None:
    with target_process() as url:
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(f"{url}/api/v1/payments/nope", timeout=10)
        with info.value as err:
            assert err.code == 404
            assert orjson.loads(err.read()) == {"message": "payment not found"}


def test_a_signing_target_refuses_an_unsigned_acquirer_webhook_401() -> None:
    secret = {"WEBHOOKLOAD_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
    with target_with_output("--sign", "standard", env=secret) as run:
        url = run.url
        payment = orjson.loads(post(f"{url}/api/v1/payments", orjson.dumps(CREATE))[1])
        p = Payment(**{k: v for k, v in payment.items() if k in Payment.__slots__})
        code, _ = post(f"{url}/webhooks/silvergate", orjson.dumps(_hook(p, "captured")))
        assert code == 401
        stats = get_json(f"{url}/stats")
        assert stats["payments"]["received"] == {"401": 1} and stats["payments"]["applied"] == 0
        assert stats["signature_failures_total"] == 1
