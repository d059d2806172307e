"""The ``--threshold`` grammar: text to a :class:`ThresholdSpec`, nothing measured.

It lives at the bottom of the engine so that :mod:`engine.config` can validate
``--threshold`` like every other flag (config may not import the metrics the
thresholds are judged on; :mod:`engine.outputs.thresholds` does the judging).

Grammar (k6's, trimmed to what this tool measures)::

    p50|p90|p95|p99|max [{endpoint=NAME}] < DURATION     p99<250ms, max<=2s
    errors [{endpoint=NAME}] < PERCENT%                  errors<1%
    rate [{endpoint=NAME}] > NUMBER                      rate>500, rate>=500/s

NAME is one of the scenario's endpoints (its Shape's, engine/domain/shape.py;
for ``ingest``: ``orders``, ``chargebacks`` alias ``disputes``, ``reads``),
any case; an unknown one gets a did-you-mean. Limits
are upper bounds for latencies and errors and lower bounds for rates, so a
threshold always reads "this is what good looks like".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from engine.domain.durations import format_duration, parse_duration
from engine.domain.shape import INGEST_SHAPE, Shape

LATENCY_METRICS = {"p50": 50.0, "p90": 90.0, "p95": 95.0, "p99": 99.0, "max": 100.0}
METRICS = (*LATENCY_METRICS, "errors", "rate")
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
        raise ThresholdSyntaxError(
            "one of p50, p90, p95, p99, max, errors, rate (like p99<250ms)", text
        )
    endpoint = None
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


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value >= 0 and value == value and value != float("inf") else None
