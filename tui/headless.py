"""``--no-ui``: run the engine with a progress display and print the summary.

On a terminal, progress is one line updated in place; otherwise (CI logs, a
pipe) a plain line every few seconds, as k6 does, so a long run is never
silent. Never imports Textual (a test proves it): CI machines need no terminal UI.
"""

from __future__ import annotations

import asyncio
import math
import os
import signal
import sys
import time
from typing import Any, NoReturn, TextIO

from engine.config import BUILTIN, RunConfig
from engine.domain.durations import format_duration
from engine.domain.sanitize import shown_url
from engine.domain.stages import parse_stages, target_at
from engine.errors import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    EXIT_USAGE,
    WebhookloadError,
)
from engine.metrics.saturation import judge
from engine.metrics.stats import Snapshot
from engine.metrics.window import SnapshotWindow
from engine.outputs.extras import MetricsEndpoint, OutputOptions, RunOutputs
from engine.outputs.jsonfile import check_json_path, write_json
from engine.outputs.settings import delivery_settings_lines
from engine.outputs.summary import result_json, result_lines
from engine.outputs.thresholds import Abort, AbortGuard, parse_thresholds
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

    def __init__(
        self, stream: TextIO, duration: float, live: bool, config: RunConfig | None = None
    ) -> None:
        self.stream = stream
        self.duration = duration
        self.live = live
        self.config = config  # with --stages: the current stage and target are shown
        self.window = SnapshotWindow(keep_s=PLAIN_EVERY_S)
        self._next_plain = PLAIN_EVERY_S
        self._verifying = False

    def on_snapshot(self, delta: Snapshot) -> None:
        self.window.add(delta)
        if self.live and self._verifying:
            # a later shard's last delta: the line keeps saying what the run does now
            return
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
        self._verifying = True
        text = (
            f"verifying {phase.sampled} {phase.what}… (up to {format_duration(phase.wait_s)})"
            if phase.wait_s
            else f"verifying {phase.sampled} {phase.what}…"
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
        if self.config is not None and self.config.stages:
            line += "  " + stage_text(self.config, t.end if at is None else at)
        if t.dropped:
            line += f"  ! {t.dropped} arrivals dropped (--max-inflight full)"
        sat = judge(self.window.last_health(2.0))
        if sat.saturated:
            line += f"  ! generator saturated ({sat.describe()})"
        return line

    def clear(self) -> None:
        if self.live:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


SAME_STOP_S = 1.0
"""A second signal of the same kind this soon after the first is the same stop,
not a user's "stop now": GNU ``timeout`` sends its signal to the command and
then to the command's process group, so a run under ``timeout 3
webhookload-tui …`` got SIGTERM twice within microseconds and, 1 run in ~12,
exited at once without its ``--json``. A person pressing Ctrl+C again to
force the exit waits longer than this for the first to act."""

INTERRUPTED_AGAIN = (
    "interrupted again: exiting without waiting for the run to end"
    " (the summary above is what was measured until now)"
)
STOP_SIGNALS = {signal.SIGINT: EXIT_INTERRUPTED, signal.SIGTERM: EXIT_TERMINATED}
"""What stops a run as Ctrl+C does, and the exit code each ends it with: CI
cancelling a job, ``timeout``, ``docker stop`` and ``kill`` send SIGTERM, and
then the summary and ``--json`` are what a pipeline needs most."""


def terminated_line(signum: signal.Signals) -> str:
    """The summary's last word when SIGTERM, not Ctrl+C, stopped the run."""
    return f"Terminated by {signum.name} (exit {STOP_SIGNALS[signum]})"


def exit_interrupted_again(
    progress: ProgressLine,
    config: RunConfig,
    target_url: str,
    first: signal.Signals = signal.SIGINT,
) -> NoReturn:
    """A second Ctrl+C (or SIGTERM): the first one's stop is taking too long
    (thousands of requests to cancel, a shard slow to answer). Exit at once
    (with the first signal's code), but end the progress line, print what was
    measured so far and say what happened, rather than leave the cursor
    mid-line with no word."""
    progress.clear()
    total = progress.window.total
    partial = RunResult(config, target_url or config.target, total, total.end, stopped=True)
    print("\n".join(result_lines(partial)), flush=True)
    if first != signal.SIGINT:
        print(terminated_line(first), flush=True)
    print(f"webhookload-tui: {INTERRUPTED_AGAIN}", file=sys.stderr, flush=True)
    os._exit(STOP_SIGNALS[first])


class Banner:
    """Prints :func:`banner_lines` once, when load starts: after the target was
    found reachable (and ``--target builtin`` listens, its port known only then).
    Printed at once, "Starting load test" came before "cannot reach target"
    (exit 3) for a run that never started."""

    def __init__(self, config: RunConfig) -> None:
        self.config = config
        self.shown = False
        self.target_url = ""
        """The URL load goes to, once the load phase says (the builtin's port)."""

    def show(self, target_url: str = "") -> None:
        self.target_url = self.target_url or target_url
        if not self.shown:
            self.shown = True
            print("\n".join(banner_lines(self.config, target_url)), flush=True)

    def on_snapshot(self, delta: Snapshot) -> None:
        """Nothing: only the load phase matters here."""

    def on_phase(self, phase: Phase) -> None:
        if phase.name == "load":
            self.show(phase.target_url)


def stage_text(config: RunConfig, elapsed: float) -> str:
    """``stage 2/3, target 55 VUs`` (or ``… 120.0/s`` with --rate) at ``elapsed``."""
    stages = parse_stages(config.stages)
    start = config.rate if config.rate else float(config.vus)
    i, target = target_at(stages, start, elapsed)
    what = f"{target:.1f}/s" if config.rate else f"{math.floor(target + 1e-9)} VUs"
    return f"stage {i + 1}/{len(stages)}, target {what}"


def load_text(config: RunConfig) -> str:
    """The load model in words: users, or a rate and its cap."""
    if config.stages:
        unit = "journeys/s" if config.rate else "VUs"
        return f"stages {config.stages} ({unit})"
    if config.rate:
        return f"{config.rate:g} journeys/s (max {config.max_inflight} in flight)"
    return f"{config.vus} VU" if config.vus == 1 else f"{config.vus} VUs"


def banner_lines(config: RunConfig, target_url: str = "") -> list[str]:
    """What the run will do, before it starts; the seed reproduces its choices.
    ``--target builtin`` is named by its real URL once it listens (``target_url``):
    a user pointing curl at it, or reading a log, needs the port."""
    duration = f"{format_duration(config.duration)} duration" if config.duration else "until Ctrl+C"
    target = shown_url(config.target)  # a token in its query: the name only
    if target == BUILTIN and target_url:
        target = f"{target_url} (the builtin reference target)"
    return [
        f"Starting load test: {load_text(config)}, {duration}"
        + (f", {config.workers} workers" if config.workers > 1 else ""),
        f"Target: {target}",
        *delivery_settings_lines(config),
        f"Seed: {config.seed} (--seed {config.seed} repeats this run's choices)",
        "",
    ]


def run_headless(
    config: RunConfig, json_path: str | None = None, outputs: OutputOptions | None = None
) -> int:
    if json_path is not None and (problem := check_json_path(json_path)):
        print(
            f"webhookload-tui: error: --json must be {problem}, got {json_path!r}", file=sys.stderr
        )
        return EXIT_USAGE
    options = outputs or OutputOptions()
    metrics: MetricsEndpoint | None = None
    try:  # refused before any load: exit 2, one line
        options.check()
        extras = RunOutputs(options, config)
        if options.metrics_addr is not None:
            metrics = MetricsEndpoint(options.metrics_addr, config)
    except WebhookloadError as exc:
        print(f"webhookload-tui: error: {exc}", file=sys.stderr)
        return exc.exit_code
    try:
        code = _run(config, json_path, extras, metrics)
        stopped = code in STOP_SIGNALS.values()
        if metrics is not None and (linger := options.linger_s) > 0 and not stopped:
            print(
                f"Serving the final metrics at {metrics.url} for {format_duration(linger)}"
                " (Ctrl+C ends it)",
                file=sys.stderr,
                flush=True,
            )
            metrics.linger(linger)
        return code
    finally:
        extras.close()
        if metrics is not None:
            metrics.close()


def _run(
    config: RunConfig, json_path: str | None, extras: RunOutputs, metrics: MetricsEndpoint | None
) -> int:
    progress = ProgressLine(sys.stderr, config.duration, live=sys.stderr.isatty(), config=config)
    guard = AbortGuard(parse_thresholds(config.thresholds, config.shape), lambda: runner.stop())
    sinks: list[Sink] = [progress, *extras.sinks]
    if metrics is not None:
        sinks.append(metrics)
        print(f"Live metrics at {metrics.url}", file=sys.stderr, flush=True)
    if config.abort_on_fail:
        sinks.append(guard)
    banner = Banner(config)
    runner = make_runner(config, sinks=[banner, *sinks])
    banner.config = runner.config  # with the run's seed; shown once load starts

    stopped_by: list[signal.Signals] = []  # the signals that came, first first
    first_at: list[float] = []  # when the first came (monotonic)

    async def main() -> RunResult:
        def on_signal(signum: signal.Signals) -> None:
            now = time.monotonic()
            if stopped_by:
                if signum == stopped_by[0] and now - first_at[0] < SAME_STOP_S:
                    return  # the same stop, sent twice (GNU timeout: SAME_STOP_S)
                exit_interrupted_again(progress, runner.config, banner.target_url, stopped_by[0])
            stopped_by.append(signum)
            first_at.append(now)
            runner.stop()

        loop = asyncio.get_running_loop()
        for signum in STOP_SIGNALS:
            loop.add_signal_handler(signum, on_signal, signum)
        return await runner.run()

    def signal_code(code: int) -> int:
        """A stop by SIGTERM ends with its own code where Ctrl+C's would be 130."""
        terminated = stopped_by[:1] == [signal.SIGTERM]
        return EXIT_TERMINATED if terminated and code == EXIT_INTERRUPTED else code

    try:
        result = run_main(main)
    except WebhookloadError as exc:
        progress.clear()
        partial = exc.partial if isinstance(exc, ShardLost) else None
        if partial is not None:
            print("\n".join(result_lines(partial, guard.abort)), flush=True)
        print(f"webhookload-tui: {exc}", file=sys.stderr)
        if partial is not None:  # CI still gets what was measured, and why it ended
            lost = {"stopped_by": "shard_lost", "error": str(exc)}
            _write_outputs(partial, guard.abort, json_path, extras, exc.exit_code, lost)
        return signal_code(exc.exit_code)
    progress.clear()
    print("\n".join(result_lines(result, guard.abort)), flush=True)
    code = signal_code(exit_code_for(result, guard.abort))
    if code == EXIT_TERMINATED:
        print(terminated_line(signal.SIGTERM), flush=True)
    return _write_outputs(result, guard.abort, json_path, extras, code)


def _write_outputs(
    result: RunResult,
    abort: Abort | None,
    json_path: str | None,
    extras: RunOutputs,
    code: int,
    extra_json: dict[str, Any] | None = None,
) -> int:
    """``--json`` (``extra_json`` over the summary's keys), the timeline and the
    report; the exit code: the run's ``code``, unless one could not be written."""
    if json_path is not None:
        try:
            write_json(json_path, {**result_json(result, abort), **(extra_json or {})})
        except WebhookloadError as exc:
            print(f"webhookload-tui: {exc}", file=sys.stderr)
            return exc.exit_code
        print(f"JSON summary written to {json_path}", file=sys.stderr)
    try:
        for line in extras.finish(result, abort):
            print(line, file=sys.stderr)
    except OSError as exc:  # checked before the run, so rare: the disk filled up
        print(f"webhookload-tui: cannot write the report: {exc}", file=sys.stderr)
        return code or EXIT_FAILED
    return code
