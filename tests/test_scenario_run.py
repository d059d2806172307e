"""``--scenario``: a scenario file run end to end against loopback servers.

A webhook-only file that is not the payment manager (tests/data/repo_hooks.toml,
GitHub-like) against a counting server that answers 202 to a new delivery id
and 409 to one it has seen, with duplicates, reordering and two shards (the
file's TEXT travels to them): our counts are what the server received. And
``--scenario ingest`` against the reference target counts as ``--contract
ingest`` does.
"""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading
from collections import Counter
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.helpers import get_json, serving, target_process

DATA = Path(__file__).parent / "data"
REPO_HOOKS = DATA / "repo_hooks.toml"


class _Counting(http.server.BaseHTTPRequestHandler):
    """202 for a delivery id it has not seen, 409 for one it has (a strict
    receiver), counting every POST by path and every body's action/status."""

    protocol_version = "HTTP/1.1"
    server: _Server

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        delivery = self.headers.get("X-GitHub-Delivery", "")
        doc = orjson.loads(body)
        with self.server.lock:
            self.server.posts[self.path] += 1
            seen = delivery in self.server.seen
            self.server.seen.add(delivery)
            if seen:
                self.server.repeats[self.path] += 1
            else:
                self.server.firsts[f"{self.path} {doc.get('action', doc.get('status'))}"] += 1
        self.send_response(409 if seen else 202)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Counting)
        self.lock = threading.Lock()
        self.posts: Counter[str] = Counter()
        self.repeats: Counter[str] = Counter()
        self.firsts: Counter[str] = Counter()
        self.seen: set[str] = set()


def counting_server() -> AbstractContextManager[_Server]:
    return serving(_Server())


def _run(json_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            *(sys.executable, "-m", "tui.cli", "--no-ui", "--seed", "5"),
            *("--duration", "1500ms", "--think", "0", "--json", str(json_path)),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=90,
        stdin=subprocess.DEVNULL,
        env={k: v for k, v in os.environ.items() if k != "WEBHOOKLOAD_SECRET"},
    )


def _flows_add_up(doc: dict[str, Any]) -> None:
    for name, f in doc["flows"].items():
        ended = sum(f["ended"].values())
        assert f["started"] == ended + f["aborted"] + f["unfinished"], (name, f)


def test_a_webhook_file_with_faults_and_two_shards_counts_what_the_server_received(
    tmp_path: Path,
) -> None:
    out = tmp_path / "s.json"
    with counting_server() as server:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        res = _run(
            out,
            *("--target", url, "--scenario", str(REPO_HOOKS), "--vus", "4", "--workers", "2"),
            *("--duplicate-rate", "0.2", "--reorder-rate", "0.2"),
        )
    assert res.returncode == 0, res.stderr + res.stdout
    doc = orjson.loads(out.read_bytes())
    req, d, eps = doc["requests"], doc["delivery"], doc["endpoints"]
    assert list(eps) == ["github", "deploys", "reads"]
    assert req["errors"] == 0, doc["sample_failures"]
    cut = doc["cancelled_at_deadline"]
    # every request we counted reached the server; only one cut off at the
    # deadline may have reached it without its answer reaching us
    for name, path in (("github", "/hooks/github"), ("deploys", "/hooks/deploys")):
        ours = eps[name]["requests"]
        assert ours > 20, (name, eps)
        assert 0 <= server.posts[path] - ours <= cut, (name, server.posts, ours, cut)
    assert sum(server.posts.values()) - req["total"] <= cut
    # the faults happened in both shards' share and were judged by the file's rules:
    # a re-delivery is a 409 here (accept.duplicate), an early event a new id (202)
    assert d["duplicates_sent"] > 0 and d["early_sent"] > 0, d
    assert d["duplicates_failed"] == 0 and d["early_failed"] == 0, d
    assert d["early_accepted"] == d["early_sent"], d
    # an early event accepted is re-delivered in its turn: a duplicate too
    assert d["duplicates_rejected"] == d["duplicates_sent"], d
    repeats = sum(server.repeats.values())
    assert 0 <= repeats - d["duplicates_sent"] <= cut, (server.repeats, d)
    # the flows: every root and child flow ran, and each one's counts add up
    _flows_add_up(doc)
    flows = doc["flows"]
    assert list(flows) == ["pull_request", "deployment", "issue"]
    assert all(f["started"] > 0 for f in flows.values()), flows
    merged = flows["pull_request"]["ended"]["merged"]
    assert 0 < flows["deployment"]["started"] <= merged, flows
    # a state the file's outcome_labels name is counted as visited when accepted
    assert flows["pull_request"]["visited"]["synchronize"] > 0, flows
    # one accepted first delivery per visited state and terminal, as the server saw them
    closed_issues = flows["issue"]["ended"]["closed"]
    assert (
        0
        <= server.firsts["/hooks/github closed"]
        - closed_issues
        - flows["pull_request"]["ended"]["closed"]
        <= cut + flows["issue"]["unfinished"] + flows["pull_request"]["unfinished"]
    )
    assert doc["config"]["scenario"] == str(REPO_HOOKS) and doc["config"]["workers"] == 2
    assert "scenario_text" not in doc["config"]


