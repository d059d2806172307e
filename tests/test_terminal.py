"""The real app in a real terminal: tmux at 120x36, read with capture-pane."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.terminal


class Tmux:
    """One private tmux server (its own socket), so a user's sessions are untouched."""

    def __init__(self, socket: str) -> None:
        exe = shutil.which("tmux")
        assert exe, "tmux is missing: `make install` installs it (Debian package tmux)"
        self.base = [exe, "-L", socket]

    def __call__(self, *args: str) -> str:
        return subprocess.run(
            [*self.base, *args], capture_output=True, text=True, check=True, timeout=10
        ).stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "main")

    def wait_screen(self, cond: Callable[[str], bool], limit_s: float = 60) -> str:
        deadline = time.monotonic() + limit_s
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if cond(screen):
                return screen
            time.sleep(0.2)
        raise AssertionError("screen never showed what was expected:\n" + screen)


def test_autostarted_run_live_then_summary_then_quit(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "webhookload-tui"
    assert exe.exists(), exe
    rc_file = tmp_path / "rc"
    tmux = Tmux(f"webhookload-test-{tmp_path.name}")
    # unset: pytest's process may carry COLUMNS=80 LINES=24 (set by readline),
    # and Textual would then draw at 80x24 whatever the pane's size
    cmd = (
        f"unset COLUMNS LINES; {exe} --target builtin --autostart --duration 3s; "
        f"echo $? > {rc_file}; sleep 30"
    )
    tmux("new-session", "-d", "-s", "main", "-x", "120", "-y", "36", cmd)
    try:
        live = tmux.wait_screen(
            lambda s: (
                "running" in s and re.search(r"Requests\s+Rate.*\n.*\b[1-9][\d,]*\b", s) is not None
            )
        )
        for label in (
            "Target",
            "VUs",
            "Duration",
            "Dispute ratio",
            "Orders",
            "Disputes",
            "errors/s",
            "p50",
            "p95",
            "p99",
        ):
            assert label in live, label
        summary = tmux.wait_screen(lambda s: "Summary" in s and "Requests:" in s)
        m = re.search(r"Requests:\s+(\d+) \(", summary)
        assert m and int(m.group(1)) > 0, summary
        assert "Errors:      0 (0.00%)" in summary
        tmux("send-keys", "-t", "main", "q")
        deadline = time.monotonic() + 20
        while not rc_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert rc_file.read_text().strip() == "0"
    finally:
        subprocess.run([*tmux.base, "kill-server"], capture_output=True, timeout=10)
