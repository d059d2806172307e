"""``--scenario paddle`` end to end against a Paddle notification destination
written from Paddle's docs and SDK (tests/receivers/paddle_receiver.py): its
``Verifier`` checks every signature, its ``NotificationEvent`` parses every
notification into the typed entity. One run (~4 s: a 1 s load, the process's
start and a grace that lets nothing be cut) carries duplicates, reordering,
retries of the receiver's first 500s and two secrets while one rolls; a second,
shorter one checks the receiver holding only the new secret."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from engine.domain.signing import make_signer
from tests.receivers.loopback import (
    Rejected,
    assert_counts_agree,
    assert_every_request_accepted,
    faulted_run,
    sample_bodies,
)
from tests.receivers.paddle_receiver import PaddleReceiver

# Paddle's secret keys look like pdl_ntfset_<id>_<key> (the SDK's example's form)
OLD = "pdl_ntfset_01hv8wpts6n6wkcr973fmt6gt7_GrOWLNef+vmtjJYq4mSnHNzvc8uW"
NEW = "pdl_ntfset_01jf3x9qbw2mfe7d2vhq0k8r5s_Tq8vY2kLm+Zp4xWcR7nB1sDfGh3J"
TYPES = {
    "transaction.created": ("transaction", "started"),
    "transaction.paid": ("transaction", "paid"),
    "transaction.completed": ("transaction", "completed"),
    "subscription.created": ("subscription", "started"),
    "subscription.updated": ("subscription", "updated"),
    "subscription.canceled": ("subscription", "canceled"),
}


def test_a_run_with_faults_and_a_rolling_secret_is_all_accepted(tmp_path: Path) -> None:
    receiver = PaddleReceiver(
        secrets=[OLD], fail_first=2, fail_types=frozenset({"transaction.created"})
    )
    doc = faulted_run(receiver, "paddle", [OLD, NEW], tmp_path / "s.json")
    assert_counts_agree(receiver, doc, TYPES)
    assert doc["flows"]["subscription"]["visited"]["updated"] > 0


def test_a_receiver_holding_only_the_new_secret_accepts_every_request(tmp_path: Path) -> None:
    receiver = PaddleReceiver(secrets=[NEW])
    assert_every_request_accepted(receiver, "paddle", [OLD, NEW], tmp_path / "s.json")


def test_every_sample_journey_passes_and_a_wrong_secret_is_rejected() -> None:
    """Every event of 60 sample journeys, signed as a run signs it, passes the SDK's
    Verifier and parse; signed with another key, Paddle's Verifier refuses it."""
    receiver = PaddleReceiver(secrets=[OLD])
    bodies = sample_bodies("paddle", 60, "http://127.0.0.1:8080")
    types = set()
    for _, body in bodies:
        now = int(time.time())
        types.add(receiver.check(dict(make_signer("paddle", OLD).headers(body, "", now)), body)[1])
        with pytest.raises(Rejected, match=r"^signature"):
            receiver.check(dict(make_signer("paddle", NEW).headers(body, "", now)), body)
    assert types == set(TYPES)
