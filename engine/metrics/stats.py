"""Per-run counters and the immutable snapshot deltas the engine emits.

The runner records into one mutable :class:`Stats`; about four times a second
it calls :meth:`Stats.take`, which hands out everything recorded since the
last call as a frozen :class:`Snapshot` and starts afresh. Snapshots add up
(``a + b``), so a consumer gets the whole run by summing deltas, a window by
summing the last few, and shards merge the same way: request counters and
latencies add across shards, while the generator's own health (loop lag, CPU)
is kept per shard (engine/metrics/health.py), since it does not add up.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import TypeVar

from engine.domain.outcomes import ErrorKind, ScenarioKey
from engine.metrics.failures import SAMPLE_MAX, FailureSampler, SampleFailure, merge_failures
from engine.metrics.health import ShardHealth, merge_health, pooled_lag, to_us
from engine.metrics.histogram import bucket_index, merge_counts, percentiles

ORDERS, DISPUTES, READS = 0, 1, 2
ENDPOINTS = ("orders", "disputes", "reads")
"""Endpoint names by index (``ORDERS``...); ``disputes`` is the chargebacks path."""
ENDPOINT_ALIASES: Mapping[str, int] = MappingProxyType(
    {"orders": ORDERS, "disputes": DISPUTES, "chargebacks": DISPUTES, "reads": READS}
)

DELIVERY_KEYS = (
    "duplicates_sent",
    "duplicates_rejected",  # 409
    "duplicates_accepted",  # 2xx
    "duplicates_failed",  # any other code, or no answer
    "early_sent",
    "early_refused",  # 404 or 422
    "early_accepted",  # 2xx
    "early_failed",  # any other code (the public service's 500s), or no answer
    "retries",
    "retries_exhausted",
)
"""The ``delivery`` counters (JSON keys), in order."""

ERROR_KINDS = tuple(k.value for k in ErrorKind)
SCENARIO_KEYS = tuple(k.value for k in ScenarioKey)
"""Plain strings (JSON keys), in the enums' order; see :mod:`engine.domain.outcomes`."""

_T = TypeVar("_T")
_U = TypeVar("_U")
_K = TypeVar("_K", int, str)
_EMPTY: Mapping[int, int] = MappingProxyType({})
_NO_KINDS: Mapping[str, int] = MappingProxyType({})
_NO_HEALTH: Mapping[int, ShardHealth] = MappingProxyType({})


