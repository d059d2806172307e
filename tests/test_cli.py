"""The headless command through a real subprocess: flags, exit codes, summary, JSON."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine import errors
from tests.helpers import free_port, read_through, target_process

CMD = [sys.executable, "-m", "tui.cli"]

SUMMARY = re.compile(
    r"========== SUMMARY ==========\n"
    r"Duration:    (?P<duration>[\d.]+m?[\d.]*s)\n"
    r"Requests:    (?P<total>\d+) \((?P<rate>[\d.]+)/s\)\n"
    r"  Orders:    (?P<orders>\d+)\n"
    r"  Disputes:  (?P<disputes>\d+)\n"
    r"Success:     (?P<success>\d+)\n"
    r"Errors:      (?P<errors>\d+) \((?P<pct>[\d.]+)%\)\n"
    r"Latency:     p50=(?P<p50>\S+)  p95=(?P<p95>\S+)  p99=(?P<p99>\S+)\n"
    r"==============================\n"
)


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CMD, *args], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )


def test_help_documents_exit_codes() -> None:
    """The epilog's table lists exactly the codes of engine/errors.py, each
    with its meaning (read from the table's own rows, not anywhere in --help)."""
    res = run("--help")
    assert res.returncode == 0
    assert "--dispute-ratio" in res.stdout and "--no-ui" in res.stdout
    table = res.stdout.split("\nexit codes:\n", 1)[1].split("\n\n", 1)[0]
    rows = [re.fullmatch(r"  (\d+) +(\S.*)", line) for line in table.splitlines()]
    assert all(rows), table
    documented = {int(m[1]): m[2] for m in rows if m}
    meanings = {
        errors.EXIT_OK: "completed",
        errors.EXIT_FAILED: "could not be carried out",
        errors.EXIT_USAGE: "bad arguments",
        errors.EXIT_UNREACHABLE: "unreachable",
        errors.EXIT_UNVERIFIED: "--verify",
        errors.EXIT_NO_SUCCESS: "no request succeeded",
        errors.EXIT_SHARD_LOST: "a shard died mid-run",
        errors.EXIT_THRESHOLDS: "a --threshold failed, or --abort-on-fail ended the run",
        errors.EXIT_INTERRUPTED: "interrupted",
        errors.EXIT_TERMINATED: "terminated (SIGTERM",
    }
    defined = {v for k, v in vars(errors).items() if k.startswith("EXIT_")}
    assert set(meanings) == defined  # a new exit code needs a row here and in the epilog
    assert set(documented) == defined, documented
    for code, meaning in meanings.items():
        assert meaning in documented[code], (code, documented[code])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--vus", "-1"], "--vus must be a positive integer, got '-1'"),
        (["--duration", "-1s"], "--duration must be a duration like"),
        (["-think", "-5ms"], "--think must be a duration like"),
        (["-vus", "0"], "--vus must be a positive integer, got '0'"),
        (["--duration", "forever"], "--duration must be a duration like"),
        (["-dispute-ratio", "2"], "--dispute-ratio must be a number from 0 to 1, got '2'"),
        (["--target", "ftp://x"], "--target must be an http:// or https:// URL"),
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["--verify", "-5"], "--verify must be a whole number of 0 or more, got '-5'"),
        (["--verify-wait", "soon"], "--verify-wait must be a duration like 0, 5s or 1m"),
        (["--read-api", "builtin"], "--read-api must be an http:// or https:// URL like"),
        # a flag without the flag it needs is refused, never silently ignored
        (["--signature-header", "X"], "--signature-header must be used with --sign stripe"),
        (["--verify-wait", "5s"], "--verify-wait must be used with --verify N, got '5s'"),
        (["--stages", ""], "--stages must be stages like 30s:10"),
        (["--stages", " "], "--stages must be stages like 30s:10"),
        # two outputs in one file: the last written would replace the other
        (["--json", "same.out", "--report", "same.out"], "--report must be a different file"),
        (["--report", "t.out", "--timeline", "./t.out"], "--timeline must be a different file"),
        (["--json", "j.out", "--timeline", "j.out"], "from --json, got 'j.out'"),
    ],
)
def test_bad_flags_exit_2_with_one_line(args: list[str], message: str) -> None:
    res = run("--no-ui", *args)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], res.stderr
    assert res.stdout == ""


