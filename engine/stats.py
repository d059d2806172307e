"""Per-run counters and the immutable snapshot deltas the engine emits.

The runner records into one mutable :class:`Stats`; about four times a second
it calls :meth:`Stats.take`, which hands out everything recorded since the
last call as a frozen :class:`Snapshot` and starts afresh. Snapshots add up
(``a + b``), so a consumer gets the whole run by summing deltas, a window by
summing the last few, and shards merge the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType

from engine.failures import FailureSampler, SampleFailure, keep_failures
from engine.histogram import bucket_index, merge_counts, percentiles

ORDERS, DISPUTES, READS = 0, 1, 2
ENDPOINT_NAMES = ("orders", "disputes", "reads")

ERROR_KINDS = ("connect", "timeout", "http_4xx", "http_5xx", "other")
SCENARIO_KEYS = (
    "orders_started",
    "orders_success",
    "orders_failed",
    "orders_aborted",
    "orders_unfinished",
    "disputes_opened",
    "disputes_updated",
    "disputes_won",
    "disputes_lost",
    "disputes_aborted",
    "disputes_unfinished",
)
"""Outcomes partition what was begun: ``orders_started`` = success + failed +
aborted (a step rejected) + unfinished (cut off by the deadline or a stop);
``disputes_opened`` (disputes begun) = won + lost + aborted + unfinished."""

_EMPTY: Mapping[int, int] = MappingProxyType({})


def _add(a: Mapping[str, int], b: Mapping[str, int]) -> dict[str, int]:
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, 0) + v
    return out


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What happened between ``start`` and ``end`` (seconds since run start).

    A delta when taken from :class:`Stats`; a total or a window when summed.
    Latencies are microseconds in a sparse log-linear histogram.
    """

    start: float = 0.0
    end: float = 0.0
    orders: int = 0
    disputes: int = 0
    reads: int = 0
    success: int = 0
    errors: int = 0
    cancelled: int = 0
    status_codes: Mapping[int, int] = field(default_factory=dict)
    errors_by_kind: Mapping[str, int] = field(default_factory=dict)
    scenarios: Mapping[str, int] = field(default_factory=dict)
    latency: Mapping[int, int] = field(default_factory=dict)
    latency_sum_us: int = 0
    latency_max_us: int = 0
    loop_lag: Mapping[int, int] = field(default_factory=dict)
    cpu_s: float = 0.0
    sample_failures: tuple[SampleFailure, ...] = ()

    @property
    def total(self) -> int:
        """Completed requests (a response or an error); cancelled ones are not."""
        return self.orders + self.disputes + self.reads

    @property
    def elapsed(self) -> float:
        return max(0.0, self.end - self.start)

    @property
    def rate(self) -> float:
        """Completed requests per second over this snapshot's span."""
        return self.total / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def error_pct(self) -> float:
        return 100.0 * self.errors / self.total if self.total else 0.0

    def percentiles_s(self, *qs: float) -> dict[float, float | None]:
        """Latency percentiles in seconds (``None`` when nothing completed)."""
        return {
            q: (None if v is None else v / 1e6) for q, v in percentiles(self.latency, qs).items()
        }

    @property
    def mean_s(self) -> float | None:
        n = sum(self.latency.values())
        return self.latency_sum_us / n / 1e6 if n else None

    @property
    def max_s(self) -> float | None:
        return self.latency_max_us / 1e6 if self.latency else None

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        """Pickle as plain values (read-only mapping views do not pickle), so deltas
        can cross a process boundary (engine/worker.py, shards)."""
        values = tuple(
            dict(v) if isinstance(v, MappingProxyType) else v
            for v in (getattr(self, f.name) for f in fields(self))
        )
        return (_rebuild, values)

    def __add__(self, other: Snapshot) -> Snapshot:
        if not isinstance(other, Snapshot):
            return NotImplemented
        return Snapshot(
            start=min(self.start, other.start),
            end=max(self.end, other.end),
            orders=self.orders + other.orders,
            disputes=self.disputes + other.disputes,
            reads=self.reads + other.reads,
            success=self.success + other.success,
            errors=self.errors + other.errors,
            cancelled=self.cancelled + other.cancelled,
            status_codes=merge_counts(self.status_codes, other.status_codes),
            errors_by_kind=_add(self.errors_by_kind, other.errors_by_kind),
            scenarios=_add(self.scenarios, other.scenarios),
            latency=merge_counts(self.latency, other.latency),
            latency_sum_us=self.latency_sum_us + other.latency_sum_us,
            latency_max_us=max(self.latency_max_us, other.latency_max_us),
            loop_lag=merge_counts(self.loop_lag, other.loop_lag),
            cpu_s=self.cpu_s + other.cpu_s,
            sample_failures=keep_failures(self.sample_failures, other.sample_failures),
        )


