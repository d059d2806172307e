"""``--scenario slack`` end to end against a Request URL judged by ``slack-sdk``
only (tests/receivers/slack_receiver.py: ``SignatureVerifier``, the envelope's
and each event's documented fields). One run (a 1 s load, a grace that lets
nothing be cut) carries duplicates, reordering and retries of the receiver's
first 500s: 0 rejected, the counts agree."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.receivers.loopback import (
    Rejected,
    assert_counts_agree,
    faulted_run,
    signed_samples,
)
from tests.receivers.slack_receiver import SlackReceiver

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # Slack's docs' example signing secret
TYPES = {
    "message": ("message", "started"),
    "reaction_added": ("message", "reacted"),
    "reply": ("message", "replied"),
    "app_mention": ("app_mention", "started"),
}


def test_a_run_with_faults_and_retries_is_all_accepted_by_slack_sdk(tmp_path: Path) -> None:
    receiver = SlackReceiver(secret=SECRET, fail_first=2, fail_types=frozenset({"message"}))
    doc = faulted_run(receiver, "slack", [SECRET], tmp_path / "s.json")
    assert_counts_agree(receiver, doc, TYPES)


def test_every_sample_journey_passes_and_a_wrong_secret_is_rejected() -> None:
    receiver = SlackReceiver(secret=SECRET)
    url = "http://127.0.0.1:8080"
    types = {receiver.check(h, b)[1] for h, b in signed_samples("slack", 30, url, SECRET)}
    assert types == set(TYPES)
    for headers, body in signed_samples("slack", 2, url, "not the secret"):
        with pytest.raises(Rejected, match="X-Slack-Signature"):
            receiver.check(headers, body)
