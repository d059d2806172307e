"""The signals the TUI treats as `q`, and a real hangup told apart from ``kill -HUP``.

A closed terminal window (or a killed tmux pane) hangs up: every write to it
fails with EIO. Textual's writer thread dies on the first such write, and
later writes then block forever, so the app could never finish quitting.
After a real hangup the app points its output at /dev/null and, once the
stopped run's JSON is written, leaves without restoring a terminal that is
gone. ``kill -HUP`` with the terminal still there is an ordinary quit.
"""

from __future__ import annotations

import errno
import os
import signal

SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
OUTPUT_FDS = (1, 2)  # Textual draws on stderr; the summary goes to stdout


def terminal_gone(fd: int = 2) -> bool:
    """True once the terminal on ``fd`` has hung up (it then answers EIO)."""
    try:
        os.tcgetpgrp(fd)
    except OSError as exc:
        return exc.errno != errno.ENOTTY  # not a terminal at all (tests, pipes)
    return False


def detach_output() -> None:
    """Send stdout and stderr to /dev/null, so no write fails or blocks."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        for fd in OUTPUT_FDS:
            os.dup2(devnull, fd)
    finally:
        os.close(devnull)
