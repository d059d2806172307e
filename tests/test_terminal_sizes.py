"""The real app in tmux at the two sizes people have: 80x24 and 200x50.

At 80x24 the Summary's endpoint table and Latency line fit the panel (no row
wraps) and its title says how to see the rest (PgDn); at 200x50 the latency
chart takes the room the screen has, even beside Delivery and Thresholds."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.tmux import TmuxApp

pytestmark = pytest.mark.terminal
RUN = "--target builtin --autostart --duration 3s --vus 4"
MS = r"\d[\d.]*(?:µs|ms|s)"


def test_80x24_summary_rows_fit_and_the_title_says_it_scrolls(tmp_path: Path) -> None:
    app = TmuxApp(tmp_path, RUN, size=(80, 24))
    try:
        # the title once the summary is laid out (the first frame may precede it)
        screen = app.tmux.wait_screen(lambda s: "Summary · PgDn/↓ for more" in s, limit_s=30)
        assert "Requests:" in screen
        assert re.search(rf"Latency: p50={MS} p95={MS} p99={MS} ", screen), screen
        # each endpoint: its counts on one line, its latencies whole on the next
        # (the view's scrollbar may draw after a row's border: [^\n]*)
        rows = re.findall(
            rf"│\s+(orders|disputes)\s+\d+\s+[\d.]+\s+\d+\s+│[^\n]*\n"
            rf"[^\n]*│\s+p50 {MS}\s+p95 {MS}\s+p99 {MS}\s+│",
            screen,
        )
        assert rows == ["orders", "disputes"], screen
        app.keys("PageDown")
        screen = app.tmux.wait_screen(lambda s: "r: run again" in s)
        assert "PgDn" not in screen  # at the end: nothing more below
        app.keys("q")
        assert app.exit_code(limit_s=20) == 0
    finally:
        app.close()


def chart_rows(screen: str) -> int:
    """Rows from the chart panel's title to its time axis."""
    lines = screen.splitlines()
    top = next(i for i, ln in enumerate(lines) if "Latency per second" in ln)
    axis = next(i for i, ln in enumerate(lines) if i > top and "-60s" in ln)
    return axis - top


def test_200x50_the_chart_uses_the_room(tmp_path: Path) -> None:
    args = f"{RUN} --duplicate-rate 0.1 --threshold 'p99<1s' --threshold 'errors<5%'"
    app = TmuxApp(tmp_path, args.replace("3s", "30s"), size=(200, 50))
    try:
        screen = app.tmux.wait_screen(
            lambda s: "running" in s and "Delivery" in s and "Thresholds" in s and "-60s" in s
        )
        # the screen's last rows hold the chart column, not blank space
        assert chart_rows(screen) >= 18, screen  # 7 in the fixed grid
        app.resize(200, 36)  # shorter: the grid's fixed rows again, the chart less
        screen = app.tmux.wait_screen(lambda s: "-60s" in s and chart_rows(s) < 15)
        app.keys("q")
        assert app.exit_code(limit_s=20) == 130
    finally:
        app.close()
