"""--timeline and the compare subcommand through the real command (a subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from engine.errors import EXIT_OK, EXIT_REGRESSION, EXIT_USAGE
from engine.metrics.stats import ENDPOINTS, ERROR_KINDS
from engine.outputs.timeline import read_timeline
from tests.helpers import free_port

CMD = [sys.executable, "-m", "tui.cli"]


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CMD, *args], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )


def builtin_run(tmp_path: Path, *flags: str) -> dict[str, Any]:
    """A short --no-ui run against the builtin target; its --json document."""
    summary = tmp_path / "summary.json"
    res = run(
        "--no-ui",
        "--target",
        "builtin",
        "--vus",
        "4",
        "--duration",
        "2500ms",
        "--read-ratio",
        "0.3",
        "--seed",
        "3",
        "--json",
        str(summary),
        *flags,
    )
    assert res.returncode == 0, res.stderr
    doc: dict[str, Any] = json.loads(summary.read_text())
    return doc


def check_rows_add_up(rows: list[dict[str, Any]], doc: dict[str, Any]) -> None:
    def col(name: str) -> int:
        return sum(int(r[name]) for r in rows)

    req = doc["requests"]
    assert req["total"] > 0
    assert [r["t"] for r in rows] == list(range(len(rows)))  # one row a second, no holes
    assert col("requests") == req["total"]
    assert col("success") == req["success"]
    assert col("errors") == req["errors"]
    assert col("cancelled") == doc["cancelled_at_deadline"]
    for ep in ENDPOINTS:
        assert col(ep) == req[ep], ep
        assert col(f"{ep}_errors") == doc["endpoints"][ep]["errors"], ep
    for kind in ERROR_KINDS:
        assert col(f"errors_{kind}") == doc["errors_by_kind"][kind], kind
    classes = Counter[int]()
    for code, n in doc["status_codes"].items():
        classes[int(code) // 100] += n
    for c in range(1, 6):
        assert col(f"codes_{c}xx") == classes[c], c
    assert all(r["vus"] == 4 for r in rows)


def test_timeline_ndjson_adds_up_to_the_json_summary(tmp_path: Path) -> None:
    path = tmp_path / "timeline.ndjson"
    doc = builtin_run(tmp_path, "--timeline", str(path))
    rows = read_timeline(path)
    check_rows_add_up(rows, doc)
    codes = Counter[str]()
    for r in rows:
        codes.update(r["codes"])
    assert dict(codes) == doc["status_codes"]
    assert len(rows) >= 2  # a 2.5 s run: seconds 0, 1 and the partial 2


def test_timeline_csv_adds_up_to_the_json_summary(tmp_path: Path) -> None:
    path = tmp_path / "timeline.csv"
    doc = builtin_run(tmp_path, "--timeline", str(path))
    assert path.read_text().startswith("t,requests,success,errors,")
    check_rows_add_up(read_timeline(path), doc)


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--timeline", "/nonexistent-dir/t.ndjson", "--timeline must be a path in an existing"),
        ("--timeline", ".", "--timeline must be a file path, not a directory"),
        ("--report", "/nonexistent-dir/r.html", "--report must be a path in an existing"),
        ("--report", "report.txt", "--report must be a path ending in .html"),
        ("--report", "summary.json", "one HTML page; the summary as JSON is --json"),
        ("--metrics-addr", "localhost", "--metrics-addr must be HOST:PORT"),
    ],
)
def test_an_output_that_cannot_be_written_exits_2_before_any_load(
    flag: str, value: str, message: str
) -> None:
    target = f"http://127.0.0.1:{free_port()}"  # unreachable: a run would exit 3
    res = run("--no-ui", "--target", target, flag, value)
    assert res.returncode == EXIT_USAGE, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], res.stderr
    assert res.stdout == ""  # not even the banner


def _doc(p50: float, rate: float = 100.0) -> dict[str, Any]:
    return {
        "requests": {"total": 1000, "errors": 0, "per_second": rate},
        "latency_ms": {"p50": p50, "p95": p50 * 2, "p99": p50 * 3},
    }


def test_compare_subcommand_passes_an_equal_run_and_flags_a_regression(tmp_path: Path) -> None:
    base, same, slow = tmp_path / "base.json", tmp_path / "same.json", tmp_path / "slow.json"
    base.write_text(json.dumps(_doc(10.0)))
    same.write_text(json.dumps(_doc(10.0)))
    slow.write_text(json.dumps(_doc(13.0)))
    ok = run("compare", str(base), str(same), "--max-regression", "10%")
    assert ok.returncode == EXIT_OK, ok.stderr
    assert ok.stdout.splitlines()[0].split() == ["metric", "BASE", "NEW", "change"]
    assert ok.stdout.splitlines()[-1].startswith("verdict: OK")
    bad = run("compare", str(base), str(slow), "--max-regression", "10%")
    assert bad.returncode == EXIT_REGRESSION
    assert "all p50 (ms)" in bad.stdout and "REGRESSION" in bad.stdout
    assert run("compare", str(base), str(slow), "--max-regression", "40%").returncode == EXIT_OK


@pytest.mark.parametrize(
    "args",
    [
        ["missing.json", "base.json"],
        ["base.json"],
        ["base.json", "base.json", "--max-regression", "x"],
    ],
)
def test_compare_subcommand_bad_input_exits_2_with_one_line(
    tmp_path: Path, args: list[str]
) -> None:
    (tmp_path / "base.json").write_text(json.dumps(_doc(10.0)))
    res = subprocess.run(
        [*CMD, "compare", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
    )
    assert res.returncode == EXIT_USAGE
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert res.stderr.startswith("webhookload-tui compare: ")


def test_help_mentions_compare_and_the_output_flags() -> None:
    out = run("--help").stdout
    assert "webhookload-tui compare BASE.json NEW.json [--max-regression 10%]" in out
    for flag in ("--timeline PATH", "--report PATH.html", "--metrics-addr HOST:PORT"):
        assert flag in out, flag
    sub = run("compare", "--help")
    assert sub.returncode == 0 and "--max-regression" in sub.stdout
