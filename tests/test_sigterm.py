"""SIGTERM (CI cancelling a job, ``timeout``, ``docker stop``, ``kill``) stops a
``--no-ui`` run as Ctrl+C does: the summary and ``--json`` still come; exit 143."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest

from tests.helpers import get_json, target_process
from tests.test_interrupts import CMD, _mapped, _wait_for, headless

VUS = 2


def _received(url: str) -> int:
    return int(get_json(f"{url}/stats")["received_total"])


@pytest.mark.parametrize("workers", ["1", "2"])
def test_sigterm_mid_run_prints_the_summary_writes_the_json_and_exits_143(
    tmp_path: Path, workers: str
) -> None:
    """Sent to the program alone, as ``kill`` and ``docker stop`` do (shards live
    in sessions of their own: the coordinator must stop them). Once the target
    has received more requests than there are VUs, some VU surely read an
    answer (each sends its next request only then), so the run counted one."""
    out = tmp_path / "s.json"
    with target_process() as url:
        proc = headless(
            *("--target", url, "--vus", str(VUS), "--duration", "60s"),
            *("--workers", workers, "--json", str(out)),
        )
        try:
            _wait_for(lambda: _received(url) > 5 * VUS, proc)
            assert proc.poll() is None, proc.communicate()
            proc.send_signal(signal.SIGTERM)
            stdout, stderr = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == 143, (stdout, stderr)
    assert "SUMMARY" in stdout and "Stopped early at" in stdout, stdout
    assert "Terminated by SIGTERM (exit 143)" in stdout, stdout
    assert "Traceback" not in stderr, stderr
    doc = json.loads(out.read_text())
    assert doc["requests"]["total"] > 0 and doc["stopped_early"] is True
    assert doc["cancelled_at"] == "stop"


@pytest.mark.parametrize("workers", ["1", "2"])
def test_sigterm_during_verify_says_the_check_was_interrupted(tmp_path: Path, workers: str) -> None:
    """As Ctrl+C during --verify (tests/test_interrupts.py): the load ran its
    full time; queue mode with the plan's field names never applies an event."""
    out = tmp_path / "v.json"
    with target_process("--mode", "queue", "--lag", "20ms") as url:
        proc = headless(
            *("--target", url, "--contract", "plan", "--duration", "500ms"),
            *("--verify", "5", "--verify-wait", "60s", "--json", str(out)),
            *("--workers", workers),
        )
        assert proc.stderr is not None
        seen = []
        for line in proc.stderr:  # not a terminal: one plain line per phase
            seen.append(line)
            if line.startswith("verifying "):
                proc.send_signal(signal.SIGTERM)
                break
        stdout, stderr = proc.communicate(timeout=30)
    assert any(line.startswith("verifying ") for line in seen), seen
    assert proc.returncode == 143, (stdout, stderr)
    assert "--verify interrupted: not checked (the load ran its full 500ms)" in stdout
    assert "Terminated by SIGTERM (exit 143)" in stdout, stdout
    assert "Traceback" not in stderr
    doc = json.loads(out.read_text())
    assert doc["verify_interrupted"] is True and doc["requests"]["total"] > 0


def test_sigterm_before_the_run_exits_143_with_one_line() -> None:
    """While the engine is imported (orjson's library is mapped then): no
    silent death by the signal, no traceback."""
    proc = subprocess.Popen(
        [*CMD, "--no-ui", "--target", "builtin", "--duration", "20s"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(lambda: _mapped(proc.pid, "orjson"), proc)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 143, (stdout, stderr)
    assert "Traceback" not in stderr, stderr
    assert "webhookload-tui: terminated" in stderr or "Terminated by SIGTERM" in stdout, (
        stdout,
        stderr,
    )
