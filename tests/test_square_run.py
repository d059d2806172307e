"""``--scenario square`` end to end against a Square subscription endpoint written
from Square's docs and SDK (tests/receivers/square_receiver.py): the SDK's
webhooks helper checks every signature over the exact notification URL and the
body, its typed events validate every body. One run (~4 s: a 1 s load, the
process's start, a grace that lets nothing be cut) carries duplicates,
reordering and retries of the receiver's first 500s. A payment sends
several payment.updated, as Square documents (captured, fee added, refunded).
Square sends one signature per request, so a second secret is refused before
anything is sent."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from engine.domain.signing import make_signer
from tests.receivers.loopback import (
    Rejected,
    assert_counts_agree,
    faulted_run,
    sample_bodies,
)
from tests.receivers.square_receiver import SquareReceiver
from tui.cli import parse

KEY = "Ibxx_5AKakO-3qeNVR61Dw"  # the form of a Square signature key (its SDK's test)
TYPES = {
    "payment.created": ("payment", "started"),
    "payment.updated": ("payment", "updated"),
    "refund.created": ("refund", "started"),
    "refund.updated": ("refund", "completed"),
}


UPDATES = ("completed", "fee_added")  # visited; and the terminal settled, refunded, canceled


def _merge_updates(doc: dict[str, object]) -> dict[str, object]:
    """payment.updated is sent by five states (captured, the fee added in two,
    refunded, voided): their sum."""
    flows = doc["flows"]
    assert isinstance(flows, dict)
    pay = flows["payment"]
    ended, visited = pay["ended"], pay["visited"]
    total = sum(visited[s] for s in UPDATES) + sum(ended.values())
    pay["visited"] = {"updated": total}
    return doc


def test_a_run_with_faults_is_all_accepted_over_the_exact_url(tmp_path: Path) -> None:
    receiver = SquareReceiver(
        signature_key=KEY, fail_first=2, fail_types=frozenset({"payment.created"})
    )
    doc = faulted_run(receiver, "square", [KEY], tmp_path / "s.json")
    # Square sends several payment.updated per payment (captured, fee added,
    # refunded): more of them reached the receiver than payments were created
    assert receiver.accepted["payment.updated"] > receiver.accepted["payment.created"] > 0
    assert doc["flows"]["payment"]["ended"]["refunded"] > 0
    assert_counts_agree(receiver, _merge_updates(doc), TYPES)


def test_a_payments_updates_follow_squares_documented_lifecycle() -> None:
    """Per payment of 200 sample journeys, in order: payment.created (APPROVED,
    the card AUTHORIZED), then payment.updated when captured (COMPLETED, the card
    CAPTURED, no fee yet), when the processing fee is added, and when refunded
    (the refund's id in refund_ids, the whole amount in refunded_money), the
    refund's own refund.created (PENDING) and refund.updated (COMPLETED); or one
    payment.updated voiding it (CANCELED, the card VOIDED). Every update a new
    version_token."""
    seen: dict[str, list[tuple[str, dict[str, object]]]] = {}
    for _, body in sample_bodies("square", 200, "http://127.0.0.1:8080"):
        event = json.loads(body)
        kind = event["data"]["type"]
        obj = event["data"]["object"][kind]
        pay_id = obj["id"] if kind == "payment" else obj["payment_id"]
        seen.setdefault(pay_id, []).append((event["type"], obj))
    shapes: Counter[str] = Counter()
    for events in seen.values():
        pays = [o for t, o in events if t.startswith("payment.")]
        steps = [(o["status"], o["card_details"]["status"]) for o in pays]  # type: ignore[index]
        assert events[0][0] == "payment.created"
        assert len({o["version_token"] for o in pays}) == len(pays)
        if steps == [("APPROVED", "AUTHORIZED"), ("CANCELED", "VOIDED")]:
            shapes["voided"] += 1
            continue
        assert steps[:3] == [("APPROVED", "AUTHORIZED")] + [("COMPLETED", "CAPTURED")] * 2
        assert "processing_fee" not in pays[1] and pays[2]["processing_fee"]
        if len(pays) == 3:
            assert len(events) == 3
            shapes["settled"] += 1
            continue
        assert len(pays) == 4 and steps[3] == ("COMPLETED", "CAPTURED")
        refunds = [(t, o) for t, o in events if t.startswith("refund.")]
        assert [(t, o["status"]) for t, o in refunds] == [
            ("refund.created", "PENDING"),
            ("refund.updated", "COMPLETED"),
        ]
        assert pays[3]["refund_ids"] == [refunds[0][1]["id"]]
        assert pays[3]["refunded_money"] == refunds[0][1]["amount_money"] == pays[0]["amount_money"]
        shapes["refunded"] += 1
    assert set(shapes) == {"voided", "settled", "refunded"}, shapes


def test_every_sample_journey_passes_and_a_wrong_key_or_url_is_rejected() -> None:
    """Every event of 60 sample journeys, signed as a run signs it, passes the SDK's
    helper and models; signed with another key, or with the right key for another
    URL (a trailing slash), the helper refuses it."""
    receiver = SquareReceiver(signature_key=KEY)
    receiver.url = "http://127.0.0.1:8080/webhooks"
    types = set()
    for url, body in sample_bodies("square", 60, "http://127.0.0.1:8080"):
        assert url == receiver.url
        types.add(
            receiver.check(dict(make_signer("square", KEY).headers(body, "", 0, url)), body)[1]
        )
        for key, signed_url in (("another-key", url), (KEY, url + "/")):
            headers = dict(make_signer("square", key).headers(body, "", 0, signed_url))
            with pytest.raises(Rejected, match=r"^signature"):
                receiver.check(headers, body)
    assert types == set(TYPES)


def test_two_secrets_are_refused_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """Square sends one signature per request: no rolling secret to send."""
    with pytest.raises(SystemExit) as exc:
        parse(["--scenario", "square", "--sign", "square", "--secret", KEY, "--secret", "k2"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--secret must be one secret for --sign square" in err[0]
    assert KEY not in err[0]