@pytest.mark.parametrize("faults", [(), ("--duplicate-rate", "0.2", "--reorder-rate", "0.2")])
def test_scenario_ingest_counts_as_contract_ingest(tmp_path: Path, faults: tuple[str, ...]) -> None:
    """The same seed and settings through both walkers, against the reference
    target: the same endpoints, outcome names, 0 errors, the target's counts
    ours; and, both drawing uniformly among the same transitions, the same
    shares of outcomes (the draw order differs: engine/scenario/flows.py)."""
    docs: dict[str, dict[str, Any]] = {}
    for how in (("--contract", "ingest"), ("--scenario", "ingest")):
        out = tmp_path / f"{how[0][2:]}.json"
        with target_process("--error-delay", "0") as url:
            res = _run(out, "--target", url, "--vus", "3", *how, *faults)
            stats = get_json(url + "/stats")
        assert res.returncode == 0, res.stderr
        doc = orjson.loads(out.read_bytes())
        docs[how[0]] = doc
        req = doc["requests"]
        assert req["errors"] == 0, doc["sample_failures"]
        received = sum(sum(codes.values()) for codes in stats["received"].values())
        cut = doc["cancelled_at_deadline"]
        assert 0 <= received - (req["orders"] + req["disputes"]) <= cut, (stats, req, cut)
        _flows_add_up(doc)
    a, b = docs["--contract"], docs["--scenario"]
    assert list(a["endpoints"]) == list(b["endpoints"]) == ["orders", "disputes", "reads"]
    assert list(a["scenarios"]) == list(b["scenarios"])  # orders_started ... disputes_unfinished
    assert set(a["delivery"]) == set(b["delivery"])
    for doc in (a, b):
        sc = doc["scenarios"]
        done = sc["orders_success"] + sc["orders_failed"]
        assert done > 100, sc
        # a third of the created orders end at once, and success = failed in the long run
        assert 0.35 < sc["orders_success"] / done < 0.65, sc
        # a dispute per accepted success at --dispute-ratio 0.3 (the file's param)
        assert 0.1 < sc["disputes_opened"] / sc["orders_success"] < 0.5, sc
        assert sc["disputes_updated"] > 0, sc
        if faults:
            assert doc["delivery"]["duplicates_sent"] > 0 and doc["delivery"]["early_sent"] > 0


