"""The real app in tmux: Esc, a resize both ways, quitting mid-run, SIGTERM and
SIGHUP, and what is left on the terminal (and the exit code) once it closes."""

from __future__ import annotations

import json
import os
import re
import signal
import time
from pathlib import Path

import pytest

from tests.helpers import free_port
from tests.tmux import TmuxApp

pytestmark = pytest.mark.terminal
MAKEFILE = Path(__file__).resolve().parent.parent / "Makefile"
LIVE = re.compile(r"Requests\s+Rate.*\n.*\b[1-9][\d,]*\b")


def side_by_side(screen: str) -> bool:
    return any("Orders / disputes" in line and "Latency" in line for line in screen.splitlines())


def stacked(screen: str) -> bool:
    """One column, and the orders line shows its whole count."""
    return (
        "Orders / disputes" in screen
        and "Latency" in screen
        and not side_by_side(screen)
        and re.search(r"Orders\s+[\d,]+ requests", screen) is not None
    )


def assert_summary_left_on_terminal(app: TmuxApp) -> None:
    screen = app.tmux.wait_screen(lambda s: "Generator:" in s, limit_s=10)
    assert "========== SUMMARY ==========" in screen and "Requests:" in screen, screen
    assert app.modes() == "0 0", "terminal left in the alternate screen or mouse mode"


def test_esc_then_keys_resize_both_ways_then_quit_mid_run(tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    app = TmuxApp(tmp_path, f"--target builtin --duration 60s --json {out}", size=(200, 50))
    try:
        # a field has focus: the footer offers the keys that work there
        app.tmux.wait_screen(lambda s: "Leave form" in s and "Quit" in s)
        app.keys("Escape", "s")
        screen = app.tmux.wait_screen(lambda s: "running" in s and LIVE.search(s) is not None)
        assert re.search(r"│ builtin\s+│", screen), "s was typed into the Target field"
        app.tmux.wait_screen(side_by_side)
        app.resize(80, 24)
        app.tmux.wait_screen(stacked)
        app.resize(200, 50)
        app.tmux.wait_screen(side_by_side)
        assert app.modes() == "1 1"
        app.keys("q")
        assert app.exit_code() == 130  # stopped early, as --no-ui after Ctrl+C
        assert_summary_left_on_terminal(app)
        doc = json.loads(out.read_text())
        assert doc["stopped_early"] is True and doc["requests"]["total"] > 0
    finally:
        app.close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_signal_acts_like_q_and_restores_the_terminal(tmp_path: Path, sig: signal.Signals) -> None:
    out = tmp_path / "run.json"
    app = TmuxApp(tmp_path, f"--target builtin --autostart --duration 60s --json {out}")
    try:
        app.tmux.wait_screen(lambda s: "running" in s and LIVE.search(s) is not None)
        assert app.modes() == "1 1"
        os.kill(app.pid(), sig)
        assert app.exit_code() == 130
        assert_summary_left_on_terminal(app)
        assert json.loads(out.read_text())["stopped_early"] is True
    finally:
        app.close()


def test_a_closed_terminal_still_keeps_the_run(tmp_path: Path) -> None:
    """A real hangup (the pane goes away): the whole process group, the engine's
    worker included, gets SIGHUP; the stopped run's JSON must still be written."""
    out = tmp_path / "run.json"
    app = TmuxApp(tmp_path, f"--target builtin --autostart --duration 60s --json {out}")
    try:
        app.tmux.wait_screen(lambda s: "running" in s and LIVE.search(s) is not None)
        pid = app.pid()
        app.tmux("kill-server")
        deadline = time.monotonic() + 30
        while not out.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert json.loads(out.read_text())["stopped_early"] is True
        while time.monotonic() < deadline:  # and the app is gone
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the app outlived its terminal")
    finally:
        app.close()


def record_command() -> str:
    """The command `make record` records, as the Makefile spells it."""
    m = re.search(r'-c "\$\(BIN\)/webhookload-tui ([^"]+)"', MAKEFILE.read_text())
    assert m, "the record target's command was not found in the Makefile"
    return m.group(1)


def test_the_recorded_run_ends_on_its_summary(tmp_path: Path) -> None:
    args = record_command()
    assert "--exit-on-finish" in args and "--autostart" in args
    app = TmuxApp(tmp_path, f"{args} --duration 2s")  # the last --duration wins
    try:
        assert app.exit_code(limit_s=60) == 0
        assert_summary_left_on_terminal(app)
        last = [line for line in app.tmux.screen().splitlines() if line.strip()][-1]
        assert last.startswith("Generator:"), last  # the cast's last frame is the summary
    finally:
        app.close()


def test_unreachable_target_with_exit_on_finish_exits_3(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    app = TmuxApp(tmp_path, f"--target {url} --autostart --exit-on-finish")
    try:
        assert app.exit_code() == 3
        screen = app.tmux.wait_screen(lambda s: "cannot reach target" in s, limit_s=10)
        assert url in screen
        assert app.modes() == "0 0"
    finally:
        app.close()
