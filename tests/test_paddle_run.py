"""``--scenario paddle`` end to end against a Paddle notification destination
written from Paddle's docs and SDK (tests/receivers/paddle_receiver.py): its
``Verifier`` checks every signature, its ``NotificationEvent`` parses every
notification into the typed entity. One run (~4 s: a 1 s load, the process's
start and a grace that lets nothing be cut) carries duplicates, reordering,
retries of the receiver's first 500s and two secrets while one rolls; a second,
shorter one checks the receiver holding only the new secret."""

from __future__ import annotations

from pathlib import Path

from tests.receivers.loopback import assert_counts_agree, run_cli, running
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
FAULTS = ("--duplicate-rate", "0.1", "--reorder-rate", "0.1", "--retries", "2")


def test_a_run_with_faults_and_a_rolling_secret_is_all_accepted(tmp_path: Path) -> None:
    receiver = PaddleReceiver(secrets=[OLD], fail_first=3)
    with running(receiver) as url:
        res, doc = run_cli(
            url,
            "paddle",
            [OLD, NEW],
            tmp_path / "s.json",
            *("--sign", "paddle", "--duration", "1s", "--vus", "2", "--grace", "30s", *FAULTS),
        )
    assert res.returncode == 0, res.stderr + res.stdout
    assert_counts_agree(receiver, doc, TYPES)
    assert doc["flows"]["subscription"]["visited"]["updated"] > 0


def test_a_receiver_holding_only_the_new_secret_accepts_every_request(tmp_path: Path) -> None:
    receiver = PaddleReceiver(secrets=[NEW])
    with running(receiver) as url:
        res, doc = run_cli(
            url,
            "paddle",
            [OLD, NEW],
            tmp_path / "s.json",
            *("--sign", "paddle", "--duration", "300ms", "--vus", "2", "--grace", "30s"),
        )
    assert res.returncode == 0, res.stderr + res.stdout
    assert receiver.rejected == [] and doc["requests"]["errors"] == 0
    assert receiver.posts == doc["requests"]["total"] > 10


def test_a_wrong_secret_is_rejected(tmp_path: Path) -> None:
    """Paddle's Verifier refuses every notification signed with another key."""
    receiver = PaddleReceiver(secrets=[OLD])
    with running(receiver) as url:
        run_cli(
            url,
            "paddle",
            [NEW],
            tmp_path / "s.json",
            *("--sign", "paddle", "--duration", "200ms", "--vus", "1"),
        )
    assert receiver.posts > 0 and len(receiver.rejected) == receiver.posts
    assert sum(receiver.accepted.values()) == 0
    assert all(r.startswith("signature:") for r in receiver.rejected), receiver.rejected[:2]
