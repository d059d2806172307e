"""``--threshold`` pass/fail criteria: parsed once, judged on any Snapshot.

The grammar is :mod:`engine.domain.thresholds` (``p99<250ms``, ``errors<1%``,
``rate>100``, each optionally ``{endpoint=chargebacks}``); this module
measures. A threshold with no data (no responses on its endpoint) fails at
the end of a run: a gate that measured nothing must not pass.

``--abort-on-fail`` follows k6's ``abortOnFail``: the thresholds are judged
on the data so far, and the run ends as soon as one fails, but only after
:data:`ABORT_DELAY_S` seconds (k6's ``delayAbortEval``), because the first
second's numbers are noise (the rate is still ramping up; one early error is
a large share). ``max`` is the exception: it never decreases, so once it is
over its limit no later data can rescue it, and it aborts at once. Lacking
data is never a reason to abort (more may come). The front end that shows
the run watches (:class:`AbortGuard`, a snapshot sink) and stops its runner;
the :class:`Abort` it records is why the run stopped, so the verdict is 99
(:mod:`engine.outputs.verdict`), not an interrupt.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from engine.config import ConfigError
from engine.domain.durations import format_duration, format_latency_ms, latency_ms
from engine.domain.policies import PROVIDER_ANSWERS, PROVIDER_TIMEOUTS
from engine.domain.shape import INGEST_SHAPE, Shape
from engine.domain.thresholds import (
    COUNT_METRICS,
    LATENCY_METRICS,
    ThresholdSpec,
    ThresholdSyntaxError,
    parse_spec,
)
from engine.metrics.stats import Snapshot
from engine.outputs.settings import format_rate

ABORT_DELAY_S = 5.0
"""With ``--abort-on-fail``, no abort on an uncertain failure before this many seconds."""


@dataclass(frozen=True, slots=True)
class Threshold(ThresholdSpec):
    """A parsed criterion (:class:`ThresholdSpec`) that can judge a Snapshot."""

    def measure(self, snap: Snapshot) -> float | None:
        """The measured value on ``snap`` (same units as ``limit``); None = no data."""
        s = snap if self.endpoint is None else snap.endpoint(self.endpoint)
        if self.metric in LATENCY_METRICS:
            if self.metric.startswith("accepted_"):
                s = s.accepted
            elif self.metric.startswith("visibility_"):
                s = s.visibility_view
            q = LATENCY_METRICS[self.metric]
            return s.max_s if q == 100.0 else s.percentiles_s(q)[q]
        if self.metric == "errors":
            return s.error_pct if s.total else None
        if self.metric == PROVIDER_TIMEOUTS:  # issue 22: none timed, nothing measured
            answers = snap.delivery.get(PROVIDER_ANSWERS, 0)
            slower = snap.delivery.get(PROVIDER_TIMEOUTS, 0)
            if not answers:
                return None
            return 100.0 * slower / answers if self.percent else float(slower)
        if self.metric in COUNT_METRICS:
            # none of its kind delivered: nothing measured (so no pass)
            sent = {"duplicates": "duplicates_sent", "early": "early_sent"}.get(
                self.metric.partition("_")[0]
            )
            if sent is not None and not snap.delivery.get(sent, 0):
                return None
            return float(snap.delivery.get(self.metric, 0))
        return s.total / s.elapsed if s.elapsed > 0 else None

    def holds(self, value: float) -> bool:
        if self.op == "<":
            return value < self.limit
        if self.op == "<=":
            return value <= self.limit
        if self.op == ">":
            return value > self.limit
        return value >= self.limit

    def evaluate(self, snap: Snapshot) -> ThresholdResult:
        value = self.measure(snap)
        return ThresholdResult(self, value, value is not None and self.holds(value))

    def can_still_pass(self, snap: Snapshot) -> bool:
        """False only when no later data can make it pass: ``max`` over its limit.
        Percentiles, error rates and rates can all still move either way."""
        if self.metric != "max":
            return True
        value = self.measure(snap)
        return value is None or self.holds(value)


@dataclass(frozen=True, slots=True)
class ThresholdResult:
    threshold: Threshold
    measured: float | None
    passed: bool

    @property
    def name(self) -> str:
        return self.threshold.name

    @property
    def unit(self) -> str:
        m = self.threshold.metric
        if m == PROVIDER_TIMEOUTS:
            return "%" if self.threshold.percent else "count"
        if m in COUNT_METRICS:
            return "count"
        return "ms" if m in LATENCY_METRICS else "%" if m == "errors" else "/s"

    def measured_text(self) -> str:
        v = self.measured
        latency = self.threshold.metric in LATENCY_METRICS
        return format_measured(latency_ms(v) if latency else v, self.unit)

    def describe(self) -> str:
        """``pass  p99<250ms  (p99 = 12.3ms)``: one line of the summary."""
        verdict = "pass" if self.passed else "FAIL"
        return f"{verdict}  {self.name}  ({self.threshold.metric} = {self.measured_text()})"

    def as_json(self) -> dict[str, Any]:
        """Latencies in ms like the rest of the summary; errors in %, rates per second."""
        t = self.threshold
        scale = 1000.0 if t.metric in LATENCY_METRICS else 1.0
        if t.metric in LATENCY_METRICS:
            value = latency_ms(self.measured)  # the precision format_latency rounds from
        else:
            value = None if self.measured is None else round(self.measured, 3)
        return {
            "threshold": self.name,
            "metric": t.metric,
            "endpoint": t.endpoint,
            "op": t.op,
            "limit": round(t.limit * scale, 6),
            "measured": value,
            "unit": self.unit,
            "passed": self.passed,
        }


def format_measured(value: float | None, unit: str) -> str:
    """A threshold's measured value as the JSON has it (``measured``, ``unit``),
    for people: the summary's line and the HTML report both show this."""
    if value is None:
        return "no data"
    if unit == "ms":
        return format_latency_ms(value)
    if unit == "count":  # a delivery counter (issue 19)
        return f"{value:g}"
    return f"{value:.2f}%" if unit == "%" else f"{format_rate(value)}/s"


