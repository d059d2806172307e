"""What every provider's loopback receiver shares: an aiohttp endpoint that answers
the first few requests 500 (a receiver restarting: the sender must retry), then
verifies each request with the provider's own library (the subclass's ``check``),
deduplicates by the event's id, and counts what it accepted by event type; plus
``running()`` (the receiver on its own loop in a thread) and ``run_cli()`` (a
headless webhookload run against it). The counts are kept so a test can compare
them with webhookload's exactly.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

from engine.scenario.compiler import compile_scenario
from engine.scenario.loader import load_scenario
from engine.scenario.sample import sample_journey


class Rejected(Exception):
    """Why a request is refused (answered 400 and kept)."""


@dataclass
class Receiver:
    """Subclasses set ``path`` and implement ``check``; the rest is shared."""

    path: str = "/webhooks"
    # answer this many first deliveries of a root flow's first event (types in
    # fail_types) 500; the only ones webhookload retries are first deliveries (an
    # early or duplicate send that fails is counted, not retried), and with
    # --retries N at most N (one event may meet them all)
    fail_first: int = 0
    fail_types: frozenset[str] = frozenset()
    url: str = ""  # the URL it listens at, once running (Square signs it)
    posts: int = 0  # every request that came in
    failed: int = 0  # answered 500 on purpose
    accepted: Counter[str] = field(default_factory=Counter)  # first deliveries, by type
    duplicates: int = 0  # an event id seen before, answered 200 again
    rejected: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    sample: bytes = b""  # the first body it accepted, for checks after the run

    def identify(self, headers: Any, body: bytes) -> tuple[str, str]:
        """The event's ``(id, type)`` as the request says, before any check."""
        raise NotImplementedError

    def check(self, headers: Any, body: bytes) -> tuple[str, str]:
        """The event's ``(id, type)`` once the provider's library accepted it;
        raises ``Rejected`` with the reason otherwise."""
        raise NotImplementedError

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.posts += 1
        if self.failed < self.fail_first:
            event_id, event_type = self.identify(request.headers, body)
            if event_type in self.fail_types and event_id not in self.seen:
                self.failed += 1
                return web.json_response({"error": "restarting"}, status=500)
        try:
            event_id, event_type = self.check(request.headers, body)
        except Rejected as exc:
            self.rejected.append(str(exc))
            return web.json_response({"error": str(exc)[:200]}, status=400)
        if event_id in self.seen:  # every provider: "webhooks can be sent more than once"
            self.duplicates += 1
        else:
            self.seen.add(event_id)
            self.accepted[event_type] += 1
            self.sample = self.sample or body
        return web.json_response({"received": True})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post(self.path, self.handle)
        return app


