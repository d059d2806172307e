"""The optional outputs of a run — ``--timeline``, ``--report``, ``--metrics-addr`` —
set up before the load and finished after it, the same way for ``--no-ui`` and the TUI.

Everything that can be known wrong before the run is refused then (a path that
cannot be written, an address that cannot be listened on: exit 2, one line),
so a long run never ends in an output that cannot be written. The outputs are
sinks fed every delta (:mod:`engine.run.sinks`); the report is drawn from the
same timeline rows, kept in memory when no ``--timeline`` file is asked for.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from engine.config import ConfigError, RunConfig
from engine.domain.durations import parse_duration
from engine.domain.shape import Shape
from engine.domain.stages import parse_stages, target_at, vu_changes
from engine.metrics.stats import Snapshot
from engine.outputs.jsonfile import check_json_path
from engine.outputs.prometheus import LiveMetrics, MetricsServer, parse_metrics_addr
from engine.outputs.summary import result_json
from engine.outputs.thresholds import Abort
from engine.outputs.timeline import Row, Timeline, TimelineWriter
from engine.run.sinks import Sink

if TYPE_CHECKING:
    from engine.run.runner import RunResult


REPORT_SUFFIXES = (".html", ".htm")
REPORT_EXPECTED = (
    "a path ending in .html (the report is one HTML page; the summary as JSON is --json)"
)


@dataclass(frozen=True, slots=True)
class OutputOptions:
    """What the user asked for besides ``--json`` (None: not asked)."""

    timeline: str | None = None
    report: str | None = None
    metrics_addr: str | None = None
    metrics_linger: str | None = None

    @property
    def linger_s(self) -> float:
        """``--metrics-linger``: how long the final numbers stay served after the run
        (a run shorter than Prometheus' scrape interval is otherwise never seen whole)."""
        text = self.metrics_linger
        if text is None:
            return 0.0
        try:
            return parse_duration(text)
        except ValueError:
            raise ConfigError("metrics-linger", "a duration like 0, 15s or 1m", text) from None

    def check(self) -> None:
        """Raise :class:`ConfigError` (exit 2) for what is wrong before any load."""
        for flag, path in (("timeline", self.timeline), ("report", self.report)):
            if path is not None and (problem := check_json_path(path)):
                raise ConfigError(flag, problem, path)
        if self.report is not None and not self.report.lower().endswith(REPORT_SUFFIXES):
            # the file is HTML whatever its name: a .txt or .json name is a mix-up
            # (the summary as text is stdout, as JSON --json), so say so before the run
            raise ConfigError("report", REPORT_EXPECTED, self.report)
        if self.metrics_addr is not None:
            parse_metrics_addr(self.metrics_addr)
        if self.linger_s and self.metrics_addr is None:
            raise ConfigError(
                "metrics-linger", "given with --metrics-addr", str(self.metrics_linger)
            )


class LoadGauges:
    """What the load model aims at now: VUs (closed model) or arrivals per second
    (``--rate``), following ``--stages`` when given. A sink placed before the
    others keeps the latest delta's end as "now", so the gauges only read numbers
    (the metrics server calls them from its own thread)."""

    def __init__(self, config: RunConfig) -> None:
        self._open = config.rate > 0
        self._start = float(config.rate if self._open else config.vus)
        self._stages = parse_stages(config.stages) if config.stages else ()
        # the VUs running follow these whole steps, not the ramp's line (1.875 VUs)
        self._changes = vu_changes(self._stages, config.vus) if not self._open else []
        self._now = 0.0

    def on_snapshot(self, delta: Snapshot) -> None:
        self._now = delta.end

    def _target(self) -> float:
        if not self._stages:
            return self._start
        return target_at(self._stages, self._start, self._now)[1]

    def vus(self) -> float | None:
        """The VUs running now (a whole number: the closed model's target steps)."""
        if self._open:
            return None
        running = int(self._start)
        for at, n in self._changes:
            if at > self._now:
                break
            running = n
        return running

    def arrival_rate(self) -> float | None:
        return self._target() if self._open else None


def vus_gauge(config: RunConfig) -> Callable[[], float | None]:
    """The VUs gauge alone (see :class:`LoadGauges`)."""
    return LoadGauges(config).vus


class _Rows:
    """The timeline in memory only: the report's charts when no ``--timeline``."""

    def __init__(self, gauges: LoadGauges, shape: Shape) -> None:
        self._timeline = Timeline(vus=gauges.vus, arrival_rate=gauges.arrival_rate, shape=shape)
        self.rows: list[Row] = []
        self._closed = False

    def on_snapshot(self, delta: Snapshot) -> None:
        self.rows += self._timeline.add(delta)

    def close(self) -> list[Row]:
        if not self._closed:
            self._closed = True
            self.rows += self._timeline.finish()
        return self.rows


class RunOutputs:
    """One run's outputs: hand :attr:`sinks` to the runner, then call :meth:`finish`
    (or :meth:`close` when the run could not be carried out)."""

    def __init__(
        self, options: OutputOptions, config: RunConfig, *, keep_rows: bool = False
    ) -> None:
        """``keep_rows``: keep the timeline in memory even without --timeline or
        --report (the TUI, whose report key may ask for it after the run)."""
        self.options = options
        self._gauges = gauges = LoadGauges(config)
        self._timeline: TimelineWriter | _Rows | None = None
        if options.timeline is not None:
            try:
                self._timeline = TimelineWriter(
                    options.timeline,
                    vus=gauges.vus,
                    arrival_rate=gauges.arrival_rate,
                    shape=config.shape,
                )
            except OSError as exc:
                reason = exc.strerror or str(exc)
                raise ConfigError(
                    "timeline", f"a file that can be written ({reason})", options.timeline
                ) from None
        elif options.report is not None or keep_rows:
            self._timeline = _Rows(gauges, config.shape)

    @property
    def sinks(self) -> list[Sink]:
        return [] if self._timeline is None else [self._gauges, self._timeline]

    @property
    def rows(self) -> list[Row]:
        """The rows so far (all of them after :meth:`close`)."""
        return [] if self._timeline is None else self._timeline.rows

    def close(self) -> list[Row]:
        """Write the timeline's last second and close its file; every row."""
        return [] if self._timeline is None else self._timeline.close()

    def finish(self, result: RunResult, abort: Abort | None = None) -> list[str]:
        """Close the timeline, write the report; one line per file written.
        OSError when the report cannot be written after all."""
        rows = self.close()
        lines = []
        if self.options.timeline is not None:
            lines.append(f"Timeline written to {self.options.timeline} ({len(rows)} rows)")
        if self.options.report is not None:
            write_report_file(self.options.report, result, abort, rows)
            lines.append(f"Report written to {self.options.report}")
        return lines


def write_report_file(
    path: str | Path, result: RunResult, abort: Abort | None, rows: list[Row]
) -> Path:
    """The HTML report of a finished run (plotly is imported only here: ~0.5 s)."""
    from engine.outputs.html_report import write_report

    return write_report(path, result_json(result, abort), rows)


class MetricsEndpoint:
    """``--metrics-addr`` for the life of the process (the TUI runs several runs):
    one server, one :class:`LiveMetrics` fed every delta, reset at each run's
    start — Prometheus reads a counter that restarts from zero as a reset."""

    def __init__(self, addr: str, config: RunConfig) -> None:
        self._gauges = LoadGauges(config)
        self.metrics = LiveMetrics(
            vus=lambda: self._gauges.vus(),
            arrival_rate=lambda: self._gauges.arrival_rate(),
            dropped=lambda: self.metrics.total.dropped,
            shape=config.shape,
        )
        self.server = MetricsServer(self.metrics, addr)  # ConfigError: exit 2

    @property
    def url(self) -> str:
        return self.server.url

    def on_snapshot(self, delta: Snapshot) -> None:
        """The sink: the gauges' "now", then the metrics' totals."""
        self._gauges.on_snapshot(delta)
        self.metrics.on_snapshot(delta)

    def start_run(self, config: RunConfig) -> None:
        self._gauges = LoadGauges(config)
        self.metrics.reset(config.shape)

    def linger(self, seconds: float) -> None:
        """Keep serving the final numbers for ``seconds``; Ctrl+C ends the wait
        early (the run's exit code stands)."""
        done = threading.Event()
        previous = signal.signal(signal.SIGINT, lambda *_: done.set())
        try:
            done.wait(seconds)
        finally:
            signal.signal(signal.SIGINT, previous)

    def close(self) -> None:
        self.server.close()
