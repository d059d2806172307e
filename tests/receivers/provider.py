"""A loopback webhook receiver shared by the built-in providers' tests.

Each provider's test gives it one function, written from that provider's
documentation and using only the provider's own library: ``check(body,
headers, url)`` verifies the signature and parses the payload, returning
the delivery's id (what the provider says to deduplicate on) and its event
type, or raising :class:`Reject` with the reason. The receiver does what the
providers tell an endpoint to do: answer 2xx, expect duplicates (the same id
again: counted, answered 200) and any order. To exercise ``--retries`` it
answers 500 to the first delivery of every ``fail_every``-th new event, as a
receiver that is briefly down would; the retry that follows is accepted.
Only events of ``fail_types`` are failed: a flow's first event, which a run
retries (an event sent early, before it, is a fault delivery and is never
retried: a 500 to it would be an error, rightly).

A request that fails a check gets a 400 and its reason is kept, so a test can
say exactly what was wrong. Served by ``http.server`` on 127.0.0.1 through
tests.helpers.serving.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson

from engine.domain.signing import make_signer
from engine.scenario.compiler import compile_scenario
from engine.scenario.loader import load_scenario
from tests.helpers import serving

Check = Callable[[bytes, Mapping[str, str], str], tuple[str, str]]
"""``check(body, headers, url) -> (delivery id, event type)``; raises Reject."""


class Reject(Exception):
    """What is wrong with a delivery, in the provider's terms."""


@dataclass
class Receiver:
    """Counts first deliveries by event type; keeps each rejection's reason."""

    check: Check
    fail_every: int = 0  # 0: never answer 500
    fail_types: frozenset[str] = frozenset()  # the event types that may get a 500 first
    accepted: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0
    failed_first: int = 0  # 500s answered on purpose
    rejected: list[str] = field(default_factory=list)
    url: str = ""  # the base URL once serving
    _seen: set[str] = field(default_factory=set)
    _failed: set[str] = field(default_factory=set)
    _new: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def receive(self, body: bytes, headers: Mapping[str, str], path: str) -> tuple[int, bytes]:
        """One request: its status and answer body."""
        try:
            delivery, etype = self.check(body, headers, self.url + path)
        except Reject as exc:
            with self._lock:
                self.rejected.append(str(exc))
            return 400, orjson.dumps({"error": str(exc)[:200]})
        with self._lock:
            if delivery in self._seen:
                self.duplicates += 1
                return 200, b"{}"
            if self.fail_every and etype in self.fail_types and delivery not in self._failed:
                self._new += 1
                if self._new % self.fail_every == 0:
                    self._failed.add(delivery)
                    self.failed_first += 1
                    return 500, b'{"error":"briefly down"}'
            self._seen.add(delivery)
            self.accepted[etype] += 1
        return 200, b"{}"


def each(*checks: Check) -> Check:
    """A check that passes only when every one of ``checks`` passes: a receiver
    holding only the old secret and one holding only the new one, at once."""

    def all_of(body: bytes, headers: Mapping[str, str], url: str) -> tuple[str, str]:
        results = [c(body, headers, url) for c in checks]
        return results[-1]

    return all_of


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status, answer = receiver.receive(body, _Headers(self.headers.items()), self.path)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


class _Headers(dict[str, str]):
    """Request headers, looked up without case as HTTP names are."""

    def __init__(self, items: Any) -> None:
        super().__init__((k.lower(), v) for k, v in items)

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())


@contextmanager
def running(receiver: Receiver) -> Iterator[str]:
    """The receiver on a free loopback port for the block; its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    with serving(server):
        receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
        yield receiver.url


def one_signed(scenario: str, secret: str, url: str) -> tuple[bytes, dict[str, str]]:
    """A first event of the built-in ``scenario``, signed as a run signs it
    (its file's scheme) with ``secret``: body and headers, for a wrong-secret check."""
    return next(every_state_signed(scenario, secret, url))[2:]


def every_state_signed(
    scenario: str, secret: str, url: str
) -> Iterator[tuple[str, str, bytes, dict[str, str]]]:
    """One event of every state of every flow of the built-in ``scenario``
    (root flows first, a child with its parent's variables), signed as a run
    signs it: ``(flow, state, body, headers)``. Whatever a run happens to
    draw, each state's payload is then checked at least once."""
    import random
    import time

    compiled = compile_scenario(load_scenario(scenario))
    sign = compiled.scenario.spec.scenario.sign
    assert sign is not None
    signer = make_signer(sign, secret)
    rng = random.Random(1)
    parents = compiled.scenario.parsed.parents
    drawn: dict[str, dict[str, object]] = {}
    for flow in sorted(compiled.flows, key=lambda f: f.root is None):
        parent = drawn[parents[flow.name][0]] if parents[flow.name] else None
        v = drawn[flow.name] = flow.start(parent, rng)
        for state in flow.states:
            if state.build is None:
                continue
            event = state.build(v, parent, rng)
            headers = dict(event.headers)
            headers.update(signer.headers(event.body, event.event_id, int(time.time()), url))
            yield flow.name, state.name, event.body, headers


def run_against(receiver: Receiver, scenario: str, secret: str, *flags: str) -> dict[str, Any]:
    """A 2 s headless run of the built-in ``scenario`` signed with ``secret``
    (its file's scheme) against ``receiver``, with duplicates, reordering and
    retries; asserts what every provider's run must show (0 rejected, 0 errors,
    each fault sent, every 500 retried) and returns the JSON summary."""
    import os
    import subprocess
    import sys
    import tempfile

    sign = load_scenario(scenario).spec.scenario.sign
    assert sign is not None
    with tempfile.TemporaryDirectory() as tmp, running(receiver) as url:
        out = f"{tmp}/s.json"
        res = subprocess.run(
            [
                *(sys.executable, "-m", "tui.cli", "--no-ui", "--seed", "5", "--think", "0"),
                *("--duration", "2s", "--vus", "3", "--json", out, "--retries", "2"),
                *("--target", url, "--scenario", scenario, "--sign", sign),
                *("--duplicate-rate", "0.1", "--reorder-rate", "0.1", *flags),
            ],
            capture_output=True,
            text=True,
            timeout=90,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "WEBHOOKLOAD_SECRET": secret},
        )
        assert res.returncode == 0, res.stderr + res.stdout
        with open(out, "rb") as f:
            doc: dict[str, Any] = orjson.loads(f.read())
    assert receiver.rejected == [], receiver.rejected[:3]
    req, d, cut = doc["requests"], doc["delivery"], doc["cancelled_at_deadline"]
    assert req["errors"] == 0 and req["total"] > 30, doc["sample_failures"]
    assert d["duplicates_sent"] > 0 and d["early_sent"] > 0, d
    assert receiver.failed_first > 0 and d["retries"] >= receiver.failed_first - cut, d
    assert d["retries_exhausted"] == 0, d
    received = sum(receiver.accepted.values()) + receiver.duplicates + receiver.failed_first
    assert 0 <= received - (req["total"] + d["retries"]) <= cut
    assert 0 <= receiver.duplicates - d["duplicates_sent"] <= cut  # an early one sent again: too
    return doc
