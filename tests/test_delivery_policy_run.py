"""A scenario's ``[delivery]`` policy played end to end (issue 22), on loopback.

One run against a server that fails every other event three times (503) and
accepts its fourth attempt, and answers the rest at once but slowly: the
server sees the retries at the policy's schedule divided by
``--retry-speed`` (loose bounds: no tight timing), each retry with Slack's
retry headers and the same event id; the answers slower than the policy's
timeout are counted as the server made them; a threshold names the count.
About 8 s (a 1.5 s run in two shards, whose counts merge, the slow answers'
grace, the CLI's start): one run proves the schedule, the headers, the
counter, the JSON, the summary line and the threshold together.
"""

from __future__ import annotations

import http.server
import itertools
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import orjson

from tests.helpers import serving

SLOW_S = 0.8  # the slow answers: twice the file's timeout, so loopback noise cannot blur it
SCENARIO = """
[scenario]
name = "slack-like"
correlation_header = "X-Event-Id"

[webhooks.events]
path = "/slack/events"
headers = { "Content-Type" = "application/json" }

[flows.message]
root = 1.0
initial = "posted"

[flows.message.states.posted]
webhook = "events"
body = "event"

[templates.event]
type = "event_callback"
event_id = "{event_id}"

[delivery]
policy = "slack"
timeout = "400ms"
"""


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        eid = self.headers.get("X-Event-Id", "")
        with self.server.lock:
            seen = self.server.attempts.setdefault(eid, [])
            if not seen:
                self.server.order.append(eid)
            seen.append(
                (
                    time.monotonic(),
                    self.headers.get("X-Slack-Retry-Num"),
                    self.headers.get("X-Slack-Retry-Reason"),
                )
            )
            flaky = self.server.order.index(eid) % 2 == 0
            attempt = len(seen)
        if flaky and attempt <= 3:
            status = 503
        else:
            status = 200
            if not flaky:
                time.sleep(SLOW_S)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()
        if status == 200 and not flaky:
            with self.server.lock:
                self.server.slow += 1

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.attempts: dict[str, list[tuple[float, str | None, str | None]]] = {}
        self.order: list[str] = []
        self.slow = 0


def test_a_policy_retries_on_its_scaled_schedule_with_its_headers_and_counts_slow_answers(
    tmp_path: Path,
) -> None:
    scenario = tmp_path / "slack_like.toml"
    scenario.write_text(SCENARIO)
    out = tmp_path / "s.json"
    with serving(_Server()) as server:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        res = subprocess.run(
            [
                *(sys.executable, "-m", "tui.cli", "--no-ui", "--seed", "3"),
                *("--target", url, "--scenario", str(scenario), "--vus", "4", "--workers", "2"),
                *("--duration", "1500ms", "--think", "0", "--grace", "3s", "--json", str(out)),
                *("--retries", "3", "--retry-speed", "600"),
                *("--threshold", "provider_timeouts<1%", "--threshold", "provider_timeouts<1000"),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
            env={k: v for k, v in os.environ.items() if k != "WEBHOOKLOAD_SECRET"},
        )
        slow = server.slow
        attempts = dict(server.attempts)
        order = list(server.order)
    # the share threshold fails (half the events answer slowly), the count one passes
    assert res.returncode == 99, res.stderr + res.stdout
    # the start lines print the schedule and the scaled one: Slack's 0s, 1m, 5m at 600x
    assert "retries up to 3 as Slack does, after 0s, 1m0s, 5m0s" in res.stdout, res.stdout
    assert "played 600x faster: 0s, 100ms, 500ms" in res.stdout, res.stdout
    doc = orjson.loads(out.read_bytes())
    # the flaky events the run finished: four attempts, at 0, 100 ms and 500 ms
    # after the one before (plus the 503's round trip), the same id every time,
    # every retry with its number and the reason the one before failed
    done = [attempts[e] for i, e in enumerate(order) if i % 2 == 0 and len(attempts[e]) == 4]
    assert len(done) >= 2, attempts
    for tries in done:
        gaps = [b[0] - a[0] for a, b in itertools.pairwise(tries)]
        assert gaps[0] < 0.08, gaps  # "immediately"
        assert 0.09 <= gaps[1] < 0.4, gaps  # 1 min / 600
        assert 0.49 <= gaps[2] < 1.2, gaps  # 5 min / 600
        assert [(n, r) for _, n, r in tries] == [
            (None, None),
            ("1", "http_error"),
            ("2", "http_error"),
            ("3", "http_error"),
        ]
    # the slow answers (any status) are what the server slowed down, every one
    # timed; every answer the server gave was timed (the run's grace let the
    # last ones finish)
    p = doc["provider"]
    assert p["policy"] == "slack" and p["timeout_ms"] == 400.0, p
    assert slow >= 2 and p["slower_than_timeout"] == slow, (p, slow)
    assert p["answers_timed"] == sum(len(a) for a in attempts.values()), p
    assert doc["delivery"]["retries"] == sum(len(a) - 1 for a in attempts.values())
    pct = 100 * slow / p["answers_timed"]
    assert f"Provider timeout: {slow} answers ({pct:.1f}%) took longer than Slack's 400ms" in (
        res.stdout
    ), res.stdout
    verdicts = {t["threshold"]: (t["passed"], t["measured"]) for t in doc["thresholds"]}
    assert verdicts["provider_timeouts<1%"] == (False, round(pct, 3)), verdicts
    assert verdicts["provider_timeouts<1000"] == (True, float(slow)), verdicts
