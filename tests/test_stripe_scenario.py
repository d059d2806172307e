"""The built-in ``stripe`` scenario against a receiver written from Stripe's docs.

Sample journeys of the compiled file (engine/scenario/sample.py: every child
flow taken), each event signed as webhookload signs (engine/domain/signing.py)
and POSTed over loopback to tests/receivers/stripe_receiver.py, which checks
the signature with Stripe's own library and each event against Stripe's
published OpenAPI schemas. Nothing may be rejected and the counts must agree.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from typing import Any

import aiohttp
import orjson

from engine.domain.signing import Signer, make_signer
from engine.scenario.compiler import compile_scenario
from engine.scenario.loader import load_scenario
from engine.scenario.sample import SampleRequest, sample_journey
from tests.receivers.stripe_receiver import PATH, StripeReceiver, serve

SECRET = "whsec_test_0123456789abcdefghijklmnopqrstuv"
JOURNEYS = 200


def _journeys(n: int) -> list[SampleRequest]:
    compiled = compile_scenario(load_scenario("stripe"))
    out: list[SampleRequest] = []
    for seed in range(n):
        out += sample_journey(compiled, random.Random(seed), "http://unused")
    assert all(r.kind == "webhook" for r in out)  # no API steps, no read-back
    return out


def _signer(secret: str = SECRET) -> Signer:
    """The file's default signing, as a run without --sign/--signature-header uses it."""
    scenario = load_scenario("stripe").spec.scenario
    assert scenario.sign == "stripe" and scenario.signature_header == "Stripe-Signature"
    return make_signer(scenario.sign, secret, scenario.signature_header)


async def _post_all(receiver: StripeReceiver, bodies: list[bytes]) -> list[int]:
    signer = _signer()
    runner, base = await serve(receiver)
    try:
        async with aiohttp.ClientSession() as session:
            statuses = []
            for body in bodies:
                signed = signer.headers(body, "", int(time.time()))  # at send time, as Stripe
                headers = {"Content-Type": "application/json", **dict(signed)}
                async with session.post(base + PATH, data=body, headers=headers) as resp:
                    statuses.append(resp.status)
            return statuses
    finally:
        await runner.cleanup()


def test_every_event_of_sample_journeys_is_accepted_and_counted() -> None:
    requests = _journeys(JOURNEYS)
    assert {r.url for r in requests} == {"http://unused" + PATH}  # one endpoint for all
    bodies = [r.body for r in requests if r.body is not None]
    events: list[dict[str, Any]] = [orjson.loads(b) for b in bodies]
    # Stripe resends (a duplicate, re-signed) and does not keep order: so do we
    rng = random.Random(7)
    resent = [b for b in bodies if rng.random() < 0.1]
    shuffled = bodies + resent
    rng.shuffle(shuffled)
    receiver = StripeReceiver(SECRET)
    statuses = asyncio.run(_post_all(receiver, shuffled))

    assert receiver.rejected == []
    assert statuses == [200] * len(shuffled)
    assert receiver.accepted == Counter(e["type"] for e in events)
    assert receiver.duplicates == len(resent)
    assert len({e["id"] for e in events}) == len(events)  # evt_ ids never repeat
    # every event type of the lifecycles was exercised, in a realistic spread
    assert set(receiver.accepted) == {
        "payment_intent.created",
        "payment_intent.processing",
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "charge.dispute.created",
        "charge.dispute.updated",
        "charge.dispute.closed",
    }
    objects = [e["data"]["object"] for e in events]
    assert len({o["currency"] for o in objects}) >= 4
    assert len({o["amount"] for o in objects}) >= 8
    assert all(o["currency"] == o["currency"].lower() for o in objects)
    assert {o["status"] for o in objects if o["object"] == "dispute"} >= {
        "needs_response",
        "under_review",
        "won",
        "lost",
    }


def test_a_dispute_belongs_to_its_succeeded_payment() -> None:
    events = [orjson.loads(r.body) for r in _journeys(60) if r.body is not None]
    succeeded = {
        o["id"]: o
        for e in events
        if e["type"] == "payment_intent.succeeded"
        for o in [e["data"]["object"]]
    }
    disputes = [e["data"]["object"] for e in events if e["type"].startswith("charge.dispute.")]
    assert disputes
    for dispute in disputes:
        pi = succeeded[dispute["payment_intent"]]
        assert (dispute["charge"], dispute["amount"], dispute["currency"]) == (
            pi["latest_charge"],
            pi["amount"],
            pi["currency"],
        )
        assert dispute["evidence_details"]["due_by"] > dispute["created"]


def test_the_receiver_rejects_what_stripe_would_not_send() -> None:
    """The harness can fail: a wrong secret, a missing field, a wrong status or type."""
    body = next(r.body for r in _journeys(1) if r.body is not None)
    event = orjson.loads(body)
    no_status = orjson.loads(body)
    del no_status["data"]["object"]["status"]
    wrong_status = orjson.loads(body)
    wrong_status["data"]["object"]["status"] = "succeeded"  # on payment_intent.created
    string_amount = orjson.loads(body)
    string_amount["data"]["object"]["amount"] = "10.99"
    receiver = StripeReceiver("whsec_another_secret")
    assert asyncio.run(_post_all(receiver, [body])) == [400]
    assert "SignatureVerificationError" in receiver.rejected[0]
    receiver = StripeReceiver(SECRET)
    broken = [orjson.dumps(e) for e in (no_status, wrong_status, string_amount)]
    assert asyncio.run(_post_all(receiver, broken)) == [400, 400, 400]
    assert "'status' is a required property" in receiver.rejected[0]
    assert "status 'succeeded' is not what Stripe documents" in receiver.rejected[1]
    assert "'10.99' is not of type 'integer'" in receiver.rejected[2]
    assert event["type"] == "payment_intent.created" and receiver.accepted == Counter()