def test_bad_json_path_exits_2_before_any_load() -> None:
    res = run(
        "--no-ui",
        "--target",
        f"http://127.0.0.1:{free_port()}",
        "--json",
        "/nonexistent-dir/x.json",
    )
    assert res.returncode == 2
    assert "--json must be a path in an existing directory" in res.stderr


def test_unreachable_target_exits_3_fast() -> None:
    port = free_port()
    started = time.monotonic()
    res = run("--no-ui", "--target", f"http://127.0.0.1:{port}", "--duration", "30s")
    assert time.monotonic() - started < 10  # preflight, not a 30 s run
    assert res.returncode == 3
    assert f"http://127.0.0.1:{port}" in res.stderr and "--target builtin" in res.stderr
    # one line, and no "Starting load test" banner before it: nothing started
    assert len(res.stderr.splitlines()) == 1, res.stderr
    assert res.stderr.startswith("webhookload-tui: cannot reach target "), res.stderr
    assert res.stdout == "", res.stdout


def test_single_dash_run_prints_the_plan_summary_and_json(tmp_path: Path) -> None:
    out = tmp_path / "summary.json"
    with target_process() as url:
        res = run(
            "--no-ui",
            "-target",
            url,
            "-vus",
            "4",
            "-duration",
            "1500ms",
            "-dispute-ratio",
            "0.5",
            "--think",
            "0",
            "--json",
            str(out),
            "--seed",
            "7",
        )
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("Starting load test: 4 VUs, 1.5s duration\nTarget: " + url)
    m = SUMMARY.search(res.stdout)
    assert m, res.stdout
    assert int(m["total"]) == int(m["orders"]) + int(m["disputes"])
    assert int(m["success"]) == int(m["total"]) and m["errors"] == "0" and m["pct"] == "0.00"
    assert m["p50"] != "-"
    doc = json.loads(out.read_text())
    req = doc["requests"]
    assert req["total"] == int(m["total"]) == req["orders"] + req["disputes"] + req["reads"]
    assert set(doc["latency_ms"]) == {"p50", "p90", "p95", "p99", "max", "mean"}
    lat = doc["latency_ms"]
    assert 0 < lat["p50"] <= lat["p90"] <= lat["p95"] <= lat["p99"] <= lat["max"]
    assert doc["status_codes"] == {"202": req["total"]}
    assert set(doc["errors_by_kind"]) == {
        "connect",
        "timeout",
        "http_4xx",
        "http_5xx",
        "other",
        "oversized",
        "redirect",
    }
    assert "cancelled_at_deadline" in doc
    assert isinstance(doc["generator_saturated"], bool)
    assert set(doc["generator"]) >= {"loop_lag_p99_ms", "cpu_pct"}
    assert set(doc["scenarios"]) >= {
        "orders_started",
        "orders_success",
        "orders_failed",
        "disputes_opened",
        "disputes_updated",
        "disputes_won",
        "disputes_lost",
    }
    cfg = doc["config"]
    assert (cfg["vus"], cfg["duration"], cfg["dispute_ratio"], cfg["think"], cfg["seed"]) == (
        4,
        "1.5s",
        0.5,
        "0",
        7,
    )
    assert cfg["target"] == url and cfg["contract"] == "ingest" and cfg["client"] == "fast"


def test_verify_that_finds_nothing_applied_exits_4(tmp_path: Path) -> None:
    """Kafka mode's trap: every event gets 202, none is applied (the plan's
    field names are dead-lettered by the ingest consumer)."""
    out = tmp_path / "v.json"
    with target_process("--mode", "queue", "--lag", "20ms") as url:
        res = run(
            "--no-ui",
            *("--target", url, "--contract", "plan", "--duration", "700ms"),
            *("--verify", "5", "--verify-wait", "300ms", "--json", str(out)),
        )
    assert res.returncode == 4, res.stderr
    assert "Errors:      0 (0.00%)" in res.stdout
    assert "Verified: 0 of 5 sampled orders applied; after" in res.stdout
    v = json.loads(out.read_text())["verification"]
    assert (v["ok"], v["sampled"], v["applied"], v["missing"]) == (False, 5, 0, 5)