def _rebuild(*values: object) -> Snapshot:
    return Snapshot(*(MappingProxyType(v) if isinstance(v, dict) else v for v in values))  # type: ignore[arg-type]


def merge_all(snaps: list[Snapshot], start: float = 0.0) -> Snapshot:
    """The sum of ``snaps`` (an empty list gives an empty snapshot at ``start``)."""
    total = Snapshot(start=start, end=start)
    for s in snaps:
        total = total + s
    return total


class Stats:
    """The engine's mutable accumulator; only the runner's tasks touch it.

    Everything runs on one event loop, so plain integer updates need no lock.
    """

    __slots__ = (
        "_by_endpoint",
        "_cancelled",
        "_errors",
        "_errors_by_kind",
        "_failures_taken",
        "_hist",
        "_lag",
        "_lat_max",
        "_lat_sum",
        "_sampler",
        "_scenarios",
        "_since",
        "_status",
        "_success",
    )

    def __init__(self, since: float = 0.0) -> None:
        self._since = since
        # the failure sample spans the run, not one delta: kept across takes,
        # and each delta carries those kept since the last one
        self._sampler = FailureSampler()
        self._failures_taken = 0
        self._reset()

    def _reset(self) -> None:
        self._by_endpoint = [0, 0, 0]
        self._success = 0
        self._errors = 0
        self._cancelled = 0
        self._status: dict[int, int] = {}
        self._errors_by_kind: dict[str, int] = {}
        self._scenarios: dict[str, int] = {}
        self._hist: dict[int, int] = {}
        self._lat_sum = 0
        self._lat_max = 0
        self._lag: dict[int, int] = {}

    def record_lag(self, lag_us: int) -> None:
        """One event-loop lag sample (how late a timer fired), microseconds."""
        idx = bucket_index(lag_us)
        self._lag[idx] = self._lag.get(idx, 0) + 1

    def record_response(
        self, endpoint: int, status: int, latency_us: int, body_head: bytes = b""
    ) -> bool:
        """Count one HTTP response; returns True when it is a success (< 400).

        ``body_head`` (the first bytes of the body) is kept for a failure the
        sample wants."""
        self._by_endpoint[endpoint] += 1
        st = self._status
        st[status] = st.get(status, 0) + 1
        idx = bucket_index(latency_us)
        h = self._hist
        h[idx] = h.get(idx, 0) + 1
        self._lat_sum += latency_us
        if latency_us > self._lat_max:
            self._lat_max = latency_us
        if status < 400:
            self._success += 1
            return True
        self._errors += 1
        kind = "http_4xx" if status < 500 else "http_5xx"
        self._errors_by_kind[kind] = self._errors_by_kind.get(kind, 0) + 1
        self._sampler.offer(ENDPOINT_NAMES[endpoint], kind, status, body_head)
        return False

    def record_error(self, endpoint: int, kind: str, detail: str = "") -> None:
        """Count a request that got no HTTP response (connect, timeout, other);
        ``detail`` is the error's text, kept for a failure the sample wants."""
        self._by_endpoint[endpoint] += 1
        self._errors += 1
        self._errors_by_kind[kind] = self._errors_by_kind.get(kind, 0) + 1
        self._sampler.offer(ENDPOINT_NAMES[endpoint], kind, None, detail)

    def record_cancelled(self) -> None:
        """A request in flight when the run ended: neither success nor error."""
        self._cancelled += 1

    def scenario(self, key: str) -> None:
        self._scenarios[key] = self._scenarios.get(key, 0) + 1

    def take(self, now: float, cpu_s: float = 0.0) -> Snapshot:
        """Everything since the last ``take`` as a frozen delta; then start afresh.

        ``cpu_s`` is the generator's CPU time spent in the same span."""
        orders, disputes, reads = self._by_endpoint
        snap = Snapshot(
            start=self._since,
            end=now,
            orders=orders,
            disputes=disputes,
            reads=reads,
            success=self._success,
            errors=self._errors,
            cancelled=self._cancelled,
            status_codes=MappingProxyType(self._status) if self._status else _EMPTY,
            errors_by_kind=MappingProxyType(self._errors_by_kind),
            scenarios=MappingProxyType(self._scenarios),
            latency=MappingProxyType(self._hist) if self._hist else _EMPTY,
            latency_sum_us=self._lat_sum,
            latency_max_us=self._lat_max,
            loop_lag=MappingProxyType(self._lag) if self._lag else _EMPTY,
            cpu_s=cpu_s,
            sample_failures=tuple(self._sampler.kept[self._failures_taken :]),
        )
        self._since = now
        self._failures_taken = len(self._sampler.kept)
        self._reset()
        return snap