@contextmanager
def running(receiver: Receiver) -> Iterator[str]:
    """The receiver on a free loopback port, on its own event loop in a thread;
    yields its base URL (and sets ``receiver.url`` to the endpoint's)."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    base: list[str] = []

    async def start() -> web.AppRunner:
        runner = web.AppRunner(receiver.app())
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        host, port = runner.addresses[0][:2]
        base.append(f"http://{host}:{port}")
        return runner

    def run() -> None:
        runner = loop.run_until_complete(start())
        ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(10)
    receiver.url = base[0] + receiver.path
    try:
        yield base[0]
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


def run_cli(
    target: str, scenario: str, secrets: list[str], out: Path, *args: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """``webhookload-tui --no-ui --scenario NAME`` against ``target``, each secret
    given as its own ``--secret``; the process and its ``--json`` document."""
    res = subprocess.run(
        [
            *(sys.executable, "-m", "tui.cli", "--no-ui", "--seed", "5", "--think", "0"),
            *("--target", target, "--scenario", scenario, "--json", str(out)),
            *(a for s in secrets for a in ("--secret", s)),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=90,
        stdin=subprocess.DEVNULL,
        env={k: v for k, v in os.environ.items() if k != "WEBHOOKLOAD_SECRET"},
    )
    doc = orjson.loads(out.read_bytes()) if out.exists() else {}
    return res, doc


FAULTS = (
    *("--duration", "1s", "--vus", "2", "--grace", "30s"),
    *("--duplicate-rate", "0.1", "--reorder-rate", "0.1", "--retries", "2"),
)
HURRIED = ("--retry-speed", "100000")  # the provider's retry schedule, hurried (issue 22)


def faulted_run(
    receiver: Receiver, scenario: str, secrets: list[str], out: Path, *, hurried: bool = True
) -> dict[str, Any]:
    """Every provider's run: 1 s signed with its own scheme, duplicates, reordering
    and retries (on its policy's schedule, hurried), --grace long enough that
    nothing is cut in flight; it must exit 0. Its JSON, for the counts."""
    with running(receiver) as url:
        extra = HURRIED if hurried else ()
        res, doc = run_cli(url, scenario, secrets, out, "--sign", scenario, *FAULTS, *extra)
    assert res.returncode == 0, res.stderr + res.stdout
    return doc


def assert_every_request_accepted(
    receiver: Receiver, scenario: str, secrets: list[str], out: Path
) -> None:
    """A short signed run with ``secrets`` (one signature each) against a receiver
    that holds only one of them: every request accepted."""
    with running(receiver) as url:
        args = ("--sign", scenario, "--duration", "300ms", "--vus", "2", "--grace", "30s")
        res, doc = run_cli(url, scenario, secrets, out, *args)
    assert res.returncode == 0, res.stderr + res.stdout
    assert receiver.rejected == [] and doc["requests"]["errors"] == 0
    assert receiver.posts == doc["requests"]["total"] > 10


def sent_by_type(doc: dict[str, Any], types: dict[str, tuple[str, str]]) -> dict[str, int]:
    """webhookload's own count of each event type's first deliveries, from its JSON:
    ``types`` maps an event type to ``(flow, state)``, where the state ``started``
    means the flow's initial event (its ``started``), a terminal state its ``ended``,
    any other its ``visited`` (the scenario names those in ``outcome_labels``)."""
    out = {}
    for etype, (name, state) in types.items():
        flow = doc["flows"][name]
        if state == "started":
            out[etype] = flow["started"]
        elif state in flow["ended"]:
            out[etype] = flow["ended"][state]
        elif state in flow["visited"]:
            out[etype] = flow["visited"][state]
        else:
            raise AssertionError(f"{name}.{state}: webhookload's JSON does not count it")
    return out


def assert_counts_agree(
    receiver: Receiver, doc: dict[str, Any], types: dict[str, tuple[str, str]]
) -> None:
    """A run with --grace long enough that nothing was cut: every request webhookload
    counted reached the receiver and was accepted, each first 500 was retried, and
    the receiver's counts are webhookload's."""
    req, d = doc["requests"], doc["delivery"]
    assert receiver.rejected == [], receiver.rejected[:3]
    assert req["errors"] == 0 and doc["cancelled_at_deadline"] == 0, doc["sample_failures"]
    assert d["retries"] == receiver.failed == receiver.fail_first > 0, (receiver.failed, d, req)
    assert d["retries_exhausted"] == 0
    assert receiver.posts == req["total"] + d["retries"]
    assert receiver.duplicates == d["duplicates_sent"] > 0 and d["early_sent"] > 0, d
    assert sum(receiver.accepted.values()) + receiver.duplicates == req["total"]
    # By type, within what a flow the deadline cut (``unfinished``) can leave: its
    # first event is counted by ``started``, which may be cut before the event went
    # (at most one fewer received per cut flow); a terminal event sent early
    # (--reorder-rate) is counted by ``ended`` only once the flow ends (at most one
    # more received). A middle step is ``visited`` once accepted, even if its
    # duplicate is cut, and a flow whose last event was accepted has ended.
    sent = sent_by_type(doc, types)
    for etype, (flow, state) in types.items():
        got, want = receiver.accepted[etype], sent[etype]
        cut = doc["flows"][flow]["unfinished"]
        low, high = (want - cut, want) if state == "started" else (want, want + cut)
        assert low <= got <= high, (etype, dict(receiver.accepted), sent)


def sample_bodies(scenario: str, journeys: int, target: str) -> list[tuple[str, bytes]]:
    """``(url, body)`` of every webhook of ``journeys`` sample journeys of a built-in
    scenario (engine/scenario/sample.py: every child flow taken), in order."""
    compiled = compile_scenario(load_scenario(scenario))
    out = []
    for seed in range(journeys):
        for r in sample_journey(compiled, random.Random(seed), target):
            assert r.kind == "webhook" and r.body is not None
            out.append((r.url, r.body))
    return out


def signed_samples(
    scenario: str, journeys: int, target: str, secret: str
) -> list[tuple[dict[str, str], bytes]]:
    """``(headers, body)`` of every webhook of ``journeys`` sample journeys of a
    built-in scenario, each with its own headers (a provider's per-event ones:
    ``X-GitHub-Event``, ``X-Shopify-Topic``) and signed now with ``secret`` by
    the file's scheme, as a run sends it."""
    import time

    from engine.domain.signing import make_signer

    compiled = compile_scenario(load_scenario(scenario))
    sign = compiled.scenario.spec.scenario.sign
    assert sign is not None
    signer = make_signer(sign, secret)
    out = []
    for seed in range(journeys):
        for i, r in enumerate(sample_journey(compiled, random.Random(seed), target)):
            assert r.kind == "webhook" and r.body is not None
            headers = dict(r.headers)
            headers.update(signer.headers(r.body, f"{seed}-{i}", int(time.time()), r.url))
            out.append((headers, r.body))
    return out
