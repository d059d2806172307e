"""A Slack Events API Request URL written from Slack's documentation, judged by
Slack's Python SDK (PyPI ``slack-sdk``) only.

What Slack's docs tell a Request URL to do: verify the request with
``slack_sdk.signature.SignatureVerifier`` (``X-Slack-Signature`` over
``v0:{timestamp}:{body}``, ``X-Slack-Request-Timestamp`` within 5 minutes),
read the ``event_callback`` envelope ("Event object": token, team_id,
api_app_id, event, type, event_id, event_time) and each inner event's fields as
its reference page lists them, deduplicate on ``event_id``, answer 200 within 3 s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from slack_sdk.signature import SignatureVerifier

from tests.receivers.loopback import Receiver, Rejected

ENVELOPE = ("token", "team_id", "api_app_id", "event", "type", "event_id", "event_time")
FIELDS = {  # each event's fields, from its reference page's example
    "message": ("channel", "user", "text", "ts", "event_ts", "channel_type"),
    "app_mention": ("user", "text", "ts", "channel", "event_ts"),
    "reaction_added": ("user", "reaction", "item_user", "item", "event_ts"),
}


def event_type(envelope: Any) -> str:
    """The inner event's type; a message in a thread counts as ``reply``."""
    event = envelope.get("event") if isinstance(envelope, dict) else None
    if not isinstance(event, dict):
        return ""
    return "reply" if "thread_ts" in event else str(event.get("type"))


@dataclass
class SlackReceiver(Receiver):
    path: str = "/slack/events"
    secret: str = ""

    def identify(self, headers: Any, body: bytes) -> tuple[str, str]:
        envelope = orjson.loads(body)
        return str(envelope.get("event_id")), event_type(envelope)

    def check(self, headers: Any, body: bytes) -> tuple[str, str]:
        if not SignatureVerifier(self.secret).is_valid_request(body, dict(headers)):
            raise Rejected("X-Slack-Signature does not verify")
        envelope = orjson.loads(body)
        missing = [k for k in ENVELOPE if k not in envelope]
        if missing or envelope["type"] != "event_callback":
            raise Rejected(f"not an event_callback envelope: missing {missing}")
        event = envelope["event"]
        etype = event.get("type")
        if etype not in FIELDS or any(k not in event for k in FIELDS[etype]):
            raise Rejected(f"event {etype}: {FIELDS.get(etype)} expected, got {sorted(event)}")
        if etype == "message" and event.get("thread_ts") == event["ts"]:
            raise Rejected("a reply with its parent's ts")
        return str(envelope["event_id"]), event_type(envelope)
