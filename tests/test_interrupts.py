"""Ctrl+C at any moment of a headless run: exit 130, one clear line, no traceback."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

from tests.helpers import target_process

CMD = [sys.executable, "-m", "tui.cli"]


def test_ctrl_c_during_verify_says_the_check_was_interrupted(tmp_path: Path) -> None:
    """The load ran its full time: not "Stopped early", and no silent lack of a
    Verified line. Queue mode with the plan's field names never applies an
    event, so --verify waits its whole --verify-wait unless interrupted."""
    out = tmp_path / "v.json"
    with target_process("--mode", "queue", "--lag", "20ms") as url:
        proc = subprocess.Popen(
            [
                *CMD,
                "--no-ui",
                *("--target", url, "--contract", "plan", "--duration", "500ms"),
                *("--verify", "5", "--verify-wait", "60s", "--json", str(out)),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stderr is not None
        seen = []
        for line in proc.stderr:  # not a terminal: one plain line per phase
            seen.append(line)
            if line.startswith("verifying "):
                proc.send_signal(signal.SIGINT)
                break
        stdout, stderr = proc.communicate(timeout=30)
    assert any(line.startswith("verifying ") for line in seen), seen
    assert proc.returncode == 130, stderr
    assert "--verify interrupted: not checked (the load ran its full 500ms)" in stdout
    assert "Stopped early" not in stdout and "Cancelled at deadline:" in stdout, stdout
    assert "Traceback" not in stderr
    doc = json.loads(out.read_text())
    assert doc["verify_interrupted"] is True and doc["stopped_by"] == "user"
    assert doc["stopped_early"] is False and doc["cancelled_at"] == "deadline"
