"""The built-in ``payments`` scenario sends what the payment manager's code binds.

The field lists and the state table below are copied from the service's
public repository (Mark-Juzefin/distributed-payment-manager-practice at
6fe9943; docs/CONTRACT.md, "Payments (acquirer webhook)" names each file):
a compiled body must have exactly the fields the Go DTO binds, with its types,
and a journey's events must follow ``validTransitions`` as the service applies them.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import datetime
from typing import Any

import orjson
import pytest

from engine.scenario.compiler import compile_scenario
from engine.scenario.loader import load_scenario
from engine.scenario.sample import SampleRequest, sample_journey

# services/ingest/dto/payment_webhook.go (PaymentWebhookRequest; refund_id is omitempty)
WEBHOOK_FIELDS: dict[str, type] = {
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
# services/paymanager/internal/payment/entity.go (CreatePaymentRequest)
CREATE_FIELDS: dict[str, type] = {
    "amount": int,
    "currency": str,
    "card_token": str,
    "capture_delay": str,
}
# entity.go validTransitions
VALID = {
    "authorized": {"capture_pending", "voided"},
    "capture_pending": {"captured", "capture_failed"},
    "captured": {"partially_refunded", "refunded"},
    "partially_refunded": {"partially_refunded", "refunded"},
}
# services/silvergate/internal/webhooksender/sender.go: event name -> status it carries
EVENT_STATUS = {
    "transaction.captured": "captured",
    "transaction.capture_failed": "capture_failed",
    "transaction.voided": "voided",
    "transaction.refunded": "refunded",
    "transaction.refund_failed": "refund_failed",
}
GO_DURATION = re.compile(r"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$")


def _journeys(n: int) -> list[list[SampleRequest]]:
    compiled = compile_scenario(load_scenario("payments"))
    return [sample_journey(compiled, random.Random(seed), "http://ingest") for seed in range(n)]


def _body(req: SampleRequest) -> dict[str, Any]:
    assert req.body is not None
    body: dict[str, Any] = orjson.loads(req.body)
    return body


def _check_types(body: dict[str, Any], fields: dict[str, type]) -> None:
    for key, value in body.items():
        assert type(value) is fields[key], (key, value)


def test_bodies_have_exactly_the_fields_the_service_binds() -> None:
    seen: Counter[str] = Counter()
    for journey in _journeys(300):
        for req in journey:
            if req.kind == "read":
                assert req.method == "GET" and "/api/v1/payments/" in req.url
                continue
            body = _body(req)
            if req.kind == "api":
                assert (req.method, req.url) == ("POST", "http://ingest/api/v1/payments")
                assert list(body) == list(CREATE_FIELDS)
                _check_types(body, CREATE_FIELDS)
                assert body["amount"] >= 1 and re.fullmatch(r"[A-Z]{3}", body["currency"])
                delay = body["capture_delay"]
                assert delay == "" or GO_DURATION.fullmatch(delay)
                continue
            assert (req.method, req.url) == ("POST", "http://ingest/webhooks/silvergate")
            refund = body["event"].startswith("transaction.refund")
            expected = [k for k in WEBHOOK_FIELDS if refund or k != "refund_id"]
            assert list(body) == expected  # the sender's field order, refund_id only on refunds
            _check_types(body, WEBHOOK_FIELDS)
            assert EVENT_STATUS[body["event"]] == body["status"]
            datetime.fromisoformat(body["timestamp"].replace("Z", "+00:00"))
            assert body["timestamp"].endswith("Z")
            seen[body["event"]] += 1
    assert set(seen) == set(EVENT_STATUS)  # every event the acquirer sends, exercised


def test_journeys_follow_the_service_state_table_and_refunds_add_up() -> None:
    finals: Counter[str] = Counter()
    currencies: set[str] = set()
    amounts: set[int] = set()
    for journey in _journeys(300):
        create = _body(journey[0])
        assert journey[0].kind == "api"
        amount, refunded = create["amount"], 0
        status = "capture_pending" if create["capture_delay"] == "" else "authorized"
        currencies.add(create["currency"])
        amounts.add(amount)
        for req in journey[1:]:
            if req.kind == "read":
                continue
            body = _body(req)
            assert body["currency"] == create["currency"]
            if body["event"] == "transaction.refund_failed":
                assert status in ("captured", "partially_refunded")
                continue  # the service logs it and changes nothing
            if body["event"] == "transaction.refunded":
                refunded += body["amount"]
                assert 0 < refunded <= amount  # never more than was captured
                target = "refunded" if refunded == amount else "partially_refunded"
            else:
                assert body["amount"] == amount
                target = body["status"]
            assert target in VALID.get(status, set()), (status, target)
            status = target
        finals[status] += 1
    assert set(finals) == {"captured", "capture_failed", "voided", "refunded"}
    assert len(currencies) >= 4 and len(amounts) >= 8


def test_every_refund_plan_adds_up() -> None:
    plan = next(v for k, v, _ in load_scenario("payments").parsed.vars["payment"] if k == "plan")
    values = plan.spec.values  # type: ignore[union-attr]
    assert len(values) >= 8
    for p in values:
        assert p["part"] + p["rest"] == p["amount"]
        assert 2 * p["part"] + p["rest_2"] == p["amount"]
        assert min(p.values()) > 0


@pytest.mark.parametrize("name", ["payment", "refund"])
def test_the_read_back_expects_what_the_service_shows(name: str) -> None:
    read = load_scenario("payments").spec.flows[name].read
    assert read is not None and read.status == "$.status"
    assert set(read.expect.values()) <= {"captured", "capture_failed", "voided", "refunded"}