def parse_threshold(text: str, shape: Shape = INGEST_SHAPE) -> Threshold:
    """One ``--threshold`` expression; raises ConfigError naming what is expected.
    ``shape``: the run's scenario, whose endpoint names it may use."""
    try:
        spec = parse_spec(text, shape)
    except ThresholdSyntaxError as exc:
        raise ConfigError("threshold", exc.expected, text) from None
    return Threshold(spec.metric, spec.op, spec.limit, spec.endpoint, spec.text, spec.percent)


def parse_thresholds(texts: Iterable[str], shape: Shape = INGEST_SHAPE) -> list[Threshold]:
    return [parse_threshold(t, shape) for t in texts]


def evaluate(thresholds: Iterable[Threshold], total: Snapshot) -> list[ThresholdResult]:
    """Each threshold judged on ``total`` (the whole run at the end)."""
    return [t.evaluate(total) for t in thresholds]


def all_passed(results: Iterable[ThresholdResult]) -> bool:
    return all(r.passed for r in results)


def threshold_lines(results: list[ThresholdResult]) -> list[str]:
    """The summary's ``Thresholds:`` block (nothing when no threshold was given)."""
    if not results:
        return []
    width = max(len(r.name) for r in results)
    lines = ["Thresholds:"]
    for r in results:
        verdict = "pass" if r.passed else "FAIL"
        lines.append(f"  {verdict}  {r.name:<{width}}  {r.threshold.metric}={r.measured_text()}")
    return lines


def thresholds_json(results: list[ThresholdResult]) -> list[dict[str, Any]]:
    """The summary's ``thresholds`` list (the HTML report and CI read it)."""
    return [r.as_json() for r in results]


class AbortCheck:
    """``--abort-on-fail``: call :meth:`check` with the running total after each
    delta; a non-empty answer means end the run now, naming the culprits."""

    def __init__(self, thresholds: Iterable[Threshold], delay_s: float = ABORT_DELAY_S) -> None:
        self.thresholds = list(thresholds)
        self.delay_s = delay_s

    def check(self, total: Snapshot) -> list[ThresholdResult]:
        """The thresholds that justify an abort on ``total`` (the run so far)."""
        failing: list[ThresholdResult] = []
        judged_all = total.elapsed >= self.delay_s
        for t in self.thresholds:
            r = t.evaluate(total)
            if r.measured is None or r.passed:
                continue
            if judged_all or not t.can_still_pass(total):
                failing.append(r)
        return failing


@dataclass(frozen=True, slots=True)
class Abort:
    """Why ``--abort-on-fail`` ended a run: when, and what had failed by then."""

    at_s: float
    failed: tuple[ThresholdResult, ...]

    def describe(self) -> str:
        """``Stopped by --abort-on-fail at 5.0s: errors<1% (errors = 3.10%)``."""
        what = ", ".join(
            f"{r.name} ({r.threshold.metric} = {r.measured_text()})" for r in self.failed
        )
        return f"Stopped by --abort-on-fail at {format_duration(self.at_s)}: {what}"

    def as_json(self) -> dict[str, Any]:
        return {"at_s": round(self.at_s, 3), "thresholds": thresholds_json(list(self.failed))}


class AbortGuard:
    """``--abort-on-fail`` on the consumer's side: a snapshot sink that keeps the
    running total, asks :class:`AbortCheck` after each delta and, the first time
    it answers, records :attr:`abort` and calls ``stop`` (the runner's).

    It sits beside the progress display because the runner may be in another
    process (the TUI's); the runner only needs a ``stop()``, like Ctrl+C."""

    def __init__(
        self,
        thresholds: Iterable[Threshold],
        stop: Callable[[], None],
        delay_s: float = ABORT_DELAY_S,
    ) -> None:
        self._check = AbortCheck(thresholds, delay_s)
        self._stop = stop
        self._total = Snapshot()
        self.abort: Abort | None = None

    def on_snapshot(self, delta: Snapshot) -> None:
        if self.abort is not None:
            return
        self._total = self._total + delta
        failed = self._check.check(self._total)
        if failed:
            self.abort = Abort(self._total.end, tuple(failed))
            self._stop()
