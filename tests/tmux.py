"""The real app in a real terminal, for the tests that need one: a private tmux
server (:class:`Tmux`) and the TUI in it with its pid and exit code in files
(:class:`TmuxApp`). Used by test_terminal.py, test_terminal_more.py and
test_workers_tui.py."""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

EXE = Path(sys.executable).parent / "webhookload-tui"


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


class TmuxApp:
    """The TUI in a private tmux server; its pid and exit code land in files."""

    def __init__(self, tmp: Path, args: str, size: tuple[int, int] = (120, 36)) -> None:
        self.tmux = Tmux(f"webhookload-{tmp.name}")
        self.pid_file, self.rc_file = tmp / "pid", tmp / "rc"
        # pytest's process may carry COLUMNS=80 LINES=24 in its C environment
        # (readline sets them), and Textual would then never see the real size
        inner = f"unset COLUMNS LINES; echo $$ > {self.pid_file}; exec {EXE} {args}"
        # trap: a Ctrl+C the terminal turns into SIGINT (before the app's raw mode)
        # reaches this shell too, which would die without writing the exit code
        cmd = f"trap : INT; sh -c {shlex.quote(inner)}; echo $? > {self.rc_file}; sleep 60"
        x, y = size
        self.tmux("new-session", "-d", "-s", "main", "-x", str(x), "-y", str(y), cmd)

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.tmux("send-keys", "-t", "main", key)
            time.sleep(0.4)  # so Esc is not read as Alt with the next key

    def resize(self, x: int, y: int) -> None:
        self.tmux("resize-window", "-t", "main", "-x", str(x), "-y", str(y))

    def modes(self) -> str:
        """Alternate screen and any-event mouse tracking: "1 1" while the app is up."""
        return self.tmux("display", "-p", "-t", "main", "#{alternate_on} #{mouse_any_flag}").strip()

    def pid(self) -> int:
        return int(self.pid_file.read_text())

    def exit_code(self, limit_s: float = 30) -> int:
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            if self.rc_file.exists() and self.rc_file.read_text().strip():
                return int(self.rc_file.read_text())
            time.sleep(0.1)
        raise AssertionError("the app did not exit:\n" + self.tmux.screen())

    def clean_summary_then_quit(self) -> str:
        """Wait for the Summary panel of a run that sent requests without an
        error, press q, and expect exit 0 (a finished run); the summary's text."""
        summary = self.tmux.wait_screen(lambda s: "Summary" in s and "Requests:" in s)
        m = re.search(r"Requests:\s+(\d+) \(", summary)
        assert m and int(m.group(1)) > 0, summary
        assert "Errors:      0 (0.00%)" in summary
        self.keys("q")
        assert self.exit_code(limit_s=20) == 0
        return summary

    def close(self) -> None:
        """End the app if a failed test left it running (a hung-up app may
        outlive its tmux server), then the server."""
        if self.pid_file.exists() and not self.rc_file.exists():
            for sig, wait_s in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid(), sig)
                deadline = time.monotonic() + wait_s
                while not self.rc_file.exists() and time.monotonic() < deadline:
                    time.sleep(0.1)
                if self.rc_file.exists():
                    break
        subprocess.run([*self.tmux.base, "kill-server"], capture_output=True, timeout=10)