def _add(a: Mapping[str, int], b: Mapping[str, int]) -> dict[str, int]:
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, 0) + v
    return out


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What happened between ``start`` and ``end`` (seconds since the run's zero,
    which all shards share: see the Runner's ``epoch``).

    A delta when taken from :class:`Stats`; a total or a window when summed.
    Latencies are microseconds in a sparse log-linear histogram. ``health`` is
    the generator's loop lag and CPU per shard index; ``failures`` is the
    mergeable pool the failure sample is drawn from (engine/metrics/failures.py).
    ``+`` is associative and commutative, so deltas, windows and shards merge
    in any order and grouping.
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
    health: Mapping[int, ShardHealth] = field(default_factory=lambda: _NO_HEALTH)
    # Per endpoint (indexed like ENDPOINTS): breakdowns of status_codes,
    # errors_by_kind and the latency fields. Stats fills them; a Snapshot built
    # by hand may leave them empty, and then endpoint() views are empty.
    endpoint_codes: tuple[Mapping[int, int], ...] = (_EMPTY, _EMPTY, _EMPTY)
    endpoint_errors: tuple[Mapping[str, int], ...] = (_NO_KINDS, _NO_KINDS, _NO_KINDS)
    endpoint_latency: tuple[Mapping[int, int], ...] = (_EMPTY, _EMPTY, _EMPTY)
    endpoint_latency_sum_us: tuple[int, ...] = (0, 0, 0)
    endpoint_latency_max_us: tuple[int, ...] = (0, 0, 0)
    failures: tuple[SampleFailure, ...] = ()
    # the open model (--rate): journeys started at their arrival, and arrivals
    # dropped because --max-inflight was full (both 0 in the closed model)
    arrivals: int = 0
    dropped: int = 0
    # service time (from the actual send) when ``latency`` is corrected (from the
    # intended send, the open model); empty when they are the same (closed model)
    service: Mapping[int, int] = field(default_factory=lambda: _EMPTY)
    service_sum_us: int = 0
    service_max_us: int = 0

    @property
    def service_time(self) -> Snapshot:
        """This snapshot with service times as its latencies: percentiles, mean and
        max from the actual send, not the intended one (itself when they agree)."""
        if not self.service:
            return self
        return dataclasses.replace(
            self,
            latency=self.service,
            latency_sum_us=self.service_sum_us,
            latency_max_us=self.service_max_us,
        )

    # deliberate re-deliveries and early events, by what came back (DELIVERY_KEYS)
    delivery: Mapping[str, int] = field(default_factory=lambda: _NO_KINDS)

    @property
    def sample_failures(self) -> tuple[SampleFailure, ...]:
        """The failures to show: the first :data:`SAMPLE_MAX` of the pool."""
        return self.failures[:SAMPLE_MAX]

    @property
    def loop_lag(self) -> Mapping[int, int]:
        """Loop-lag samples of every shard in one histogram; one shard's own when
        there is one. Saturation is judged per shard (``health``), never on this."""
        return pooled_lag(self.health)

    @property
    def cpu_s(self) -> float:
        """CPU seconds of every shard together (for requests per CPU-second); a
        share of one core is per shard (``health``), never this over ``elapsed``."""
        return sum(h.cpu_us for h in self.health.values()) / 1e6

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

    def endpoint(self, name: str) -> Snapshot:
        """One endpoint's share as a Snapshot (``orders``, ``disputes`` alias
        ``chargebacks``, ``reads``): total, errors, codes, kinds and latencies are
        that endpoint's; scenarios and health belong to the run, so are empty."""
        i = ENDPOINT_ALIASES[name]
        n = (self.orders, self.disputes, self.reads)[i]
        kinds = self.endpoint_errors[i]
        errors = sum(kinds.values())
        return Snapshot(
            start=self.start,
            end=self.end,
            orders=n if i == ORDERS else 0,
            disputes=n if i == DISPUTES else 0,
            reads=n if i == READS else 0,
            success=n - errors,
            errors=errors,
            status_codes=self.endpoint_codes[i],
            errors_by_kind=kinds,
            latency=self.endpoint_latency[i],
            latency_sum_us=self.endpoint_latency_sum_us[i],
            latency_max_us=self.endpoint_latency_max_us[i],
        )

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        """Pickle as plain values (read-only mapping views do not pickle), so deltas
        can cross a process boundary (engine/shards/worker.py, shards)."""
        values = tuple(_plain(getattr(self, f.name)) for f in fields(self))
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
            health=merge_health(self.health, other.health),
            endpoint_codes=_each(merge_counts, self.endpoint_codes, other.endpoint_codes),
            endpoint_errors=_each(_add, self.endpoint_errors, other.endpoint_errors),
            endpoint_latency=_each(merge_counts, self.endpoint_latency, other.endpoint_latency),
            endpoint_latency_sum_us=_each(
                operator.add, self.endpoint_latency_sum_us, other.endpoint_latency_sum_us
            ),
            endpoint_latency_max_us=_each(
                max, self.endpoint_latency_max_us, other.endpoint_latency_max_us
            ),
            failures=merge_failures(self.failures, other.failures),
            arrivals=self.arrivals + other.arrivals,
            dropped=self.dropped + other.dropped,
            service=merge_counts(self.service, other.service),
            service_sum_us=self.service_sum_us + other.service_sum_us,
            service_max_us=max(self.service_max_us, other.service_max_us),
            delivery=_add(self.delivery, other.delivery) if other.delivery else self.delivery,
        )


def _each(f: Callable[[_T, _T], _U], a: tuple[_T, ...], b: tuple[_T, ...]) -> tuple[_U, ...]:
    """``f`` applied pairwise: how per-endpoint tuples add up."""
    return tuple(map(f, a, b))


def _plain(v: object) -> object:
    """A field value with read-only views turned into dicts (also inside tuples;
    a ShardHealth inside ``health`` pickles itself)."""
    if isinstance(v, MappingProxyType):
        return dict(v)
    if isinstance(v, tuple):
        return tuple(_plain(x) for x in v)
    return v


def _frozen(v: object) -> object:
    """The inverse of :func:`_plain`: dicts become read-only views again."""
    if isinstance(v, dict):
        return MappingProxyType(v)
    if isinstance(v, tuple):
        return tuple(_frozen(x) for x in v)
    return v


def _rebuild(*values: object) -> Snapshot:
    return Snapshot(*(_frozen(v) for v in values))  # type: ignore[arg-type]


