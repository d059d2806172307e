"""``--scenario paddle`` end to end, judged by Paddle's Python SDK.

The receiver does what Paddle's docs tell a notification destination to do,
with ``paddle-python-sdk``: ``Notifications.Verifier().verify`` on
Paddle-Signature with the destination's secret (5 s tolerance: every
delivery must be signed when sent), then ``Entities.Event.from_dict`` of the
body, whose ``data`` must become the SDK's entity for the event type (not its
``UndefinedEntity``: every field the SDK reads must be there) in the status
the event means; deduplicate on ``event_id``. A 2 s run with duplicates,
reordering and retries, signed with two secrets (one rolling out), is
accepted by a receiver holding only the old one and by one holding only the
new one (0 rejections), the counts agree, and a wrong secret is refused."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from types import SimpleNamespace

from paddle_billing.Entities.Event import Event
from paddle_billing.Notifications import Secret, Verifier
from paddle_billing.Notifications.Entities.UndefinedEntity import UndefinedEntity

from tests.receivers.provider import (
    Receiver,
    Reject,
    each,
    every_state_signed,
    one_signed,
    run_against,
)

# the SDK's example secret, and another for the rolling case
SECRET = "pdl_ntfset_01hs0t3tw21j988db1pam5xg8m_GrOWLNef+vmtjJYq4mSnHNzvc8uWoJ1I"
NEW_SECRET = "pdl_ntfset_01jd7r5xq2c9m4e8f0a6b3y1zk_Qm9yZVNlY3JldEZvclJvbGxpbmc"
STATUS = {  # data.status each event type means (Paddle's event pages)
    "transaction.created": "ready",
    "transaction.paid": "paid",
    "transaction.completed": "completed",
    "subscription.created": "active",
    "subscription.updated": "active",
    "subscription.canceled": "canceled",
}


def check(secret: str) -> Callable[[bytes, Mapping[str, str], str], tuple[str, str]]:
    verifier = Verifier()

    def paddle(body: bytes, headers: Mapping[str, str], url: str) -> tuple[str, str]:
        request = SimpleNamespace(headers=headers, body=body)
        if not verifier.verify(request, Secret(secret)):
            raise Reject(f"Paddle-Signature does not verify: {headers.get('Paddle-Signature')}")
        payload = json.loads(body)
        try:
            event = Event.from_dict(payload)
        except (KeyError, ValueError) as exc:
            raise Reject(f"the SDK cannot read the envelope: {exc!r}") from None
        etype = payload["event_type"]
        if isinstance(event.data, UndefinedEntity):
            raise Reject(f"{etype}: the SDK could not build its entity from data")
        if payload["data"]["status"] != STATUS[etype]:
            raise Reject(f"{etype} with status {payload['data']['status']}")
        return payload["event_id"], etype

    return paddle


def test_a_run_with_faults_retries_and_two_secrets_is_all_accepted_by_paddles_sdk() -> None:
    both = each(check(SECRET), check(NEW_SECRET))
    receiver = Receiver(both, fail_every=5, fail_types=frozenset({"transaction.created"}))
    doc = run_against(receiver, "paddle", f"{SECRET}\n{NEW_SECRET}")
    got, txn, sub = receiver.accepted, doc["flows"]["transaction"], doc["flows"]["subscription"]
    cut = doc["cancelled_at_deadline"] + doc["finished_in_grace"]
    assert txn["started"] - txn["unfinished"] <= got["transaction.created"] <= txn["started"]
    assert 0 <= got["transaction.completed"] - txn["ended"]["completed"] <= cut
    assert sub["started"] - sub["unfinished"] <= got["subscription.created"] <= sub["started"]
    assert 0 <= got["subscription.canceled"] - sub["ended"]["canceled"] <= cut


def test_a_wrong_secret_is_refused_and_either_secret_of_a_roll_accepts() -> None:
    url = "http://127.0.0.1/paddle/webhooks"
    body, headers = one_signed("paddle", "pdl_ntfset_wrong", url)
    try:
        check(SECRET)(body, headers, "")
    except Reject as exc:
        assert "Paddle-Signature" in str(exc)
    else:
        raise AssertionError("a wrong secret was accepted")
    body, headers = one_signed("paddle", f"{SECRET}\n{NEW_SECRET}", url)
    assert headers["Paddle-Signature"].count(";h1=") == 2
    for held in (SECRET, NEW_SECRET):
        assert check(held)(body, headers, "")[1] == "transaction.created"


def test_every_states_payload_is_accepted() -> None:
    """Whatever a run draws: one event of each state, each a type the check knows."""
    url = "http://127.0.0.1:9/paddle/webhooks"
    events = every_state_signed("paddle", SECRET, url)
    seen = {check(SECRET)(body, headers, url)[1] for _, _, body, headers in events}
    assert seen == {
        "transaction.created",
        "transaction.paid",
        "transaction.completed",
        "subscription.created",
        "subscription.updated",
        "subscription.canceled",
    }
