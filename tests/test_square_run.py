"""``--scenario square`` end to end against a Square subscription endpoint written
from Square's docs and SDK (tests/receivers/square_receiver.py): the SDK's
webhooks helper checks every signature over the exact notification URL and the
body, its typed events validate every body. One run (~4 s: a 1 s load, the
process's start, a grace that lets nothing be cut) carries duplicates,
reordering and retries of the receiver's first 500s. Square sends one signature
per request, so a second secret is refused before anything is sent."""

from __future__ import annotations

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


def _merge_updates(doc: dict[str, object]) -> dict[str, object]:
    """payment.updated is either terminal state (completed, canceled): their sum."""
    flows = doc["flows"]
    assert isinstance(flows, dict)
    ended = flows["payment"]["ended"]
    flows["payment"]["visited"] = {"updated": ended["completed"] + ended["canceled"]}
    return doc


def test_a_run_with_faults_is_all_accepted_over_the_exact_url(tmp_path: Path) -> None:
    receiver = SquareReceiver(
        signature_key=KEY, fail_first=2, fail_types=frozenset({"payment.created"})
    )
    doc = faulted_run(receiver, "square", [KEY], tmp_path / "s.json")
    assert_counts_agree(receiver, _merge_updates(doc), TYPES)


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
