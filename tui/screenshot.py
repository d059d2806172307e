"""``python -m tui.screenshot PATH``: an SVG of the real app mid-run.

Runs the app headless at 120x36 against the builtin reference target, lets a
real run go for 20 s (so the latency chart has a picture), with a threshold
or two, and saves what the screen shows (``make
screenshot`` writes ``docs/screenshot.svg``, which the README shows).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from textual.widgets import Input

from engine.config import build_config
from tui.app import WebhookLoadApp


async def take(path: Path, after_s: float = 20.0) -> None:
    config = build_config(
        {"target": "builtin", "duration": "30s", "thresholds": ["p99<5ms", "errors<1%"]}
    )
    app = WebhookLoadApp(config, autostart=True)
    async with app.run_test(size=(120, 36)) as pilot:
        for inp in app.query(Input):
            inp.cursor_blink = False
        await pilot.pause(after_s)
        app.refresh_live()
        await pilot.pause()
        path.parent.mkdir(parents=True, exist_ok=True)
        app.save_screenshot(filename=path.name, path=str(path.parent))
        app.action_stop()
        for _ in range(100):
            if app.state == "finished":
                break
            await pilot.pause(0.05)


def main() -> int:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshot.svg")
    asyncio.run(take(path))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
