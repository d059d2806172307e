"""--duplicate-rate and --reorder-rate against the reference target, both
profiles: deliberate duplicates and early events are counted by what came back
(a 5xx is an error, issue 19), and the counts agree with the target's /stats."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from engine.metrics.stats import DELIVERY_KEYS, Snapshot
from tests.fixed_walker import planner, words
from tests.helpers import get_json, target_process
from tests.misbehaving import Action, Peer, Request, ScriptedServer, response


def _run(url: str, json_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            *(sys.executable, "-m", "tui.cli", "--no-ui", "--target", url, "--seed", "11"),
            *("--duration", "1500ms", "--vus", "2", "--think", "0", "--json", str(json_path)),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env={k: v for k, v in os.environ.items() if k != "WEBHOOKLOAD_SECRET"},
    )


def _sum(d: dict[str, Any]) -> int:
    return sum(d.values())


@pytest.mark.parametrize("profile", ["strict", "public"])
def test_duplicates_and_early_events_are_counted_as_the_target_saw_them(
    profile: str, tmp_path: Path
) -> None:
    out = tmp_path / "s.json"
    with target_process("--profile", profile, "--error-delay", "0") as url:
        res = _run(url, out, "--duplicate-rate", "0.3", "--reorder-rate", "0.3")
        stats = get_json(url + "/stats")
    assert res.returncode == 0, res.stderr
    doc = orjson.loads(out.read_bytes())
    d = doc["delivery"]
    cut = doc["cancelled_at_deadline"]
    assert set(d) == set(DELIVERY_KEYS)
    # a deliberate duplicate or early event is an error on a 5xx only (issue 19):
    # the strict profile answers none, the public one 500 to some (as the service)
    assert d["duplicates_sent"] > 0 and d["early_sent"] > 0, d
    faults_5xx = d["duplicates_5xx"] + d["early_5xx"]
    assert doc["requests"]["errors"] == faults_5xx, doc["sample_failures"]
    assert doc["errors_by_kind"]["http_5xx"] == faults_5xx
    assert (faults_5xx == 0) == (profile == "strict"), d
    parts = ("duplicates_rejected", "duplicates_accepted", "duplicates_failed")
    assert sum(d[k] for k in parts) == d["duplicates_sent"]
    assert d["early_refused"] + d["early_accepted"] + d["early_failed"] == d["early_sent"]
    if profile == "strict":  # 409 for a replay, 404 for what does not exist yet
        assert d["duplicates_rejected"] == d["duplicates_sent"]
        assert d["early_refused"] == d["early_sent"]
    else:  # the public service (measured, issue 19): every replay is a 500 or a 422
        assert d["duplicates_rejected"] == d["duplicates_accepted"] == 0
        assert d["duplicates_5xx"] + d["duplicates_refused"] == d["duplicates_sent"]
        assert "this service does not accept a redelivered webhook" in res.stdout
        assert stats["received"]["orders"].get("500", 0) + stats["received"]["chargebacks"].get(
            "500", 0
        ) - faults_5xx in range(cut + 1), (stats, d)
    # the target counted what the tool did; only a request cut off at the
    # deadline may have reached it without its answer reaching the tool
    assert 0 <= _sum(stats["duplicates"]) - d["duplicates_sent"] <= cut, (stats, d, cut)
    assert 0 <= _sum(stats["early"]) - d["early_sent"] <= cut, (stats, d, cut)
    # in the ratio asked: about 0.3 of the accepted first deliveries
    first = doc["requests"]["total"] - d["duplicates_sent"] - d["early_sent"]
    assert first > 100, doc["requests"]
    assert 0.15 < d["duplicates_sent"] / first < 0.45, (d, first)
    assert any(line.startswith("Delivery: duplicates=") for line in res.stdout.splitlines())


def test_no_faults_no_delivery_line_and_zero_counters(tmp_path: Path) -> None:
    out = tmp_path / "s.json"
    with target_process() as url:
        res = _run(url, out)
    assert res.returncode == 0, res.stderr
    doc = orjson.loads(out.read_bytes())
    assert doc["delivery"] == dict.fromkeys(DELIVERY_KEYS, 0)
    assert "Delivery:" not in res.stdout


def test_fault_draws_leave_a_seeds_flows_unchanged() -> None:
    """A journey's flows' states and children are the same with faults as
    without: the fault choices are drawn from the same VU stream after a
    flow's states and children (the read-back's draw comes after them, so it
    may differ, and so may the journeys after this one)."""
    plainly = planner(dispute_ratio=0.5, read_ratio=0.1)
    faultily = planner(dispute_ratio=0.5, read_ratio=0.1, duplicate_rate=1.0, reorder_rate=1.0)
    for seed in range(50):  # one journey per stream: the next one's draws differ
        a, b = random.Random(f"{seed}:0"), random.Random(f"{seed}:0")
        plain, faulty = plainly.plan(a).root, faultily.plan(b).root
        assert words(faulty) == words(plain)
        assert [words(c) for c in faulty.children] == [words(c) for c in plain.children]
        steps = len(plain.steps)
        assert faulty.duplicates == (1 << steps) - 1 and faulty.early
        assert all(c.early for c in faulty.children)
        assert plain.duplicates == 0 and not plain.early


def test_delivery_counters_merge_across_deltas() -> None:
    a = Snapshot(delivery={"duplicates_sent": 2, "retries": 1})
    b = Snapshot(delivery={"duplicates_sent": 3})
    assert (a + b).delivery == {"duplicates_sent": 5, "retries": 1}
    assert (b + a).delivery == (a + b).delivery
    assert (a + Snapshot()).delivery == a.delivery


def test_retries_against_a_target_failing_a_share_of_requests(tmp_path: Path) -> None:
    """--fail-rate 0.3 answers 503 to 30% of webhooks: each is retried, the retries
    are counted apart, and the target received first attempts + retries."""
    out = tmp_path / "s.json"
    with target_process("--fail-rate", "0.3") as url:
        res = _run(url, out, "--retries", "4")
        stats = get_json(url + "/stats")
    assert res.returncode == 0, res.stderr
    doc = orjson.loads(out.read_bytes())
    d, req = doc["delivery"], doc["requests"]
    webhooks = req["orders"] + req["disputes"]
    assert d["retries"] > 0.1 * webhooks, (d, req)
    # only a delivery whose every retry got a 503 is an error
    assert req["errors"] == d["retries_exhausted"]
    received = sum(_sum(codes) for codes in stats["received"].values())
    cut = doc["cancelled_at_deadline"]
    assert 0 <= received - (webhooks + d["retries"]) <= cut, (stats["received"], d, req, cut)
    # every answer shows: the status codes one per request (its last), the
    # retried ones apart (a backoff cut by the deadline got its answer, no retry)
    assert _sum(doc["status_codes"]) == req["total"]
    retried = doc["delivery_answers"]["retried"]
    assert set(retried) == {"503"} and 0 <= retried["503"] - d["retries"] <= cut, (retried, d)
    assert f"Retried answers: 503={retried['503']}  (" in res.stdout, res.stdout


def test_a_retried_500_shows_with_the_status_codes(tmp_path: Path) -> None:
    """A server answering each webhook 500, then 202 to its retry: the status
    codes hold the 202s (one per request), the 500s show on the line next to
    them and in the JSON, each answer counted once."""
    seen: set[bytes] = set()

    def first_500(peer: Peer, req: Request) -> Action:
        again = req.body in seen  # a retry re-sends the same event, byte for byte
        seen.add(req.body)
        peer.send(response(202 if again else 500))
        return "keep"

    out = tmp_path / "s.json"
    srv = ScriptedServer(first_500)
    try:
        res = _run(srv.url, out, "--retries", "2", "--duration", "1s", "--vus", "1")
    finally:
        srv.stop()
    doc = orjson.loads(out.read_bytes())
    d, req, cut = doc["delivery"], doc["requests"], doc["cancelled_at_deadline"]
    assert req["errors"] == 0 and req["success"] == req["total"] > 0, res.stdout
    assert doc["status_codes"] == {"202": req["total"]}
    retried = doc["delivery_answers"]["retried"]
    assert 0 <= retried["500"] - d["retries"] <= cut and d["retries"] >= req["total"], (retried, d)
    sent = len(srv.log.requests)  # every answer, counted once (but one cut in flight)
    assert 0 <= sent - (req["total"] + retried["500"]) <= cut, (sent, req, retried)
    assert f"Status codes:  202={req['total']}\nRetried answers: 500={retried['500']}  (" in (
        res.stdout
    )


def test_no_retries_by_default_so_503s_are_errors(tmp_path: Path) -> None:
    out = tmp_path / "s.json"
    with target_process("--fail-rate", "0.3") as url:
        _run(url, out)
    doc = orjson.loads(out.read_bytes())
    assert doc["delivery"]["retries"] == 0 and doc["requests"]["errors"] > 0
