"""The ``--threshold`` grammar: text to a :class:`ThresholdSpec`, nothing measured.

It lives at the bottom of the engine so that :mod:`engine.config` can validate
``--threshold`` like every other flag (config may not import the metrics the
thresholds are judged on; :mod:`engine.outputs.thresholds` does the judging).

Grammar (k6's, trimmed to what this tool measures)::

    p50|p90|p95|p99|max [{endpoint=NAME}] < DURATION     p99<250ms, max<=2s
    accepted_p99 < DURATION                              the answers that were not errors
    visibility_p95 < DURATION                            --visibility: 2xx until readable
    duplicates_5xx < COUNT                               a delivery counter, run-wide
    provider_timeouts < PERCENT% | COUNT                 answers slower than the policy's timeout
    errors [{endpoint=NAME}] < PERCENT%                  errors<1%
    rate [{endpoint=NAME}] > NUMBER                      rate>500, rate>=500/s

NAME is one of the scenario's endpoints (its Shape's, engine/domain/shape.py;
for ``ingest``: ``orders``, ``chargebacks`` alias ``disputes``, ``reads``),
any case; an unknown one gets a did-you-mean. Limits
are upper bounds for latencies and errors and lower bounds for rates, so a
threshold always reads "this is what good looks like".
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from engine.domain.durations import format_duration, parse_duration
from engine.domain.policies import PROVIDER_TIMEOUTS
from engine.domain.shape import INGEST_SHAPE, Shape

_QUANTILES = {"p50": 50.0, "p90": 90.0, "p95": 95.0, "p99": 99.0, "max": 100.0}
VIEWS = ("", "accepted_", "visibility_")
"""Latency metrics of all answers, of accepted ones (``accepted_p99``), and of
``--visibility`` (``visibility_p95``): issue 19."""
LATENCY_METRICS = {view + k: q for view in VIEWS for k, q in _QUANTILES.items()}
COUNT_METRICS = (
    "duplicates_sent",
    "duplicates_rejected",
    "duplicates_accepted",
    "duplicates_failed",
    "early_sent",
    "early_refused",
    "early_accepted",
    "early_failed",
    "retries",
    "retries_exhausted",
    "duplicates_refused",
    "duplicates_5xx",
    "duplicates_transport",
    "duplicates_other",
    "early_5xx",
    "early_transport",
    "early_other",
)
"""The ``delivery`` counters a threshold can name (issue 19): the same as
``engine.metrics.stats.DELIVERY_KEYS`` (a test checks), e.g. ``duplicates_5xx<1``."""
METRICS = (*LATENCY_METRICS, "errors", "rate", *COUNT_METRICS, PROVIDER_TIMEOUTS)
"""Every metric; ``provider_timeouts`` (issue 22) is a share of the answers timed
against the delivery policy's timeout (``provider_timeouts<1%``) or a count."""
ENDPOINT_NAMES: Mapping[str, str] = MappingProxyType(
    {
        **{name: name for name in INGEST_SHAPE.endpoints},
        **INGEST_SHAPE.aliases,
    }
)
"""``ingest``'s spellings in ``{endpoint=...}`` -> the summary's endpoint name
(``disputes`` is the chargebacks path); the same names as ``engine.metrics.stats``
(a test checks)."""

_EXPR = re.compile(
    r"^(?P<metric>[A-Za-z0-9_]+)\s*(?:\{(?P<filter>[^}]*)\})?\s*(?P<op><=|>=|<|>)\s*(?P<value>.*)$"
)
_FILTER = re.compile(r"^\s*endpoint\s*=\s*(?P<name>[A-Za-z0-9_.-]+)\s*$")
GENERAL = "METRIC<LIMIT like p99<250ms, errors<1%, rate>100 or p99{endpoint=chargebacks}<50ms"


class ThresholdSyntaxError(ValueError):
    """``expected`` says what a good expression looks like (the CLI's error line)."""

    def __init__(self, expected: str, text: str) -> None:
        super().__init__(f"expected {expected}, got {text!r}")
        self.expected = expected
        self.text = text


@dataclass(frozen=True, slots=True)
class ThresholdSpec:
    """One criterion. ``limit`` is seconds (latencies), percent (errors) or
    requests per second (rate); ``endpoint`` is a canonical name or None (all)."""

    metric: str
    op: str
    limit: float
    endpoint: str | None = None
    text: str = ""
    percent: bool = False  # provider_timeouts: a share of the answers, not a count

    @property
    def name(self) -> str:
        """The expression as the user wrote it (without spaces): how it names itself."""
        return self.text or f"{self.metric}{self._filter()}{self.op}{self._limit_text()}"

    def _filter(self) -> str:
        return "" if self.endpoint is None else "{endpoint=" + self.endpoint + "}"

    def _limit_text(self) -> str:
        if self.metric in LATENCY_METRICS:
            return format_duration(self.limit)
        if self.metric == "errors" or self.percent:
            return f"{self.limit:g}%"
        return f"{self.limit:g}"  # rate, count


