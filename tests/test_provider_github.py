"""``--scenario github`` end to end, judged by GitHub's Python SDK only.

The receiver (tests/receivers/provider.py) does what GitHub's docs tell an
endpoint to do, with ``githubkit``: ``webhooks.verify`` on
``X-Hub-Signature-256`` with the webhook's secret, then ``webhooks.parse``
of the body as the event ``X-GitHub-Event`` names, into githubkit's typed
model of that event and action (every field the model requires must be
there); deduplicate on ``X-GitHub-Delivery``. A 2 s run with duplicates,
reordering and retries (the receiver answers some 500s first) has 0
rejections and the receiver's counts agree with the run's.

``webhooks.parse(name, body)`` is ``TypeAdapter(Event).validate_json(body)``
with the event's ``Event`` union (githubkit_schemas' webhooks package); it
builds that adapter on every call (40-100 ms for a pull_request here), so the
receiver builds each once and validates with it: the same model, the same
validation. Building githubkit's models is the test's cost: ~7 s of CPU once
(pull_request's union alone ~5 s), before the 2 s run; no smaller githubkit
check is possible."""

from __future__ import annotations

import functools
import importlib
from collections.abc import Mapping
from typing import Any

from githubkit.webhooks import parse, verify
from pydantic import TypeAdapter

from tests.receivers.provider import Receiver, Reject, every_state_signed, one_signed, run_against

SECRET = "It's a Secret to Everybody"  # GitHub's docs' example secret

USER_AGENT_PREFIX = "GitHub-Hookshot/"
EVENTS = ("push", "pull_request", "issues")


@functools.cache
def _event_model(name: str) -> TypeAdapter[Any]:
    """What ``githubkit.webhooks.parse`` validates ``name``'s payload with, built once."""
    package = importlib.import_module(parse.__module__).__package__
    event: Any = importlib.import_module(f".{name}", package).Event
    return TypeAdapter(event)


def check(secret: str):  # type: ignore[no-untyped-def]
    def github(body: bytes, headers: Mapping[str, str], url: str) -> tuple[str, str]:
        signature = headers.get("X-Hub-Signature-256", "")
        if not signature.startswith("sha256=") or not verify(secret, body, signature):
            raise Reject(f"X-Hub-Signature-256 does not verify: {signature!r}")
        if not headers.get("User-Agent", "").startswith(USER_AGENT_PREFIX):
            raise Reject(f"User-Agent {headers.get('User-Agent')!r}")
        for name in ("X-GitHub-Hook-ID", "X-GitHub-Delivery", "X-GitHub-Event"):
            if not headers.get(name):
                raise Reject(f"no {name}")
        event = headers["X-GitHub-Event"]
        try:
            model = _event_model(event).validate_json(body)
        except Exception as exc:  # githubkit raises pydantic's errors, or its own
            raise Reject(f"githubkit cannot parse {event}: {str(exc)[:400]}") from None
        action = getattr(model, "action", None)
        merged = getattr(getattr(model, "pull_request", None), "merged", None)
        etype = f"{event}.{action}" if action else event
        return headers["X-GitHub-Delivery"], f"{etype}.merged" if merged else etype

    return github


def test_a_run_with_faults_and_retries_is_all_accepted_by_githubkit() -> None:
    for name in EVENTS:
        _event_model(name)  # githubkit's models, built before the run
    receiver = Receiver(check(SECRET), fail_every=5, fail_types=frozenset({"push"}))
    doc = run_against(receiver, "github", SECRET)
    got = receiver.accepted
    flows = doc["flows"]
    cut = doc["cancelled_at_deadline"] + doc["finished_in_grace"]
    push, pr, issues = flows["push"], flows["pull_request"], flows["issues"]
    assert 0 <= got["push"] - push["ended"]["pushed"] <= cut
    assert pr["started"] - pr["unfinished"] <= got["pull_request.opened"] <= pr["started"]
    assert 0 <= got["pull_request.closed.merged"] - pr["ended"]["merged"] <= cut
    assert 0 <= got["pull_request.closed"] - pr["ended"]["unmerged"] <= cut
    assert issues["started"] - issues["unfinished"] <= got["issues.opened"] <= issues["started"]
    assert 0 <= got["issues.closed"] - issues["ended"]["closed"] <= cut


def test_a_wrong_secret_is_rejected() -> None:
    body, headers = one_signed("github", "not the secret", "http://127.0.0.1/webhook")
    try:
        check(SECRET)(body, headers, "")
    except Reject as exc:
        assert "X-Hub-Signature-256" in str(exc)
    else:
        raise AssertionError("a wrong secret was accepted")
    right_body, right = one_signed("github", SECRET, "http://127.0.0.1/webhook")
    assert verify(SECRET, right_body, right["X-Hub-Signature-256"])
    assert type(parse(right["X-GitHub-Event"], right_body)).__name__.startswith("Webhook")


def test_every_states_payload_is_accepted() -> None:
    """Whatever a run draws: one event of each state, each a type the check knows."""
    url = "http://127.0.0.1:9/webhook"
    events = every_state_signed("github", SECRET, url)
    seen = {check(SECRET)(body, headers, url)[1] for _, _, body, headers in events}
    assert seen == {
        "push",
        "pull_request.opened",
        "pull_request.synchronize",
        "pull_request.closed.merged",
        "pull_request.closed",
        "issues.opened",
        "issues.closed",
    }
