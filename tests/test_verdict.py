"""A verdict for CI: --threshold and --abort-on-fail end to end, exit code 99 and
its place among the others, and what the summary and the JSON say about them."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from engine.config import PARSERS, ConfigError, RunConfig, build_config
from engine.domain.shape import INGEST_SHAPE
from engine.domain.thresholds import ENDPOINT_NAMES
from engine.errors import (
    EXIT_INTERRUPTED,
    EXIT_NO_SUCCESS,
    EXIT_OK,
    EXIT_THRESHOLDS,
    EXIT_UNVERIFIED,
)
from engine.metrics.stats import ENDPOINT_ALIASES, ENDPOINTS, Snapshot, Stats
from engine.outputs.summary import result_json, result_lines
from engine.outputs.thresholds import Abort, AbortGuard, parse_threshold, parse_thresholds
from engine.outputs.verdict import exit_code_for, run_thresholds
from engine.run.runner import RunResult
from engine.run.verify import Verification
from engine.run.verify_result import Tally
from engine.shards.worker import config_json
from tests.helpers import target_process

# endpoint ids by the ingest scenario's own endpoint names (engine/domain/shape.py)
ORDER_EP, DISPUTE_EP = map(INGEST_SHAPE.endpoint_index, ("orders", "disputes"))

CMD = [sys.executable, "-m", "tui.cli", "--no-ui"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CMD, *args], capture_output=True, text=True, timeout=90, stdin=subprocess.DEVNULL
    )


def test_a_failed_threshold_exits_99_and_names_itself(tmp_path: Path) -> None:
    out = tmp_path / "s.json"
    with target_process() as url:
        res = run(
            *("--target", url, "--duration", "700ms", "--vus", "2", "--json", str(out)),
            *("--threshold", "p99<1ns", "--threshold", "errors < 100%"),
            *("--threshold", "p99{endpoint=chargebacks}<1ns"),
        )
    assert res.returncode == EXIT_THRESHOLDS == 99, res.stderr
    lines = res.stdout.splitlines()
    block = lines[lines.index("Thresholds:") :]
    assert block[1].split()[:2] == ["FAIL", "p99<1ns"] and "p99=" in block[1], block
    assert block[2].split()[:2] == ["pass", "errors<100%"], block
    assert block[3].split()[:2] == ["FAIL", "p99{endpoint=chargebacks}<1ns"], block
    assert "Endpoint" in res.stdout and any(ln.startswith("  orders ") for ln in lines)
    doc = json.loads(out.read_text())
    verdicts = [(t["threshold"], t["passed"]) for t in doc["thresholds"]]
    assert verdicts == [
        ("p99<1ns", False),
        ("errors<100%", True),
        ("p99{endpoint=chargebacks}<1ns", False),
    ]
    assert doc["thresholds"][0]["measured"] == doc["latency_ms"]["p99"]
    assert doc["config"]["thresholds"] == [t for t, _ in verdicts]
    assert doc["config"]["abort_on_fail"] is False
    assert doc["stopped_by"] is None and doc["abort"] is None
    eps = doc["endpoints"]
    assert set(eps) == set(ENDPOINTS)
    assert sum(e["requests"] for e in eps.values()) == doc["requests"]["total"]
    assert eps["orders"]["latency_ms"]["p50"] is not None
    assert sum(b["count"] for b in doc["latency_distribution"]) == doc["requests"]["total"]


def test_thresholds_that_hold_exit_0(tmp_path: Path) -> None:
    out = tmp_path / "s.json"
    with target_process() as url:
        res = run(
            *("--target", url, "--duration", "700ms", "--vus", "2", "--json", str(out)),
            "--threshold",
            "errors<100%, p99<1m",  # commas separate expressions too
        )
    assert res.returncode == EXIT_OK, res.stdout + res.stderr
    assert [t["passed"] for t in json.loads(out.read_text())["thresholds"]] == [True, True]
    assert "  pass  errors<100%" in res.stdout and "  pass  p99<1m" in res.stdout


def test_abort_on_fail_ends_a_30s_run_early_with_99(tmp_path: Path) -> None:
    out = tmp_path / "s.json"
    with target_process() as url:
        res = run(
            *("--target", url, "--duration", "30s", "--vus", "2", "--json", str(out)),
            *("--threshold", "p99<1ns", "--abort-on-fail"),
        )
    assert res.returncode == EXIT_THRESHOLDS, res.stderr
    said = [ln for ln in res.stdout.splitlines() if ln.startswith("Stopped by --abort-on-fail")]
    assert len(said) == 1 and said[0].endswith(": p99<1ns (p99 = " + said[0].split("= ")[1])
    assert "Stopped early" not in res.stdout  # not reported as if the user stopped it
    doc = json.loads(out.read_text())
    assert doc["stopped_early"] is True and doc["stopped_by"] == "thresholds"
    assert doc["duration_s"] < 30  # the run's own span: it ended at the abort
    assert doc["abort"]["at_s"] >= 5.0  # k6's delayAbortEval for percentiles
    assert [t["threshold"] for t in doc["abort"]["thresholds"]] == ["p99<1ns"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--threshold", "p99<fast"], "--threshold must be a duration above 0, like p99<250ms"),
        (["--threshold", "p98<1s"], "--threshold must be one of p50, p90, p95, p99, max"),
        (["--threshold", "errors<1%", "--threshold", "rate<5"], "a lower limit on the rate"),
        (["--threshold", "p99{endpoint=refunds}<1s"], "{endpoint=orders}, {endpoint=chargebacks}"),
        (["--abort-on-fail"], "--abort-on-fail must be used with at least one --threshold"),
    ],
)
def test_bad_thresholds_exit_2_with_one_line(args: list[str], message: str) -> None:
    res = run("--target", "http://127.0.0.1:1", *args)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], res.stderr
    assert res.stdout == ""


def test_the_config_keeps_thresholds_as_given_and_through_the_worker() -> None:
    cfg = build_config({"thresholds": ["p99 < 1s", "errors<1%"], "abort_on_fail": True})
    assert cfg.thresholds == ("p99<1s", "errors<1%") and cfg.abort_on_fail
    assert PARSERS["thresholds"]("p50<1s,rate>5") == ("p50<1s", "rate>5")
    # the TUI's engine process gets the config as JSON, where tuples are lists
    back = RunConfig(**orjson.loads(orjson.dumps(config_json(cfg))))
    assert back == cfg and isinstance(back.thresholds, tuple)
    with pytest.raises(ConfigError, match=r"^--threshold must be "):
        build_config({"thresholds": ["p99<1s", "nonsense"]})


def test_the_grammar_names_the_engines_endpoints() -> None:
    """The grammar (in engine.domain, below the metrics) spells endpoints itself."""
    assert set(ENDPOINT_NAMES) == set(ENDPOINT_ALIASES)
    for spelling, name in ENDPOINT_NAMES.items():
        assert ENDPOINTS[ENDPOINT_ALIASES[spelling]] == name


def _total(ok: int, errors: int = 0, ms: int = 10) -> Snapshot:
    st = Stats()
    for _ in range(ok):
        st.record_response(ORDER_EP, 202, ms * 1000)
    for _ in range(errors):
        st.record_response(DISPUTE_EP, 503, ms * 1000)
    return st.take(10.0)


def _result(
    total: Snapshot,
    thresholds: tuple[str, ...] = (),
    *,
    stopped: bool = False,
    verified: bool | None = None,
) -> RunResult:
    cfg = dataclasses.replace(build_config({}), thresholds=thresholds)
    v = None
    if verified is not None:
        orders = Tally(5, 5 if verified else 0)
        v = Verification("http://127.0.0.1:1", (("orders", orders), ("disputes", Tally())), 1.0)
    return RunResult(cfg, "http://127.0.0.1:1", total, 10.0, stopped, v)


def test_exit_code_precedence_with_thresholds() -> None:
    """130 (the user stopped it) > 99 (thresholds, an abort included) > 5 > 4 > 0."""
    ok, none_ok = _total(100), _total(0, errors=10)
    fails, holds = ("p99<1ms",), ("p99<1s",)
    abort = Abort(5.0, tuple(run_thresholds(_result(ok, fails))))
    assert exit_code_for(_result(ok, holds)) == EXIT_OK
    assert exit_code_for(_result(ok, fails)) == EXIT_THRESHOLDS
    assert exit_code_for(_result(ok, fails, stopped=True)) == EXIT_INTERRUPTED
    # an abort stops the run, but it is the thresholds' verdict, not an interrupt
    assert exit_code_for(_result(ok, fails, stopped=True), abort) == EXIT_THRESHOLDS
    # even when the whole run's numbers recovered after the abort
    assert exit_code_for(_result(ok, holds, stopped=True), abort) == EXIT_THRESHOLDS
    assert exit_code_for(_result(none_ok, ("errors<1%",))) == EXIT_THRESHOLDS
    assert exit_code_for(_result(none_ok, holds)) == EXIT_NO_SUCCESS  # 503s in 10ms hold
    nothing = Snapshot(cancelled=2)
    assert exit_code_for(_result(nothing, holds)) == EXIT_THRESHOLDS  # no data: no pass
    assert exit_code_for(_result(none_ok)) == EXIT_NO_SUCCESS
    assert exit_code_for(_result(ok, fails, verified=False)) == EXIT_THRESHOLDS
    assert exit_code_for(_result(ok, holds, verified=False)) == EXIT_UNVERIFIED


def test_summary_and_json_say_why_the_run_stopped() -> None:
    res = _result(_total(100), ("p99<1ms",), stopped=True)
    abort = Abort(5.0, tuple(run_thresholds(res)))
    user = result_lines(res)
    by_abort = result_lines(res, abort)
    assert any(ln.startswith("Stopped early at 10s") for ln in user)
    assert by_abort[-1] == "Stopped by --abort-on-fail at 5s: p99<1ms (p99 = 10.0ms)"
    assert not any(ln.startswith("Stopped early") for ln in by_abort)
    assert result_json(res)["stopped_by"] == "user"
    doc = result_json(res, abort)
    assert doc["stopped_by"] == "thresholds" and doc["abort"]["at_s"] == 5.0
    assert doc["abort"]["thresholds"][0]["measured"] == pytest.approx(10.0, rel=0.01)
    assert result_json(_result(_total(5)))["stopped_by"] is None
    assert result_json(_result(_total(5)))["thresholds"] == []


def test_the_guard_stops_once_and_records_what_failed() -> None:
    stops: list[int] = []
    guard = AbortGuard(parse_thresholds(["errors<10%"]), lambda: stops.append(1), delay_s=2)
    st = Stats()
    for i in range(8):  # every second: 10 successes, then from 3 s on 10 errors
        for _ in range(10):
            st.record_response(ORDER_EP, 202, 1000)
            if i >= 3:
                st.record_response(ORDER_EP, 500, 1000)
        guard.on_snapshot(st.take(i + 1.0))
    assert stops == [1]  # stopped once, though it kept failing
    assert guard.abort is not None and guard.abort.at_s == 4.0
    (failed,) = guard.abort.failed
    assert failed.name == "errors<10%" and failed.measured == pytest.approx(100 * 10 / 50)
    idle = AbortGuard([parse_threshold("errors<10%")], lambda: stops.append(2))
    idle.on_snapshot(
        Snapshot(start=0, end=1, requests=(5, 0, 0), endpoint_names=ENDPOINTS, success=5)
    )
    assert idle.abort is None and stops == [1]
