"""``--no-ui``: run the engine with a progress display and print the summary.

On a terminal, progress is one line updated in place; otherwise (CI logs, a
pipe) a plain line every few seconds, as k6 does, so a long run is never
silent. Never imports Textual (a test proves it): CI machines need no terminal UI.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from typing import TextIO

from engine.config import RunConfig
from engine.domain.durations import format_duration
from engine.errors import (
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    WebhookloadError,
)
from engine.metrics.saturation import judge
from engine.metrics.stats import Snapshot
from engine.metrics.window import SnapshotWindow
from engine.outputs.jsonfile import check_json_path, write_json
from engine.outputs.summary import result_json, result_lines
from engine.outputs.thresholds import AbortGuard, parse_thresholds
from engine.outputs.verdict import exit_code_for
from engine.run.loop import run_main
from engine.run.runner import Phase, RunResult
from engine.run.sinks import Sink
from engine.shards.coordinator import ShardLost
from engine.shards.runners import make_runner

PLAIN_EVERY_S = 5.0
"""Without a terminal, a progress line every this many seconds of the run."""


class ProgressLine:
    """Progress on ``stream``: elapsed/total, requests, rate, errors.

    ``live``: one line rewritten in place (a terminal); otherwise a plain line
    every :data:`PLAIN_EVERY_S` seconds of run time (by the snapshots' clock)."""

    def __init__(self, stream: TextIO, duration: float, live: bool) -> None:
        self.stream = stream
        self.duration = duration
        self.live = live
        self.window = SnapshotWindow(keep_s=PLAIN_EVERY_S)
        self._next_plain = PLAIN_EVERY_S

    def on_snapshot(self, delta: Snapshot) -> None:
        self.window.add(delta)
        if self.live:
            self._write_live(self.render())
        elif delta.end >= self._next_plain:
            at = self._next_plain
            while self._next_plain <= delta.end:
                self._next_plain += PLAIN_EVERY_S
            self.stream.write(self.render(at=at, rate_s=PLAIN_EVERY_S) + "\n")
            self.stream.flush()

    def on_phase(self, phase: Phase) -> None:
        """Say what the run does after the load (else the line freezes at its end)."""
        if phase.name != "verifying":
            return
        text = (
            f"verifying {phase.orders} orders… (up to {format_duration(phase.wait_s)})"
            if phase.wait_s
            else f"verifying {phase.orders} orders…"
        )
        if self.live:
            self._write_live(text)
        else:
            self.stream.write(text + "\n")
            self.stream.flush()

    def _write_live(self, text: str) -> None:
        self.stream.write("\r\x1b[K" + text)
        self.stream.flush()

    def render(self, at: float | None = None, rate_s: float = 1.0) -> str:
        t = self.window.total
        total = f"/{format_duration(self.duration)}" if self.duration else ""
        line = (
            f"[{format_duration(t.end if at is None else at)}{total}]  requests {t.total}  "
            f"{self.window.rate(rate_s):.1f}/s  errors {t.errors} ({t.error_pct:.2f}%)"
        )
        sat = judge(self.window.last_health(2.0))
        if sat.saturated:
            line += f"  ! generator saturated ({sat.describe()})"
        return line

    def clear(self) -> None:
        if self.live:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def banner_lines(config: RunConfig) -> list[str]:
    """What the run will do, before it starts; the seed reproduces its choices."""
    duration = f"{format_duration(config.duration)} duration" if config.duration else "until Ctrl+C"
    return [
        f"Starting load test: {config.vus} VUs, {duration}"
        + (f", {config.workers} workers" if config.workers > 1 else ""),
        f"Target: {config.target}",
        f"Seed: {config.seed} (--seed {config.seed} repeats this run's choices)",
        "",
    ]


def run_headless(config: RunConfig, json_path: str | None = None) -> int:
    if json_path is not None and (problem := check_json_path(json_path)):
        print(
            f"webhookload-tui: error: --json must be {problem}, got {json_path!r}", file=sys.stderr
        )
        return EXIT_USAGE
    progress = ProgressLine(sys.stderr, config.duration, live=sys.stderr.isatty())
    guard = AbortGuard(parse_thresholds(config.thresholds), lambda: runner.stop())
    sinks: list[Sink] = [progress]
    if config.abort_on_fail:
        sinks.append(guard)
    runner = make_runner(config, sinks=sinks)
    print("\n".join(banner_lines(runner.config)), flush=True)

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
        result = run_main(main)
    except WebhookloadError as exc:
        progress.clear()
        if isinstance(exc, ShardLost) and exc.partial is not None:
            print("\n".join(result_lines(exc.partial, guard.abort)), flush=True)
        print(f"webhookload-tui: {exc}", file=sys.stderr)
        return exc.exit_code
    progress.clear()
    print("\n".join(result_lines(result, guard.abort)), flush=True)
    if json_path is not None:
        write_json(json_path, result_json(result, guard.abort))
        print(f"JSON summary written to {json_path}", file=sys.stderr)
    return exit_code_for(result, guard.abort)
