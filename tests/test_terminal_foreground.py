"""The TUI started in the terminal's background (plain ``timeout``): one line
and exit 2, not a process stopped on a blank screen for good."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.tmux import EXE, Tmux
from tui.foreground import BACKGROUND, in_background

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.terminal
def test_the_tui_under_plain_timeout_says_it_needs_the_foreground(tmp_path: Path) -> None:
    """Plain ``timeout`` puts the app in a background process group: it was
    stopped (SIGTTOU) as Textual set the terminal up, and ignored timeout's
    SIGTERM; ``-k 5`` here only ends the old code, which prints no line."""
    tmux = Tmux(f"webhookload-{tmp_path.name}")
    run = f"timeout -k 5 20 {EXE} --target builtin --autostart --duration 30s; echo EXIT=$?"
    try:
        tmux("new-session", "-d", "-s", "main", "-x", "200", "-y", "30", f"{run}; sleep 60")
        screen = tmux.wait_screen(lambda s: "EXIT=" in s, limit_s=60)
    finally:
        subprocess.run([*tmux.base, "kill-server"], capture_output=True, timeout=10)
    assert "EXIT=2" in screen, screen
    assert f"webhookload-tui: {BACKGROUND}" in screen, screen


CHECK = textwrap.dedent(
    """
    import fcntl, os, sys, termios
    from tui.foreground import in_background
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)  # the pty is now our terminal, our group its foreground
    out = int(sys.argv[1])
    os.write(out, b"fg=%d " % in_background())
    pid = os.fork()
    if pid == 0:
        os.setpgid(0, 0)  # a group of its own: the terminal's background, as under timeout
        os.write(out, b"bg=%d" % in_background())
        os._exit(0)
    os.waitpid(pid, 0)
    """
)


def test_in_background_tells_the_terminals_foreground_from_a_background_group() -> None:
    assert in_background((-1,)) is False  # no terminal there: nothing can stop us
    primary, secondary = os.openpty()
    read_end, write_end = os.pipe()
    try:
        proc = subprocess.run(
            [sys.executable, "-c", CHECK, str(write_end)],
            stdin=secondary,
            stdout=secondary,
            stderr=secondary,
            pass_fds=(write_end,),
            start_new_session=True,
            cwd=ROOT,
            timeout=30,
        )
        os.close(write_end)
        write_end = -1
        answer = os.read(read_end, 100).decode()
    finally:
        for fd in (primary, secondary, read_end, write_end):
            if fd >= 0:
                os.close(fd)
    assert proc.returncode == 0
    assert answer == "fg=0 bg=1"
