"""Ctrl+C at any moment of a headless run: exit 130, one clear line, no traceback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.config import build_config
from tests.helpers import target_process
from tui.app import WebhookLoadApp

CMD = [sys.executable, "-m", "tui.cli"]


def headless(*args: str) -> subprocess.Popen[str]:
    """``webhookload-tui --no-ui ARGS`` with its output piped as text (signal it,
    then ``communicate``): the start of every signal test of a headless run."""
    return subprocess.Popen(
        [*CMD, "--no-ui", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("workers", ["1", "2"])
def test_ctrl_c_during_verify_says_the_check_was_interrupted(tmp_path: Path, workers: str) -> None:
    """The load ran its full time: not "Stopped early", and no silent lack of a
    Verified line. Queue mode with the plan's field names never applies an
    event, so --verify waits its whole --verify-wait unless interrupted."""
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


def _mapped(pid: int, needle: str) -> bool:
    try:
        return needle in Path(f"/proc/{pid}/maps").read_text()
    except OSError:  # gone already
        return False


def _has_child(pid: int) -> bool:
    try:
        tasks = Path(f"/proc/{pid}/task").iterdir()
        return any((t / "children").read_text().strip() for t in tasks)
    except OSError:
        return False


def _wait_for(predicate: Callable[[], bool], proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30  # a bound, not a timing assertion
    while not predicate() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)


@pytest.mark.parametrize("moment", ["importing", "target starting", "banner"])
def test_ctrl_c_at_an_early_moment_exits_130_without_a_traceback(moment: str) -> None:
    """SIGINT to the whole process group, as a terminal sends it: while the engine
    is imported (orjson's library is mapped then), while the builtin target is
    starting (a child exists: it got the SIGINT too and died, 'did not start',
    exit 1), and once the banner is out."""
    proc = subprocess.Popen(
        [*CMD, "--no-ui", "--target", "builtin", "--duration", "20s"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, like a terminal's job
    )
    try:
        if moment == "importing":
            _wait_for(lambda: _mapped(proc.pid, "orjson"), proc)
        elif moment == "target starting":
            _wait_for(lambda: _has_child(proc.pid), proc)
        else:
            assert proc.stdout is not None
            for line in proc.stdout:
                if line.startswith("Target:"):
                    break
        assert proc.poll() is None, proc.communicate()
        os.killpg(proc.pid, signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, (stdout, stderr)
    assert "Traceback" not in stderr, stderr
    assert "webhookload-tui: interrupted" in stderr or "Stopped early" in stdout, (stdout, stderr)


@pytest.mark.anyio
async def test_tui_quit_before_an_autostarted_run_began_exits_130(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--autostart whose start has not come yet (a Ctrl+C 0.4 s in): exited 0."""
    monkeypatch.setattr(WebhookLoadApp, "action_start", lambda self: None)
    app = WebhookLoadApp(build_config({"target": "http://127.0.0.1:1"}), autostart=True)
    async with app.run_test() as pilot:
        app._on_signal(signal.SIGINT)
        await pilot.pause()
    assert app.return_value == 130
    assert app.failure == "interrupted before the run started"