def _filters(shape: Shape) -> str:
    """``{endpoint=orders}, {endpoint=chargebacks} or {endpoint=reads}``: each
    endpoint as users type it (an alias where it has one)."""
    typed = {name: alias for alias, name in shape.aliases.items()}
    names = ["{endpoint=" + typed.get(e, e) + "}" for e in shape.endpoints]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def parse_spec(text: str, shape: Shape | None = INGEST_SHAPE) -> ThresholdSpec:
    """One expression; raises :class:`ThresholdSyntaxError` saying what is expected.
    ``shape``: whose endpoint names ``{endpoint=NAME}`` may use; None checks only
    the grammar (a flag parsed before the scenario is known; build_config
    checks the names once it is)."""
    compact = "".join(text.split())
    m = _EXPR.match(compact)
    if m is None:
        raise ThresholdSyntaxError(GENERAL, text)
    metric, op, value = m["metric"].lower(), m["op"], m["value"]
    if metric not in METRICS:
        close = difflib.get_close_matches(metric, METRICS, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ThresholdSyntaxError(
            "one of p50, p90, p95, p99, max, errors, rate, accepted_p99, visibility_p95,"
            " provider_timeouts or a delivery counter like duplicates_5xx (like p99<250ms)" + hint,
            text,
        )
    endpoint = None
    if metric == PROVIDER_TIMEOUTS:
        return _provider_timeouts(m["filter"], op, value, compact, text)
    if metric in COUNT_METRICS:
        if m["filter"] is not None:
            raise ThresholdSyntaxError(
                f"{metric} for the whole run, without {{endpoint=...}}", text
            )
        limit = _number(value)
        if limit is None:
            raise ThresholdSyntaxError(f"a count, like {metric}<1", text)
        return ThresholdSpec(metric, op, limit, None, compact)
    if m["filter"] is not None and metric.startswith(VIEWS[1:]):
        raise ThresholdSyntaxError(f"{metric} for the whole run, without {{endpoint=...}}", text)
    if m["filter"] is not None:
        f = _FILTER.match(m["filter"])
        if f is None:
            raise ThresholdSyntaxError(_filters(shape or INGEST_SHAPE), text)
        endpoint = f["name"]
        if shape is not None:
            try:
                endpoint = shape.endpoint_name(endpoint)
            except ValueError as e:
                near = str(e).partition(" (")[2].removesuffix(")")
                hint = f" ({near})" if near.startswith("did you mean") else ""
                raise ThresholdSyntaxError(_filters(shape) + hint, text) from None
    if metric == "rate":
        if op not in (">", ">="):
            raise ThresholdSyntaxError("a lower limit on the rate, like rate>100", text)
        limit = _number(value.removesuffix("/s"))
        if limit is None:
            raise ThresholdSyntaxError("a number of requests per second, like rate>100", text)
    elif op not in ("<", "<="):
        example = "1%" if metric == "errors" else "250ms"
        raise ThresholdSyntaxError(f"an upper limit, like {metric}<{example}", text)
    elif metric == "errors":
        limit = _number(value[:-1]) if value.endswith("%") else None
        if limit is None or limit > 100:
            raise ThresholdSyntaxError("a percentage from 0 to 100, like errors<1%", text)
    else:
        try:
            limit = parse_duration(value)
        except ValueError:
            limit = 0.0
        if limit <= 0:
            raise ThresholdSyntaxError(
                f"a duration above 0, like {metric}<250ms or {metric}<1.5s", text
            )
    return ThresholdSpec(metric, op, limit, endpoint, compact)


def _provider_timeouts(
    where: str | None, op: str, value: str, compact: str, text: str
) -> ThresholdSpec:
    """``provider_timeouts<1%`` (a share of the answers timed) or ``<10`` (a count)."""
    if where is not None:
        raise ThresholdSyntaxError(
            f"{PROVIDER_TIMEOUTS} for the whole run, without {{endpoint=...}}", text
        )
    if op not in ("<", "<="):
        raise ThresholdSyntaxError(f"an upper limit, like {PROVIDER_TIMEOUTS}<1%", text)
    percent = value.endswith("%")
    limit = _number(value[:-1] if percent else value)
    if limit is None or (percent and limit > 100):
        raise ThresholdSyntaxError(
            f"a percentage from 0 to 100 or a count, like {PROVIDER_TIMEOUTS}<1%", text
        )
    return ThresholdSpec(PROVIDER_TIMEOUTS, op, limit, None, compact, percent)


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value >= 0 and value == value and value != float("inf") else None
