"""A shard killed mid-run (``--workers 2``): exit 6 with the partial summary,
and ``--json`` and ``--report`` written for it too, so CI has numbers to gate on."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from tests.helpers import get_json, target_process
from tests.test_interrupts import _wait_for, headless

VUS = 2


def _shard_pids(pid: int) -> list[int]:
    """The CLI's shard processes (``engine.shards.worker_main``), by pid."""
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
        children = [int(c) for t in tasks for c in (t / "children").read_text().split()]
    except OSError:  # gone already
        return []
    found = []
    for child in children:
        try:
            if b"engine.shards.worker_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                found.append(child)
        except OSError:
            continue
    return sorted(found)


def test_a_killed_shard_still_writes_the_json_and_report_of_the_partial_run(
    tmp_path: Path,
) -> None:
    """Killed once the target received more requests than there are VUs (both
    shards start at one common moment, and some VU surely read an answer); the
    other shard is stopped and still counted, as the summary shows."""
    out, report = tmp_path / "lost.json", tmp_path / "lost.html"
    with target_process() as url:
        proc = headless(
            *("--target", url, "--vus", str(VUS), "--duration", "60s", "--workers", "2"),
            *("--json", str(out), "--report", str(report)),
        )
        try:
            shards: list[int] = []

            def running() -> bool:
                shards[:] = _shard_pids(proc.pid)
                received = int(get_json(f"{url}/stats")["received_total"])
                return len(shards) == 2 and received > 5 * VUS

            _wait_for(running, proc)
            assert proc.poll() is None and len(shards) == 2, proc.communicate()
            os.kill(shards[1], signal.SIGKILL)
            stdout, stderr = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == 6, (stdout, stderr)
    assert "SUMMARY" in stdout and "killed by SIGKILL" in stderr, (stdout, stderr)
    assert "Traceback" not in stderr, stderr
    doc = json.loads(out.read_text())
    assert doc["requests"]["total"] > 0 and doc["stopped_early"] is True
    assert doc["stopped_by"] == "shard_lost"
    assert f"(pid {shards[1]})" in doc["error"] and "killed by SIGKILL" in doc["error"]
    assert report.stat().st_size > 0