def merge_all(snaps: list[Snapshot], start: float = 0.0) -> Snapshot:
    """The sum of ``snaps`` (an empty list gives an empty snapshot at ``start``).

    Spans only the snapshots' own ``[start, end)``: a shard that joined a run
    after its zero (the Runner's ``epoch``) does not reach back to 0."""
    if not snaps:
        return Snapshot(start=start, end=start)
    total = snaps[0]
    for s in snaps[1:]:
        total = total + s
    return total


class _Endpoint:
    """One endpoint's mutable counters inside :class:`Stats` (fresh after each take)."""

    __slots__ = ("codes", "hist", "kinds", "lat_max", "lat_sum", "n", "shist", "smax", "ssum")

    def __init__(self) -> None:
        self.n = 0
        self.codes: dict[int, int] = {}
        self.kinds: dict[str, int] = {}
        self.hist: dict[int, int] = {}
        self.lat_sum = 0
        self.lat_max = 0
        self.shist: dict[int, int] = {}  # service times, when latencies are corrected
        self.ssum = 0
        self.smax = 0


def _union(maps: list[dict[_K, int]]) -> dict[_K, int]:
    """Key-wise sum; the one non-empty map itself when only one has data (most
    runs send mostly orders), since nothing mutates a map after :meth:`Stats.take`."""
    full = [m for m in maps if m]
    if len(full) <= 1:
        return full[0] if full else {}
    out = dict(full[0])
    for m in full[1:]:
        for k, v in m.items():
            out[k] = out.get(k, 0) + v
    return out


