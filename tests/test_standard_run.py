"""``--scenario standard`` end to end against a Standard Webhooks endpoint written
from the spec (tests/receivers/standard_receiver.py): both official libraries,
``standardwebhooks`` and ``svix``, verify every request. One run (~3 s: a 1 s
load, the process's start, a grace that lets nothing be cut) carries duplicates,
reordering, retries of the receiver's first 500s and two secrets while one rolls
(the receiver holds the old); a shorter one a receiver holding only the new."""

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
from tests.receivers.standard_receiver import StandardReceiver

# whsec_ + base64 of 24 to 64 random bytes, as the spec serialises a secret
OLD = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
NEW = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
WRONG = "whsec_d3JvbmdrZXl3cm9uZ2tleXdyb25na2V5"
TYPES = {
    "invoice.created": ("invoice", "started"),
    "invoice.payment_failed": ("invoice", "payment_failed"),
    "invoice.paid": ("invoice", "paid"),
    "invoice.voided": ("invoice", "voided"),
}


def test_a_run_with_faults_and_a_rolling_secret_is_all_accepted(tmp_path: Path) -> None:
    receiver = StandardReceiver(secret=OLD, fail_first=2, fail_types=frozenset({"invoice.created"}))
    doc = faulted_run(receiver, "standard", [OLD, NEW], tmp_path / "s.json")
    assert_counts_agree(receiver, doc, TYPES)


def test_a_receiver_holding_only_the_new_secret_accepts_every_request(tmp_path: Path) -> None:
    receiver = StandardReceiver(secret=NEW)
    assert_every_request_accepted(receiver, "standard", [OLD, NEW], tmp_path / "s.json")


def test_every_sample_journey_passes_and_a_wrong_secret_is_rejected() -> None:
    """Every event of 60 sample journeys, signed as a run signs it, passes both
    libraries; signed with another secret, both refuse it (standardwebhooks first)."""
    receiver = StandardReceiver(secret=OLD)
    types = set()
    for i, (_, body) in enumerate(sample_bodies("standard", 60, "http://127.0.0.1:8080")):
        now, msg = int(time.time()), f"msg_2KWPBgLlAfxdpx2AI54pPJ{i:05d}"
        types.add(
            receiver.check(dict(make_signer("standard", OLD).headers(body, msg, now)), body)[1]
        )
        wrong = dict(make_signer("standard", WRONG).headers(body, msg, now))
        with pytest.raises(Rejected, match=r"^signature \(standardwebhooks\)"):
            receiver.check(wrong, body)
    assert types == set(TYPES)
