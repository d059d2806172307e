"""The TUI's side of ``--timeline``, ``--report``, ``--metrics-addr`` and the `h` key.

Kept out of the app so it stays a screen: this holds one run's outputs
(:class:`~engine.outputs.extras.RunOutputs`, fed the deltas the worker
streams) and the session's metrics server, and answers with lines to show.
The metrics server lives in the TUI's process, not the engine's: it sees the
same deltas, is bound (or refused, exit 2) before the screen opens, and
outlives each run, so "run again" keeps one address to scrape.
"""

from __future__ import annotations

import time
from pathlib import Path

from engine.config import RunConfig
from engine.errors import WebhookloadError
from engine.metrics.stats import Snapshot
from engine.outputs.extras import MetricsEndpoint, OutputOptions, RunOutputs, write_report_file
from engine.outputs.thresholds import Abort
from engine.run.runner import RunResult


class SessionOutputs:
    """Every run's outputs in one TUI session."""

    def __init__(self, options: OutputOptions, metrics: MetricsEndpoint | None = None) -> None:
        self.options = options
        self.metrics = metrics
        self.run: RunOutputs | None = None

    def start(self, config: RunConfig) -> list[str]:
        """A run starts: a fresh timeline, metrics back to zero; problems to show."""
        problems = []
        if self.run is not None:
            self.run.close()
        try:
            self.run = RunOutputs(self.options, config, keep_rows=True)
        except WebhookloadError as exc:  # --timeline became unwritable since the start
            problems.append(str(exc))
            self.run = RunOutputs(OutputOptions(), config, keep_rows=True)
        if self.metrics is not None:
            self.metrics.start_run(config)
        return problems

    def on_snapshot(self, delta: Snapshot) -> None:
        if self.run is not None:
            for sink in self.run.sinks:
                sink.on_snapshot(delta)
        if self.metrics is not None:
            self.metrics.on_snapshot(delta)

    def failed(self) -> None:
        if self.run is not None:
            self.run.close()

    def finish(self, result: RunResult, abort: Abort | None) -> list[str]:
        """The run ended: files written (--timeline, --report), one line each."""
        if self.run is None:
            return []
        try:
            return self.run.finish(result, abort)
        except OSError as exc:
            return [f"cannot write the report: {exc}"]

    def save_report(self, folder: str, result: RunResult, abort: Abort | None) -> Path:
        """`h`: the last run's report into ``folder``; OSError when it cannot."""
        path = Path(folder) / time.strftime("webhookload-%Y%m%d-%H%M%S.html")
        path.parent.mkdir(exist_ok=True)
        rows = self.run.close() if self.run is not None else []
        return write_report_file(path, result, abort, rows)

    def close(self) -> None:
        if self.run is not None:
            self.run.close()
        if self.metrics is not None:
            self.metrics.close()
