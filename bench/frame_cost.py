"""What one TUI frame costs, split by Textual stage and by widget.

Run it in place of ``webhookload-tui`` (same flags), in a real terminal:

    tmux new-session -d -x 120 -y 36 ".venv/bin/python bench/frame_cost.py \\
        --target http://127.0.0.1:PORT --vus 10 --think 0 --duration 10s \\
        --autostart --exit-on-finish"

At exit it writes ``bench/.work/frame_cost.txt``: CPU time (``process_time``)
per call of the screen's compositor refresh, of our ``refresh_live`` and of
each widget class's ``render_lines``. It wraps those methods and nothing else,
so the numbers are the app's own, including Textual's overheads; see
docs/PERFORMANCE.md, section 3, for what they showed.
"""

from __future__ import annotations

import atexit
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.app import App
from textual.screen import Screen
from textual.widget import Widget

from tui.app import WebhookLoadApp
from tui.cli import main

OUT = Path(__file__).resolve().parent / ".work" / "frame_cost.txt"
calls: defaultdict[str, list[float]] = defaultdict(lambda: [0, 0.0])


def timed(cls: type, name: str, key: str | None = None) -> None:
    """Replace ``cls.name`` with a wrapper that adds its CPU time under ``key``."""
    orig: Callable[..., Any] = getattr(cls, name)

    def wrapper(self: object, *args: Any, **kwargs: Any) -> Any:
        t0 = time.process_time()
        try:
            return orig(self, *args, **kwargs)
        finally:
            c = calls[key or f"{type(self).__name__}.{name}"]
            c[0] += 1
            c[1] += time.process_time() - t0

    setattr(cls, name, wrapper)


@atexit.register
def report() -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    rows = [f"process CPU {time.process_time():.3f}s (start-up included)"]
    for key, (n, total) in sorted(calls.items(), key=lambda kv: -kv[1][1]):
        rows.append(f"{key:42s} n={n:5.0f} total={total * 1e3:8.1f}ms per={total / n * 1e3:6.2f}ms")
    OUT.write_text("\n".join(rows) + "\n")


if __name__ == "__main__":
    timed(Widget, "render_lines")
    timed(Screen, "_compositor_refresh", "Screen._compositor_refresh")
    timed(App, "_display", "App._display")
    timed(WebhookLoadApp, "refresh_live", "refresh_live")
    sys.argv[0] = "webhookload-tui"
    sys.exit(main())