def test_run_with_nothing_completed_prints_zeros_and_dashes() -> None:
    """A target that accepts but never answers: no request completes."""
    script = (
        "import socket,time;s=socket.socket();s.bind(('127.0.0.1',0));s.listen(64);"
        "print(s.getsockname()[1],flush=True);time.sleep(60)"
    )
    srv = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert srv.stdout is not None
        port = srv.stdout.readline().strip()
        res = run(
            "--no-ui", "--target", f"http://127.0.0.1:{port}", "--duration", "1s", "--vus", "2"
        )
    finally:
        srv.kill()
        srv.wait()
        if srv.stdout:
            srv.stdout.close()
    assert res.returncode == 5, res.stderr  # no request succeeded
    m = SUMMARY.search(res.stdout)
    assert m, res.stdout
    assert (m["total"], m["errors"], m["pct"]) == ("0", "0", "0.00")
    assert (m["p50"], m["p95"], m["p99"]) == ("-", "-", "-")
    assert "nan" not in res.stdout.lower()
    assert "Cancelled at deadline: 2" in res.stdout


def test_ctrl_c_stops_prints_summary_and_exits_130() -> None:
    with target_process() as url:
        proc = subprocess.Popen(
            [*CMD, "--no-ui", "--target", url, "--duration", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        head = read_through(proc, "Seed: ")  # the banner's last line: the load starts
        time.sleep(1.0)  # requests complete (not a timing assertion)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    m = SUMMARY.search(head + out)
    assert m and int(m["total"]) > 0


def test_no_ui_never_imports_textual() -> None:
    code = (
        "import sys, importlib, pkgutil, engine, tui.cli, tui.headless\n"
        "for m in pkgutil.walk_packages(engine.__path__, 'engine.'):\n"
        "    importlib.import_module(m.name)\n"
        "import tui.cli\n"
        "tui.cli.main(['--no-ui', '--target', 'builtin', '--duration', '300ms'])\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "assert not bad, bad\n"
        "print('clean')\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env={**os.environ}
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().endswith("clean")


def test_a_reader_that_leaves_early_loses_neither_the_files_nor_the_exit_code(
    tmp_path: Path,
) -> None:
    """``... --json f --report r | head -1``: the pipe closes after the first
    line. The run wrote neither file and exited 141 (Python's BrokenPipeError at
    the summary), hiding a failed threshold's 99; now the rest goes to /dev/null."""
    doc, page = tmp_path / "run.json", tmp_path / "run.html"
    with target_process() as url:
        argv = [*CMD, "--no-ui", "--target", url, "--duration", "1s", "--vus", "2"]
        argv += ["--json", str(doc), "--report", str(page), "--threshold", "p99<1ns"]
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        assert proc.stdout is not None and proc.stderr is not None
        assert proc.stdout.readline().startswith(b"Starting load test")
        proc.stdout.close()  # as `head -1` does
        err = proc.stderr.read().decode()
        proc.stderr.close()
        code = proc.wait(timeout=60)
    assert code == errors.EXIT_THRESHOLDS, err
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    assert json.loads(doc.read_bytes())["requests"]["total"] > 0
    assert page.stat().st_size > 0


def test_a_listing_whose_reader_leaves_ends_quietly() -> None:
    """``scenarios | head -1``: Python printed two BrokenPipeError tracebacks."""
    code = "import sys; from tui.cli import main; sys.exit(main(['scenarios']))"
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=30) == 0, err
    assert err == ""


def test_the_tui_with_its_output_piped_says_to_add_no_ui() -> None:
    """``webhookload-tui --target builtin | tail -2`` wrote the screen's escape
    codes into the pipe and ran until killed; now one line and exit 2, at once."""
    from tui.cli import NOT_A_TERMINAL

    res = subprocess.run(
        [*CMD, "--target", "builtin", "--duration", "3s"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert res.returncode == errors.EXIT_USAGE, res.stderr
    assert res.stderr == f"webhookload-tui: {NOT_A_TERMINAL}\n"
    assert res.stdout == ""
