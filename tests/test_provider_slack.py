"""``--scenario slack`` end to end, judged by Slack's Python SDK.

The receiver does what Slack's docs tell a Request URL to do: verify the
request with ``slack_sdk.signature.SignatureVerifier`` (X-Slack-Signature
over ``v0:{timestamp}:{body}``, X-Slack-Request-Timestamp within 5 min),
read the ``event_callback`` envelope ("Event object": token, team_id,
api_app_id, event, type, event_id, event_time) and each inner event's fields
as its reference page lists them, deduplicate on ``event_id``. A 2 s run with
duplicates, reordering and retries has 0 rejections, the counts agree, and a
wrong secret is refused."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

from slack_sdk.signature import SignatureVerifier

from tests.receivers.provider import Receiver, Reject, every_state_signed, one_signed, run_against

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # Slack's docs' example signing secret
ENVELOPE = ("token", "team_id", "api_app_id", "event", "type", "event_id", "event_time")
FIELDS = {  # each event's fields, from its reference page's example
    "message": ("channel", "user", "text", "ts", "event_ts", "channel_type"),
    "app_mention": ("user", "text", "ts", "channel", "event_ts"),
    "reaction_added": ("user", "reaction", "item_user", "item", "event_ts"),
}


def check(secret: str) -> Callable[[bytes, Mapping[str, str], str], tuple[str, str]]:
    verifier = SignatureVerifier(secret)

    def slack(body: bytes, headers: Mapping[str, str], url: str) -> tuple[str, str]:
        if not verifier.is_valid_request(body, dict(headers)):
            raise Reject("X-Slack-Signature does not verify")
        envelope = json.loads(body)
        missing = [k for k in ENVELOPE if k not in envelope]
        if missing or envelope["type"] != "event_callback":
            raise Reject(f"not an event_callback envelope: missing {missing}")
        event = envelope["event"]
        etype = event.get("type")
        if etype not in FIELDS or any(k not in event for k in FIELDS[etype]):
            raise Reject(f"event {etype}: fields {FIELDS.get(etype)} expected, got {sorted(event)}")
        if etype == "message" and event.get("thread_ts") == event["ts"]:
            raise Reject("a reply with its parent's ts")
        return envelope["event_id"], "reply" if "thread_ts" in event else etype

    return slack


def test_a_run_with_faults_and_retries_is_all_accepted_by_slack_sdk() -> None:
    receiver = Receiver(check(SECRET), fail_every=5, fail_types=frozenset({"message"}))
    doc = run_against(receiver, "slack", SECRET)
    got, message = receiver.accepted, doc["flows"]["message"]
    mention = doc["flows"]["app_mention"]
    cut = doc["cancelled_at_deadline"] + doc["finished_in_grace"]
    assert message["started"] - message["unfinished"] <= got["message"] <= message["started"]
    assert 0 <= got["reaction_added"] - message["ended"]["reacted"] <= cut
    assert 0 <= got["reply"] - message["ended"]["replied"] <= cut
    assert 0 <= got["app_mention"] - mention["ended"]["mentioned"] <= cut


def test_a_wrong_secret_is_refused() -> None:
    body, headers = one_signed("slack", "not the secret", "http://127.0.0.1/slack/events")
    try:
        check(SECRET)(body, headers, "")
    except Reject as exc:
        assert "X-Slack-Signature" in str(exc)
    else:
        raise AssertionError("a wrong secret was accepted")
    body, headers = one_signed("slack", SECRET, "http://127.0.0.1/slack/events")
    assert check(SECRET)(body, headers, "")[1] == "message"


def test_every_states_payload_is_accepted() -> None:
    """Whatever a run draws: one event of each state, each a type the check knows."""
    url = "http://127.0.0.1:9/slack/events"
    events = every_state_signed("slack", SECRET, url)
    seen = {check(SECRET)(body, headers, url)[1] for _, _, body, headers in events}
    assert seen == {"message", "reaction_added", "reply", "app_mention"}