def test_a_bad_file_is_one_line_and_exit_2_before_any_load(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(REPO_HOOKS.read_text().replace("next = { closed = 1 }", "next = { closd = 1 }"))
    with counting_server() as server:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        res = _run(tmp_path / "s.json", "--target", url, "--scenario", str(bad))
        none = _run(tmp_path / "s.json", "--target", url, "--scenario", "nosuch")
        both = _run(
            tmp_path / "s.json", "--target", url, "--scenario", "ingest", "--contract", "plan"
        )
    assert server.posts == Counter()  # nothing was sent
    assert res.returncode == none.returncode == both.returncode == 2
    line = res.stderr.strip()
    assert "\n" not in line and f"{bad}:" in line, res.stderr
    assert "flows.issue.states.opened.next" in line and "'closd'" in line, line
    assert "no scenario file or built-in named 'nosuch'" in none.stderr, none.stderr
    assert "--scenario must be used without --contract" in both.stderr, both.stderr


def test_a_threshold_names_the_files_endpoints(tmp_path: Path) -> None:
    res = _run(
        tmp_path / "s.json",
        *("--target", "http://127.0.0.1:9", "--scenario", str(REPO_HOOKS)),
        *("--threshold", "p99{endpoint=deploy}<1s"),
    )
    assert res.returncode == 2
    assert "did you mean 'deploys'" in res.stderr, res.stderr


def test_verify_reads_back_a_scenario_ingest_runs_orders_and_disputes(tmp_path: Path) -> None:
    out = tmp_path / "s.json"
    with target_process("--error-delay", "0") as url:
        res = _run(out, "--target", url, "--scenario", "ingest", "--vus", "3", "--verify", "20")
    assert res.returncode == 0, res.stderr + res.stdout
    v = orjson.loads(out.read_bytes())["verification"]
    assert v["ok"] and v["sampled"] == v["applied"] == 20, v
    assert v["disputes"]["sampled"] == v["disputes"]["applied"] > 0, v
    assert v["flows"] == {"orders": v["flows"]["orders"], "disputes": v["disputes"]}, v
    assert v["flows"]["orders"]["sampled"] == v["sampled"], v


def test_verify_is_refused_for_a_file_without_a_read_back(tmp_path: Path) -> None:
    res = _run(
        tmp_path / "s.json",
        *("--target", "http://127.0.0.1:9", "--scenario", str(REPO_HOOKS), "--verify", "5"),
    )
    assert res.returncode == 2 and res.stderr.count("\n") == 1, res.stderr
    assert "--verify must be used with a scenario whose flows have a read-back" in res.stderr


def test_the_open_model_and_read_backs_run_a_scenario_file(tmp_path: Path) -> None:
    """--rate starts journeys of the file at their times; --read-ratio reads a
    finished root flow back through its read URL (and, with --read-mix api, the
    file's list URLs in turn)."""
    out = tmp_path / "s.json"
    with target_process("--error-delay", "0") as url:
        res = _run(
            out,
            *("--target", url, "--scenario", "ingest", "--rate", "150"),
            *("--read-ratio", "0.5", "--read-mix", "api"),
        )
    assert res.returncode == 0, res.stderr + res.stdout
    doc = orjson.loads(out.read_bytes())
    req = doc["requests"]
    assert req["errors"] == 0, doc["sample_failures"]
    assert req["reads"] > 20, req
    _flows_add_up(doc)
    started = doc["flows"]["order"]["started"]
    # one order per arrival (none dropped at this rate)
    assert doc["arrivals"]["started"] == started > 100, (doc["arrivals"], started)


def test_the_builtin_target_is_refused_for_a_scenario_it_does_not_serve(tmp_path: Path) -> None:
    """The builtin target reads any file, but this one's pull requests are known
    only by an int of 99,999 values (under 2^48): refused before any load, one line, exit 2."""
    res = _run(tmp_path / "s.json", "--target", "builtin", "--scenario", str(REPO_HOOKS))
    assert res.returncode == 2, res.stderr
    assert "repo_hooks.toml:20: flows.pull_request: the reference target cannot tell" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr
