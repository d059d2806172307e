"""``--threshold`` pass/fail criteria: parsed once, judged on any Snapshot.

Grammar (k6's, trimmed to what this tool measures)::

    p50|p90|p95|p99|max [{endpoint=NAME}] < DURATION     p99<250ms, max<=2s
    errors [{endpoint=NAME}] < PERCENT%                  errors<1%
    rate [{endpoint=NAME}] > NUMBER                      rate>500, rate>=500/s

NAME is ``orders``, ``chargebacks`` (alias ``disputes``) or ``reads``. Limits
are upper bounds for latencies and errors and lower bounds for rates, so a
threshold always reads "this is what good looks like". A threshold with no
data (no responses on its endpoint) fails at the end of a run: a gate that
measured nothing must not pass.

``--abort-on-fail`` follows k6's ``abortOnFail``: the thresholds are judged
on the data so far, and the run ends as soon as one fails, but only after
:data:`ABORT_DELAY_S` seconds (k6's ``delayAbortEval``), because the first
second's numbers are noise (the rate is still ramping up; one early error is
a large share). ``max`` is the exception: it never decreases, so once it is
over its limit no later data can rescue it, and it aborts at once. Lacking
data is never a reason to abort (more may come).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from engine.config import ConfigError
from engine.domain.durations import format_duration, format_latency, parse_duration
from engine.metrics.stats import ENDPOINT_ALIASES, ENDPOINTS, Snapshot

EXIT_THRESHOLDS_FAILED = 99
"""k6's exit code for failed thresholds; CI scripts already know it."""
ABORT_DELAY_S = 5.0
"""With ``--abort-on-fail``, no abort on an uncertain failure before this many seconds."""

LATENCY_METRICS = {"p50": 50.0, "p90": 90.0, "p95": 95.0, "p99": 99.0, "max": 100.0}
METRICS = (*LATENCY_METRICS, "errors", "rate")
_EXPR = re.compile(
    r"^(?P<metric>[A-Za-z0-9_]+)\s*(?:\{(?P<filter>[^}]*)\})?\s*(?P<op><=|>=|<|>)\s*(?P<value>.*)$"
)
_FILTER = re.compile(r"^\s*endpoint\s*=\s*(?P<name>[A-Za-z_]+)\s*$")
_GENERAL = "METRIC<LIMIT like p99<250ms, errors<1%, rate>100 or p99{endpoint=chargebacks}<50ms"


def _bad(expected: str, text: str) -> ConfigError:
    return ConfigError("threshold", expected, text)


@dataclass(frozen=True, slots=True)
class Threshold:
    """One criterion. ``limit`` is seconds (latencies), percent (errors) or
    requests per second (rate); ``endpoint`` is a canonical name or None (all)."""

    metric: str
    op: str
    limit: float
    endpoint: str | None = None
    text: str = ""

    @property
    def name(self) -> str:
        """The expression as the user wrote it (without spaces): how it names itself."""
        return self.text or f"{self.metric}{self._filter()}{self.op}{self._limit_text()}"

    def _filter(self) -> str:
        return "" if self.endpoint is None else "{endpoint=" + self.endpoint + "}"

    def _limit_text(self) -> str:
        if self.metric in LATENCY_METRICS:
            return format_duration(self.limit)
        return f"{self.limit:g}%" if self.metric == "errors" else f"{self.limit:g}"

    def measure(self, snap: Snapshot) -> float | None:
        """The measured value on ``snap`` (same units as ``limit``); None = no data."""
        s = snap if self.endpoint is None else snap.endpoint(self.endpoint)
        if self.metric in LATENCY_METRICS:
            if self.metric == "max":
                return s.max_s
            return s.percentiles_s(LATENCY_METRICS[self.metric])[LATENCY_METRICS[self.metric]]
        if self.metric == "errors":
            return s.error_pct if s.total else None
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
        return "ms" if m in LATENCY_METRICS else "%" if m == "errors" else "/s"

    def measured_text(self) -> str:
        v = self.measured
        if v is None:
            return "no data"
        if self.threshold.metric in LATENCY_METRICS:
            return format_latency(v)
        return f"{v:.2f}%" if self.threshold.metric == "errors" else f"{v:.1f}/s"

    def describe(self) -> str:
        """``pass  p99<250ms  (p99 = 12.3ms)``: one line of the summary."""
        verdict = "pass" if self.passed else "FAIL"
        return f"{verdict}  {self.name}  ({self.threshold.metric} = {self.measured_text()})"

    def as_json(self) -> dict[str, Any]:
        """Latencies in ms like the rest of the summary; errors in %, rates per second."""
        t = self.threshold
        scale = 1000.0 if t.metric in LATENCY_METRICS else 1.0
        value = None if self.measured is None else round(self.measured * scale, 3)
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


def parse_threshold(text: str) -> Threshold:
    """One ``--threshold`` expression; raises ConfigError naming what is expected."""
    compact = "".join(text.split())
    m = _EXPR.match(compact)
    if m is None:
        raise _bad(_GENERAL, text)
    metric, op, value = m["metric"].lower(), m["op"], m["value"]
    if metric not in METRICS:
        raise _bad("one of p50, p90, p95, p99, max, errors, rate (like p99<250ms)", text)
    endpoint = None
    if m["filter"] is not None:
        f = _FILTER.match(m["filter"])
        if f is None or f["name"].lower() not in ENDPOINT_ALIASES:
            raise _bad("{endpoint=orders}, {endpoint=chargebacks} or {endpoint=reads}", text)
        endpoint = ENDPOINTS[ENDPOINT_ALIASES[f["name"].lower()]]
    if metric == "rate":
        if op not in (">", ">="):
            raise _bad("a lower limit on the rate, like rate>100", text)
        limit = _number(value.removesuffix("/s"))
        if limit is None:
            raise _bad("a number of requests per second, like rate>100", text)
    elif op not in ("<", "<="):
        raise _bad(f"an upper limit, like {metric}<{'1%' if metric == 'errors' else '250ms'}", text)
    elif metric == "errors":
        limit = _number(value[:-1]) if value.endswith("%") else None
        if limit is None or limit > 100:
            raise _bad("a percentage from 0 to 100, like errors<1%", text)
    else:
        try:
            limit = parse_duration(value)
        except ValueError:
            limit = 0.0
        if limit <= 0:
            raise _bad(f"a duration above 0, like {metric}<250ms or {metric}<1.5s", text)
    return Threshold(metric, op, limit, endpoint, compact)


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value >= 0 and value == value and value != float("inf") else None


def parse_thresholds(texts: Iterable[str]) -> list[Threshold]:
    return [parse_threshold(t) for t in texts]


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
