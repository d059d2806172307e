"""The signals the TUI treats as `q`, those that came before the app could act
on them, and a real hangup told apart from ``kill -HUP``.

A closed terminal window (or a killed tmux pane) hangs up: every write to it
fails with EIO. Textual's writer thread dies on the first such write, and
later writes then block forever, so the app could never finish quitting.
After a real hangup the app points its output at /dev/null and, once the
stopped run's JSON is written, leaves without restoring a terminal that is
gone. ``kill -HUP`` with the terminal still there is an ordinary quit.

From just before the screen opens until the app's event loop handles them
(:func:`defer_signals`), a signal is only remembered: Python's
KeyboardInterrupt raised inside Textual's start-up left the terminal in the
alternate screen and raw mode, where Ctrl+C no longer signals (it looked hung),
or was swallowed in a weakref callback ("Exception ignored"), and the app
opened as if no Ctrl+C had come. The app acts on it once it can
(:func:`early_signal`).
"""

from __future__ import annotations

import errno
import os
import signal
from types import FrameType

SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
OUTPUT_FDS = (1, 2)  # Textual draws on stderr; the summary goes to stdout
_early: list[int] = []


def _remember(signum: int, frame: FrameType | None) -> None:
    _early.append(signum)


def defer_signals() -> None:
    """Remember :data:`SIGNALS` instead of acting on them, until the app's
    loop handles them (``WebhookLoadApp.on_mount``) and asks :func:`early_signal`."""
    _early.clear()
    for sig in SIGNALS:
        signal.signal(sig, _remember)


def early_signal() -> signal.Signals | None:
    """The first signal :func:`defer_signals` remembered, if any came."""
    return signal.Signals(_early[0]) if _early else None


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
