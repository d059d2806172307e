"""Ctrl+C (and SIGTERM) while the TUI's screen opens: exit 130 with one line, the
terminal restored, no engine or target process left behind.

The moment that broke: Textual's driver has started (its writer thread is the
process's second thread) but the app's own signal handlers are not installed
yet. A KeyboardInterrupt raised there left the terminal in the alternate screen
and raw mode, where Ctrl+C no longer signals: it looked hung.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.tmux import TmuxApp

ARGS = "--target builtin --vus 5 --duration 30s"
MARK = "WEBHOOKLOAD_TEST_INTERRUPT"
"""In the app's environment, hence its engine worker's and builtin target's."""
ONE_LINE = "webhookload-tui: interrupted (nothing was measured yet)"


@pytest.fixture
def marked(monkeypatch: pytest.MonkeyPatch) -> str:
    """A mark that the tmux server, started after this, passes to the app."""
    mark = uuid.uuid4().hex
    monkeypatch.setenv(MARK, mark)
    return mark


@pytest.fixture
def tui(tmp_path: Path, request: pytest.FixtureRequest, marked: str) -> Iterator[TmuxApp]:
    app = TmuxApp(tmp_path, request.param)
    try:
        yield app
    finally:
        app.close()


def _processes(mark: str) -> list[str]:
    """Command lines of the Python processes carrying ``mark``: the app, its engine
    worker and the builtin target (/proc shows the environment each started with)."""
    found = []
    for d in Path("/proc").iterdir():
        try:
            env = (d / "environ").read_bytes().split(b"\0")
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, NotADirectoryError):
            continue
        if f"{MARK}={mark}".encode() in env and "python" in cmd:
            found.append(cmd)
    return found


def _none_left(mark: str) -> list[str]:
    deadline = time.monotonic() + 15  # a stopped target may take a moment: a bound
    while (left := _processes(mark)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def _pid(app: TmuxApp) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if app.pid_file.exists() and app.pid_file.read_text().strip():
            return app.pid()
        time.sleep(0.001)
    raise AssertionError("the app never started:\n" + app.tmux.screen())


def _threads(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except OSError:  # gone
        return 0


def _tty_flags(app: TmuxApp) -> set[str]:
    tty = app.tmux("display", "-p", "-t", "main", "#{pane_tty}").strip()
    out = subprocess.run(
        ["stty", "-F", tty, "-a"], capture_output=True, text=True, check=True, timeout=10
    ).stdout
    return set(out.split())


def _assert_restored(app: TmuxApp) -> None:
    """Out of the alternate screen, no mouse tracking, line discipline back."""
    assert app.modes() == "0 0", app.tmux.screen()
    assert {"isig", "icanon", "echo"} <= _tty_flags(app), app.tmux.screen()


@pytest.mark.parametrize(
    ("tui", "sig"),
    [
        *[pytest.param(ARGS, signal.SIGINT, id=f"form-sigint-{i}") for i in range(3)],
        *[
            pytest.param(f"{ARGS} --autostart", signal.SIGINT, id=f"autostart-sigint-{i}")
            for i in range(3)
        ],
        pytest.param(f"{ARGS} --autostart", signal.SIGTERM, id="autostart-sigterm"),
    ],
    indirect=["tui"],
)
def test_a_signal_as_the_screen_opens_exits_130_and_restores_the_terminal(
    tui: TmuxApp, sig: signal.Signals, marked: str
) -> None:
    """Sent the moment Textual's writer thread appears (the driver is taking the
    terminal over), as a terminal's Ctrl+C does just before raw mode turns it
    into a key. Several times, timing varies; the old code failed every one
    (alternate screen and raw mode left on, SIGTERM killed it there)."""
    pid = _pid(tui)
    deadline = time.monotonic() + 30
    while 0 < _threads(pid) < 2 and time.monotonic() < deadline:
        time.sleep(0.0002)
    assert _threads(pid) >= 2, tui.tmux.screen()
    os.kill(pid, sig)
    assert tui.exit_code() == 130, tui.tmux.screen()
    _assert_restored(tui)
    lines = [line for line in tui.tmux.screen().splitlines() if line.strip()]
    assert lines == [ONE_LINE]
    assert _none_left(marked) == []


@pytest.mark.parametrize(
    "tui",
    [pytest.param(f"{ARGS} --autostart", id=f"autostart-{i}") for i in range(3)],
    indirect=True,
)
def test_ctrl_c_as_the_autostarted_screen_shows_says_why_it_exited_130(
    tui: TmuxApp, marked: str
) -> None:
    """The key, before --autostart's start ran: that start came after the quit
    and cleared why the app quit, so it exited 130 without a word (the old
    code did so every time at this moment)."""
    deadline = time.monotonic() + 30
    while tui.modes() != "1 1" and time.monotonic() < deadline:
        time.sleep(0.001)
    tui.tmux("send-keys", "-t", "main", "C-c")
    assert tui.exit_code() == 130, tui.tmux.screen()
    _assert_restored(tui)
    screen = tui.tmux.screen()
    assert "Traceback" not in screen
    said = [line for line in screen.splitlines() if line.startswith("webhookload-tui: ")]
    # before the run began: why; once it had: what the stopped run measured
    assert said == ["webhookload-tui: interrupted before the run started"] or (
        not said and "Stopped early" in screen
    ), screen
    assert _none_left(marked) == []


CHECK_IMPORT_ORDER = """
import signal, sys
seen = {}
class Spy:
    def find_spec(self, name, path=None, target=None):
        if "." not in name and name not in seen:
            handler = signal.getsignal(signal.SIGINT)
            seen[name] = getattr(handler, "__name__", repr(handler))
sys.meta_path.insert(0, Spy())
sys.argv[0] = "webhookload-tui"
import tui.cli
print({k: v for k, v in seen.items() if k != "tui" and v != "_interrupted_early"})
"""


def test_cli_takes_ctrl_c_before_importing_anything_else() -> None:
    """Python's KeyboardInterrupt raised inside an import's weakref callback is
    "ignored": a Ctrl+C during cli's standard-library imports was lost, and the
    TUI opened. Every module cli imports comes after its one-line handler."""
    out = subprocess.run(
        [sys.executable, "-c", CHECK_IMPORT_ORDER],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert out.strip() == "{}"
