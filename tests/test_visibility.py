"""--visibility N (issue 19 §3): how long from an accepted webhook until the
read API shows it, against the reference target in queue mode (it answers
202 and applies each event ``--lag`` later), and read-backs that come before
that are "not yet visible", never errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from engine.scenario.visibility import POLL_S, shows
from tests.helpers import get_json, target_process


def _run(url: str, json_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], Any]:
    res = subprocess.run(
        [
            *(sys.executable, "-m", "tui.cli", "--no-ui", "--target", url, "--seed", "7"),
            *("--vus", "2", "--think", "0", "--json", str(json_path)),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    return res, orjson.loads(json_path.read_bytes())


@pytest.mark.parametrize(("lag", "lag_ms"), [("50ms", 50.0), ("500ms", 500.0)])
def test_visibility_measures_the_queue_lag_within_the_polling_interval(
    tmp_path: Path, lag: str, lag_ms: float
) -> None:
    with target_process("--mode", "queue", "--lag", lag) as url:
        res, doc = _run(url, tmp_path / "s.json", "--duration", "3s", "--visibility", "12")
        stats = get_json(url + "/stats")
    assert res.returncode == 0, res.stderr
    v, counts = doc["visibility_ms"], doc["visibility"]
    assert counts["followed"] == counts["visible"] == 12, counts
    assert counts["not_visible"] == counts["unfinished"] == 0
    assert counts["poll_interval_ms"] == POLL_S * 1000 == 10
    # never visible before the target applied it; at most a poll (plus the
    # loaded machine's slack) after; the target applied every event it took
    assert lag_ms - 5 <= v["p50"] <= lag_ms + counts["poll_interval_ms"] + 25, v
    assert v["max"] <= lag_ms + 200, v
    assert stats["dead_letters"] == 0
    # the polls are measuring, not load: no read was recorded as a request
    assert counts["polls"] >= 12 and doc["requests"]["reads"] == 0
    assert doc["requests"]["errors"] == 0
    line = next(x for x in res.stdout.splitlines() if x.startswith("Visibility:"))
    assert "12 of 12 followed orders readable; polled every 10ms" in line, line


@pytest.mark.parametrize("walker", [(), ("--scenario", "ingest")], ids=["contract", "scenario"])
def test_read_backs_before_the_queue_applied_are_not_yet_visible(
    tmp_path: Path, walker: tuple[str, ...]
) -> None:
    """--mode queue --lag 500ms: every read-back comes before its order is
    applied (404): counted as not yet visible, never an error; the same for a
    scenario file's read of its flow's own object (the FlowWalker)."""
    with target_process("--mode", "queue", "--lag", "500ms") as url:
        res, doc = _run(
            url, tmp_path / "s.json", "--duration", "1500ms", "--read-ratio", "1", *walker
        )
    assert res.returncode == 0, res.stderr
    reads = doc["endpoints"]["reads"]
    assert reads["requests"] > 0 and reads["errors"] == 0 == doc["requests"]["errors"]
    not_yet = doc["visibility"]["reads_not_yet_visible"]
    assert not_yet == reads["status_codes"].get("404", 0) > 0, (reads, doc["visibility"])
    assert doc["visibility_ms"] is None  # no --visibility asked
    assert f"Reads not yet visible: {not_yet} (a read-back" in res.stdout


def test_a_sync_target_is_visible_at_once(tmp_path: Path) -> None:
    with target_process() as url:
        res, doc = _run(url, tmp_path / "s.json", "--duration", "1s", "--visibility", "5")
    assert res.returncode == 0, res.stderr
    counts = doc["visibility"]
    assert counts["visible"] == counts["followed"] == 5
    assert counts["polls"] == 5  # each read at once showed the final status
    assert doc["visibility_ms"]["max"] < 50


def test_shows_reads_the_status_field() -> None:
    assert shows(b'{"order_id":"x","user_id":"y","status":"success","on_hold":false}', "success")
    assert shows(b'{"status": "failed"}', "failed")
    assert not shows(b'{"status":"updated"}', "success")
    assert not shows(b"", "success")


def test_visibility_and_accepted_latency_are_threshold_metrics(tmp_path: Path) -> None:
    """--mode queue --lag 200ms: visibility_p95<100ms fails, visibility_p95<1s
    passes; accepted_p99 judges the accepted answers; no endpoint filter."""
    from engine.config import ConfigError, build_config

    with target_process("--mode", "queue", "--lag", "200ms") as url:
        res, doc = _run(
            url,
            tmp_path / "s.json",
            *("--duration", "1500ms", "--visibility", "4"),
            *("--threshold", "visibility_p95<100ms", "--threshold", "visibility_p95<1s"),
            *("--threshold", "accepted_p99<1s"),
        )
    assert res.returncode == 99, res.stdout
    by_name = {t["threshold"]: t for t in doc["thresholds"]}
    slow, fine = by_name["visibility_p95<100ms"], by_name["visibility_p95<1s"]
    assert not slow["passed"] and fine["passed"]
    assert slow["measured"] == doc["visibility_ms"]["p95"] >= 195
    assert by_name["accepted_p99<1s"]["passed"]
    assert by_name["accepted_p99<1s"]["measured"] == doc["latency_accepted_ms"]["p99"]
    with pytest.raises(ConfigError) as err:
        build_config({"thresholds": ["visibility_p95{endpoint=orders}<1s"]})
    assert "without {endpoint=...}" in str(err.value)


def test_shards_split_the_orders_followed(tmp_path: Path) -> None:
    """--workers 2 --visibility 6: 3 per shard, 6 in the merged result."""
    with target_process("--mode", "queue", "--lag", "30ms") as url:
        res, doc = _run(
            url, tmp_path / "s.json", "--duration", "2s", "--visibility", "6", "--workers", "2"
        )
    assert res.returncode == 0, res.stderr
    counts = doc["visibility"]
    assert counts["asked"] == 6 and counts["followed"] == counts["visible"] == 6, counts
    assert doc["visibility_ms"]["p50"] >= 25


def test_the_report_shows_the_visibility(tmp_path: Path) -> None:
    from engine.outputs.html_report import render

    with target_process("--mode", "queue", "--lag", "40ms") as url:
        _, doc = _run(url, tmp_path / "s.json", "--duration", "1s", "--visibility", "3")
    page = render(doc, []).split("</script></head>", 1)[1]
    assert "<span>visible after p50</span>" in page
    assert "visible after" not in render({**doc, "visibility_ms": None}, [])


def test_the_lines_name_the_scenarios_first_flow() -> None:
    """Not "orders" for a scenario whose runs are payments (issue 17: outputs
    follow the run's flows); ingest's wording is unchanged."""
    from engine.config import RunConfig
    from engine.metrics.stats import Snapshot
    from engine.outputs.visibility import visibility_lines
    from engine.scenario.select import with_scenario

    snap = Snapshot(visibility_counts={"followed": 2, "visible": 2, "reads_not_yet_visible": 1})
    payments = with_scenario(RunConfig(scenario="payments"), {"scenario"}).shape
    text = "\n".join(visibility_lines(snap, 2, payments))
    assert "2 of 2 followed payments readable" in text
    assert "a read-back of an accepted payment answered 404" in text
    ingest = "\n".join(visibility_lines(snap, 2, RunConfig().shape))
    assert "followed orders readable" in ingest and "accepted order answered" in ingest
