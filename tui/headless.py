"""``--no-ui``: run the engine with a one-line progress display and print the summary.

Never imports Textual (a test proves it): CI machines need no terminal UI.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from typing import TextIO

from engine.builtin_target import BuiltinTargetError
from engine.config import RunConfig
from engine.durations import format_duration
from engine.exitcodes import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    exit_code_for,
)
from engine.jsonout import check_json_path, write_json
from engine.loop import run
from engine.preflight import TargetUnreachable
from engine.report import detail_lines, result_json, summary_lines, verification_lines
from engine.runner import Runner, RunResult
from engine.saturation import judge
from engine.stats import Snapshot
from engine.window import SnapshotWindow


class ProgressLine:
    """One updating line on a terminal: elapsed/total, requests, rate, errors."""

    def __init__(self, stream: TextIO, duration: float, enabled: bool) -> None:
        self.stream = stream
        self.duration = duration
        self.enabled = enabled
        self.window = SnapshotWindow(keep_s=5)

    def on_snapshot(self, delta: Snapshot) -> None:
        self.window.add(delta)
        if self.enabled:
            self.stream.write("\r\x1b[K" + self.render())
            self.stream.flush()

    def render(self) -> str:
        t = self.window.total
        total = f"/{format_duration(self.duration)}" if self.duration else ""
        line = (
            f"[{format_duration(t.end)}{total}]  requests {t.total}  "
            f"{self.window.rate(1.0):.1f}/s  errors {t.errors} ({t.error_pct:.2f}%)"
        )
        sat = judge(self.window.last_health(2.0))
        if sat.saturated:
            line += f"  ! generator saturated ({sat.describe()})"
        return line

    def clear(self) -> None:
        if self.enabled:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def run_headless(config: RunConfig, json_path: str | None = None) -> int:
    if json_path is not None and (problem := check_json_path(json_path)):
        print(
            f"webhookload-tui: error: --json must be {problem}, got {json_path!r}", file=sys.stderr
        )
        return EXIT_USAGE
    progress = ProgressLine(sys.stderr, config.duration, enabled=sys.stderr.isatty())
    runner = Runner(config, on_snapshot=progress.on_snapshot)
    duration = format_duration(config.duration) if config.duration else "until Ctrl+C"
    print(f"Starting load test: {config.vus} VUs, {duration} duration", flush=True)
    print(f"Target: {config.target}\n", flush=True)

    async def main() -> RunResult:
        interrupts = 0

        def on_sigint() -> None:
            nonlocal interrupts
            interrupts += 1
            if interrupts > 1:
                os._exit(EXIT_INTERRUPTED)
            runner.stop()

        asyncio.get_running_loop().add_signal_handler(signal.SIGINT, on_sigint)
        return await runner.run()

    try:
        result = run(main)
    except TargetUnreachable as exc:
        progress.clear()
        print(f"webhookload-tui: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE
    except BuiltinTargetError as exc:
        progress.clear()
        print(f"webhookload-tui: {exc}", file=sys.stderr)
        return EXIT_FAILED
    progress.clear()
    print("\n".join(summary_lines(result.total, result.elapsed)))
    print("\n".join(detail_lines(result.total) + verification_lines(result)), flush=True)
    if json_path is not None:
        write_json(json_path, result_json(result))
        print(f"JSON summary written to {json_path}", file=sys.stderr)
    return exit_code_for(result)