class Stats:
    """The engine's mutable accumulator; only the runner's tasks touch it.

    Everything runs on one event loop, so plain integer updates need no lock.
    """

    __slots__ = (
        "_arrivals",
        "_cancelled",
        "_delivery",
        "_dropped",
        "_eps",
        "_errors",
        "_failures_taken",
        "_lag",
        "_sampler",
        "_scenarios",
        "_shard",
        "_since",
        "_since_us",
        "_success",
    )

    def __init__(self, since: float = 0.0, *, shard: int = 0) -> None:
        """``since``: where the first delta starts on the run's time base;
        ``shard``: whose health and failures the deltas carry."""
        self._since = since
        self._since_us = to_us(since)
        self._shard = shard
        # the failure sample spans the run, not one delta: kept across takes,
        # and each delta carries those kept since the last one
        self._sampler = FailureSampler()
        self._failures_taken = 0
        self._reset()

    def _reset(self) -> None:
        self._success = 0
        self._errors = 0
        self._cancelled = 0
        self._arrivals = 0
        self._dropped = 0
        self._eps = (_Endpoint(), _Endpoint(), _Endpoint())
        self._scenarios: dict[str, int] = {}
        self._lag: dict[int, int] = {}
        self._delivery: dict[str, int] = {}

    def delivered(self, key: str, n: int = 1) -> None:
        """One deliberate re-delivery or early event (or a retry), by a DELIVERY_KEYS
        name; off the first-delivery hot path."""
        self._delivery[key] = self._delivery.get(key, 0) + n

    def record_lag(self, lag_us: int) -> None:
        """One event-loop lag sample (how late a timer fired), microseconds."""
        idx = bucket_index(lag_us)
        self._lag[idx] = self._lag.get(idx, 0) + 1

    def record_response(
        self,
        endpoint: int,
        status: int,
        latency_us: int,
        body_head: bytes = b"",
        accepted: bool | None = None,
        service_us: int | None = None,
        correlation_id: str = "",
    ) -> bool:
        """Count one HTTP response; returns True when it is a success: when
        ``accepted``, the verdict of the request's expectation
        (engine/scenario/expect.py), or without one, when the status is < 400.

        Recorded only per endpoint; :meth:`take` sums the run-wide fields, at 4 Hz
        instead of once per response (this runs ~70k times per CPU-second).
        ``body_head`` (the first bytes of the body) is kept for a failure the
        sample wants, with the request's ``correlation_id`` (X-Correlation-ID).
        ``service_us``: the time from the actual send, when ``latency_us`` is
        from the intended send (the open model)."""
        ep = self._eps[endpoint]
        ep.n += 1
        st = ep.codes
        st[status] = st.get(status, 0) + 1
        idx = bucket_index(latency_us)
        h = ep.hist
        h[idx] = h.get(idx, 0) + 1
        ep.lat_sum += latency_us
        if latency_us > ep.lat_max:
            ep.lat_max = latency_us
        if service_us is not None:
            idx = bucket_index(service_us)
            h = ep.shist
            h[idx] = h.get(idx, 0) + 1
            ep.ssum += service_us
            if service_us > ep.smax:
                ep.smax = service_us
        if accepted is None:
            accepted = status < 400
        if accepted:
            self._success += 1
            return True
        self._errors += 1
        # an unexpected answer below 400 has no HTTP class of its own
        kind = (
            ErrorKind.HTTP_5XX
            if status >= 500
            else ErrorKind.HTTP_4XX
            if status >= 400
            else ErrorKind.OTHER
        )
        ep.kinds[kind] = ep.kinds.get(kind, 0) + 1
        self._sampler.offer(
            ENDPOINTS[endpoint],
            kind,
            status,
            body_head,
            since_us=self._since_us,
            shard=self._shard,
            correlation_id=correlation_id,
        )
        return False

    def record_error(
        self, endpoint: int, kind: str, detail: str = "", correlation_id: str = ""
    ) -> None:
        """Count a request that got no HTTP response (connect, timeout, other);
        ``detail`` is the error's text, kept for a failure the sample wants."""
        ep = self._eps[endpoint]
        ep.n += 1
        self._errors += 1
        kinds = ep.kinds
        kinds[kind] = kinds.get(kind, 0) + 1
        self._sampler.offer(
            ENDPOINTS[endpoint],
            kind,
            None,
            detail,
            since_us=self._since_us,
            shard=self._shard,
            correlation_id=correlation_id,
        )

    def record_cancelled(self) -> None:
        """A request in flight when the run ended: neither success nor error."""
        self._cancelled += 1

    def record_arrival(self) -> None:
        """The open model started a journey at its arrival."""
        self._arrivals += 1

    def record_dropped(self) -> None:
        """The open model dropped an arrival: ``--max-inflight`` was full."""
        self._dropped += 1

    def scenario(self, key: str) -> None:
        self._scenarios[key] = self._scenarios.get(key, 0) + 1

    def take(self, now: float, cpu_s: float = 0.0) -> Snapshot:
        """Everything since the last ``take`` as a frozen delta; then start afresh.

        ``cpu_s`` is the generator's CPU time spent in the same span; the delta
        carries it, the loop lag and the span as this shard's health."""
        eps = self._eps
        now_us = to_us(now)
        health = ShardHealth(
            MappingProxyType(self._lag) if self._lag else _EMPTY,
            to_us(cpu_s),
            now_us - self._since_us,  # telescopes: a shard's spans add up to its total
        )
        orders, disputes, reads = (e.n for e in eps)
        codes = _union([e.codes for e in eps])
        hist = _union([e.hist for e in eps])
        service = _union([e.shist for e in eps])
        snap = Snapshot(
            start=self._since,
            end=now,
            orders=orders,
            disputes=disputes,
            reads=reads,
            success=self._success,
            errors=self._errors,
            cancelled=self._cancelled,
            status_codes=MappingProxyType(codes) if codes else _EMPTY,
            errors_by_kind=MappingProxyType(_union([e.kinds for e in eps])),
            scenarios=MappingProxyType(self._scenarios),
            latency=MappingProxyType(hist) if hist else _EMPTY,
            latency_sum_us=sum(e.lat_sum for e in eps),
            latency_max_us=max(e.lat_max for e in eps),
            health=MappingProxyType({self._shard: health}),
            failures=tuple(self._sampler.kept[self._failures_taken :]),
            endpoint_codes=tuple(MappingProxyType(e.codes) for e in eps),
            endpoint_errors=tuple(MappingProxyType(e.kinds) for e in eps),
            endpoint_latency=tuple(MappingProxyType(e.hist) for e in eps),
            endpoint_latency_sum_us=tuple(e.lat_sum for e in eps),
            endpoint_latency_max_us=tuple(e.lat_max for e in eps),
            arrivals=self._arrivals,
            dropped=self._dropped,
            service=MappingProxyType(service) if service else _EMPTY,
            service_sum_us=sum(e.ssum for e in eps),
            service_max_us=max(e.smax for e in eps),
            delivery=MappingProxyType(self._delivery) if self._delivery else _NO_KINDS,
        )
        self._since = now
        self._since_us = now_us
        self._failures_taken = len(self._sampler.kept)
        self._reset()
        return snap
