"""A GitHub webhook endpoint written from GitHub's documentation, judged by
GitHub's Python SDK (PyPI ``githubkit``) only.

What GitHub's docs tell an endpoint to do ("Validating webhook deliveries",
"Webhook events and payloads"): verify ``X-Hub-Signature-256`` with the
webhook's secret (``githubkit.webhooks.verify``), read the event from
``X-GitHub-Event`` and the delivery from ``X-GitHub-Delivery`` (the same on a
redelivery: the idempotency key), answer 2xx within 10 s. On top of that, as a
typed integrator would: every payload validates into githubkit's model of its
event and action, the model ``githubkit.webhooks.parse`` validates with (every
field the model requires is there), and the delivery headers GitHub documents
are present.

``webhooks.parse(name, body)`` is ``TypeAdapter(Event).validate_json(body)``
with the event's ``Event`` union; it builds that adapter on every call (40-100
ms for a pull_request here), so this receiver builds each once (``models()``)
and validates with it: the same model, the same validation.
"""

from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass
from typing import Any

import orjson
from githubkit.webhooks import parse, verify
from pydantic import TypeAdapter, ValidationError

from tests.receivers.loopback import Receiver, Rejected

EVENTS = ("push", "pull_request", "issues")
HEADERS = ("X-GitHub-Delivery", "X-GitHub-Event", "X-GitHub-Hook-ID")


@functools.cache
def event_model(name: str) -> TypeAdapter[Any]:
    """What ``githubkit.webhooks.parse`` validates ``name``'s payload with, built once."""
    package = importlib.import_module(parse.__module__).__package__
    event: Any = importlib.import_module(f".{name}", package).Event
    return TypeAdapter(event)


def models() -> None:
    """githubkit's models of the scenario's events, built before a run (~7 s of
    CPU once: pull_request's union alone ~5 s)."""
    for name in EVENTS:
        event_model(name)


def event_type(event: str, payload: Any) -> str:
    """``pull_request.closed.merged``, ``issues.opened``, ``push``: what the
    receiver counts a delivery as."""
    action = payload.get("action") if isinstance(payload, dict) else None
    if not action:
        return event
    merged = action == "closed" and (payload.get("pull_request") or {}).get("merged")
    return f"{event}.{action}.merged" if merged else f"{event}.{action}"


@dataclass
class GithubReceiver(Receiver):
    path: str = "/webhook"
    secret: str = ""

    def identify(self, headers: Any, body: bytes) -> tuple[str, str]:
        event = str(headers.get("X-GitHub-Event"))
        return str(headers.get("X-GitHub-Delivery")), event_type(event, orjson.loads(body))

    def check(self, headers: Any, body: bytes) -> tuple[str, str]:
        signature = str(headers.get("X-Hub-Signature-256", ""))
        if not signature.startswith("sha256=") or not verify(self.secret, body, signature):
            raise Rejected(f"X-Hub-Signature-256 does not verify: {signature!r}")
        missing = [h for h in HEADERS if not headers.get(h)]
        if hasattr(headers, "getall") and len(headers.getall("User-Agent", [])) != 1:
            raise Rejected("User-Agent sent more than once")  # the transport's and the file's
        if missing or not str(headers.get("User-Agent", "")).startswith("GitHub-Hookshot/"):
            raise Rejected(f"GitHub's delivery headers: missing {missing}")
        event = str(headers["X-GitHub-Event"])
        if event not in EVENTS:
            raise Rejected(f"X-GitHub-Event {event!r} is not one this hook subscribed to")
        try:
            event_model(event).validate_json(body)
        except ValidationError as exc:
            raise Rejected(f"githubkit's {event} model refuses it: {str(exc)[:400]}") from None
        return str(headers["X-GitHub-Delivery"]), event_type(event, orjson.loads(body))
