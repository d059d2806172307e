"""The real app in a real terminal: tmux at 120x36, read with capture-pane."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.tmux import EXE, TmuxApp

pytestmark = pytest.mark.terminal


def test_autostarted_run_live_then_summary_then_quit(tmp_path: Path) -> None:
    assert EXE.exists(), EXE
    app = TmuxApp(tmp_path, "--target builtin --autostart --duration 3s")
    try:
        live = app.tmux.wait_screen(
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
        app.clean_summary_then_quit()
    finally:
        app.close()
