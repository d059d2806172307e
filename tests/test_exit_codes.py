"""A run in which nothing succeeded fails CI (exit 5) and shows what came back."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

from engine.config import build_config
from engine.domain.shape import INGEST_SHAPE
from engine.errors import (
    EXIT_INTERRUPTED,
    EXIT_NO_SUCCESS,
    EXIT_OK,
    EXIT_UNVERIFIED,
)
from engine.metrics.failures import DETAIL_BYTES, SAMPLE_FIRST, SAMPLE_MAX, SampleFailure
from engine.metrics.stats import ENDPOINTS, Snapshot, Stats, merge_all
from engine.outputs.jsonfile import write_json
from engine.outputs.verdict import exit_code_for
from engine.run.runner import RunResult
from engine.run.verify import Verification
from engine.run.verify_result import Tally
from tests.helpers import free_port, target_process

# endpoint ids by the ingest scenario's own endpoint names (engine/domain/shape.py)
ORDER_EP, DISPUTE_EP, READ_EP = map(INGEST_SHAPE.endpoint_index, ("orders", "disputes", "reads"))


def test_a_run_where_every_request_is_rejected_exits_5_and_shows_samples(tmp_path: Path) -> None:
    """The plan's field names against the ingest contract: every request is a 400.
    It used to exit 0 with ``Errors: 63680 (100.00%)``."""
    out = tmp_path / "s.json"
    with target_process() as url:
        res = subprocess.run(
            [
                *(sys.executable, "-m", "tui.cli", "--no-ui", "--target", url),
                *("--contract", "plan", "--duration", "700ms", "--vus", "2", "--json", str(out)),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
    assert res.returncode == EXIT_NO_SUCCESS == 5, res.stderr
    lines = res.stdout.splitlines()
    said = [line for line in lines if line.startswith("No request succeeded")]
    assert len(said) == 1, res.stdout
    assert "Sample failures:" in lines
    assert any(line.startswith("  orders 400") for line in lines), res.stdout
    doc = json.loads(out.read_text())
    samples = doc["sample_failures"]
    assert samples and all(
        s["endpoint"] == "orders" and s["status"] == 400 and s["kind"] == "http_4xx"
        for s in samples
    )
    assert set(samples[0]) == {"endpoint", "status", "kind", "detail", "correlation_id"}
    # the webhook's X-Correlation-ID, to find it in the service's logs
    assert all(len(s["correlation_id"]) == 36 for s in samples), samples
    # the detail is what the service said: the first bytes of its 400 body
    assert '"message"' in samples[0]["detail"], samples


def test_help_documents_exit_code_5() -> None:
    res = subprocess.run(
        [sys.executable, "-m", "tui.cli", "--help"], capture_output=True, text=True, timeout=60
    )
    assert "  5    no request succeeded" in res.stdout
    assert "When several apply: 130, then 99, then 5, then 4." in res.stdout


def _result(total: Snapshot, *, stopped: bool = False, verified: bool | None = None) -> RunResult:
    v = None
    if verified is not None:
        orders = Tally(5, 5 if verified else 0)
        v = Verification("http://127.0.0.1:1", (("orders", orders), ("disputes", Tally())), 1.0)
    return RunResult(build_config({}), "http://127.0.0.1:1", total, 1.0, stopped, v)


def test_exit_code_precedence() -> None:
    ok, none_ok = (
        Snapshot(success=3, requests=(3, 0, 0), endpoint_names=ENDPOINTS),
        Snapshot(errors=3, requests=(3, 0, 0), endpoint_names=ENDPOINTS),
    )
    assert exit_code_for(_result(ok)) == EXIT_OK
    assert exit_code_for(_result(none_ok)) == EXIT_NO_SUCCESS
    assert exit_code_for(_result(Snapshot(cancelled=2))) == EXIT_NO_SUCCESS  # nothing answered
    assert exit_code_for(_result(none_ok, stopped=True)) == EXIT_INTERRUPTED
    assert exit_code_for(_result(ok, verified=False)) == EXIT_UNVERIFIED
    assert exit_code_for(_result(none_ok, verified=False)) == EXIT_NO_SUCCESS


def test_failures_are_sampled_boundedly_and_travel_in_deltas() -> None:
    """The TUI gets results from a worker process as pickled deltas: the sample
    must cross that boundary and merge to the run's sample."""
    stats = Stats()
    deltas = []
    for i in range(1000):
        stats.record_response(ORDER_EP, 400, 100, b'{"message": "cannot bind"}' + b"x" * 300)
        stats.record_error(DISPUTE_EP, "connect", f"refused #{i}")
        if i == 2:
            stats.record_response(READ_EP, 503, 100, b"busy")
        if i % 100 == 99:
            deltas.append(pickle.loads(pickle.dumps(stats.take(i / 100))))
    total = merge_all(deltas)
    assert total.errors == 2001
    samples = total.sample_failures
    assert SAMPLE_FIRST <= len(samples) <= SAMPLE_MAX
    assert samples[0].endpoint == "orders" and samples[0].status == 400
    assert samples[0].detail.startswith('{"message": "cannot bind"}')
    assert len(samples[0].detail) == DETAIL_BYTES
    assert samples[1].endpoint == "disputes" and samples[1].kind == "connect"
    assert samples[1].status is None and samples[1].detail == "refused #0"
    # the first of each (endpoint, status or kind) is there, even after the first few
    assert {(f.endpoint, f.status or f.kind) for f in samples} == {
        ("orders", 400),
        ("disputes", "connect"),
        ("reads", 503),
    }
    # identical failures are kept once
    assert len(set(samples)) == len(samples)
    # later deltas carry nothing new: the sample spans the run
    assert deltas[-1].sample_failures == ()


def test_merging_keeps_a_bounded_sample() -> None:
    """Shards or windows merge under the same rule: never more than the bound."""
    many = [
        Snapshot(
            failures=tuple(
                SampleFailure("orders", "http_4xx", 400 + 4 * i + j, f"{i}-{j}") for j in range(4)
            )
        )
        for i in range(25)
    ]
    total = merge_all(many)
    assert len(total.sample_failures) == SAMPLE_MAX
    assert [f.detail for f in total.sample_failures[:5]] == ["0-0", "0-1", "0-2", "0-3", "1-0"]


def test_a_json_summary_that_cannot_be_written_after_the_run_is_one_line_exit_1(
    tmp_path: Path,
) -> None:
    """/proc passes the up-front checks (a directory, writable by root) but takes
    no new file: the run's summary is still printed, then one line, exit 1."""
    res = subprocess.run(
        [
            *(sys.executable, "-m", "tui.cli", "--no-ui", "--target", "builtin"),
            *("--duration", "500ms", "--vus", "1", "--json", "/proc/webhookload.json"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert "========== SUMMARY ==========" in res.stdout
    assert "Traceback" not in res.stderr, res.stderr
    assert res.returncode == 1, res.stderr
    assert "--json could not be written to '/proc/webhookload.json'" in res.stderr


def test_the_json_summary_is_readable_by_others(tmp_path: Path) -> None:
    """A CI artifact step may run as another user: not a temporary file's 0600."""
    out = tmp_path / "s.json"
    write_json(str(out), {"ok": True})
    assert out.stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_an_unreachable_read_api_is_refused_before_any_load() -> None:
    """--verify reads through --read-api after the run: a typo there used to cost
    the whole run first, then exit 4; now it is checked with the target."""
    res = subprocess.run(
        [
            *(sys.executable, "-m", "tui.cli", "--no-ui", "--target", "builtin"),
            *("--duration", "30s", "--verify", "5"),
            *("--read-api", f"http://127.0.0.1:{free_port()}"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert res.returncode == 3, res.stderr
    assert "cannot reach the read API (--read-api) at http://127.0.0.1:" in res.stderr
    assert "SUMMARY" not in res.stdout  # no load was sent
