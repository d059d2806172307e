"""The immutable, mergeable snapshot of what a run (or a span of it) did.

:class:`~engine.metrics.stats.Stats` records results and hands out a frozen
:class:`Snapshot` about four times a second. Snapshots add up (``a + b``), so a
consumer gets the whole run by summing deltas, a window by summing the last
few, and shards merge the same way: request counters and latencies add across
shards, while the generator's own health (loop lag, CPU) is kept per shard
(engine/metrics/health.py), since it does not add up. The names its counters
go by (endpoint ids, delivery, error and scenario keys) are in
engine/metrics/keys.py.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import TypeVar

from engine.domain.shape import INGEST_SHAPE, endpoint_name
from engine.metrics.failures import SAMPLE_MAX, SampleFailure, merge_failures
from engine.metrics.health import ShardHealth, merge_health, pooled_lag
from engine.metrics.histogram import bucket_bounds, merge_counts, percentiles

_T = TypeVar("_T")
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
    # Completed requests per endpoint, named by ``endpoint_names`` (the Shape's
    # endpoints, index = endpoint id). A snapshot of no endpoint (``()``, the
    # default) is the zero every sum starts from: it adds to any names.
    requests: tuple[int, ...] = ()
    endpoint_names: tuple[str, ...] = ()
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
    # Per endpoint (indexed like endpoint_names): breakdowns of status_codes,
    # errors_by_kind and the latency fields. Stats fills them; a Snapshot built
    # by hand may leave them empty, and then endpoint() views are empty.
    endpoint_codes: tuple[Mapping[int, int], ...] = ()
    endpoint_errors: tuple[Mapping[str, int], ...] = ()
    endpoint_latency: tuple[Mapping[int, int], ...] = ()
    endpoint_latency_sum_us: tuple[int, ...] = ()
    endpoint_latency_max_us: tuple[int, ...] = ()
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
    # the part of ``latency`` that were errors (issue 19): what is left are the
    # accepted answers' latencies (k6's expected_response:true), see ``accepted``
    failed_latency: Mapping[int, int] = field(default_factory=lambda: _EMPTY)
    failed_latency_sum_us: int = 0
    failed_latency_max_us: int = 0
    # in flight at the deadline, finished within --grace (also in the totals)
    finished_in_grace: int = 0
    # --visibility: from a followed order's last 2xx until the read API showed
    # it (a histogram like ``latency``), and its counters (VISIBILITY_KEYS)
    visibility: Mapping[int, int] = field(default_factory=lambda: _EMPTY)
    visibility_sum_us: int = 0
    visibility_max_us: int = 0
    visibility_counts: Mapping[str, int] = field(default_factory=lambda: _NO_KINDS)

    @property
    def visibility_view(self) -> Snapshot:
        """A snapshot whose latencies are the visibility times (percentiles, mean, max)."""
        return Snapshot(
            start=self.start,
            end=self.end,
            latency=self.visibility,
            latency_sum_us=self.visibility_sum_us,
            latency_max_us=self.visibility_max_us,
        )

    @property
    def accepted(self) -> Snapshot:
        """This snapshot with only the accepted answers' latencies (not errors):
        a service that fails slowly (the public ingest retries its API three
        times before a 500) mixes its failures into p95/p99; this does not.

        Its ``max`` is exact when the slowest answer was accepted; else it is
        the upper edge of the slowest accepted answer's bucket (within 0.4 %)."""
        if not self.failed_latency:
            return self
        left = {
            k: n - self.failed_latency.get(k, 0)
            for k, n in self.latency.items()
            if n > self.failed_latency.get(k, 0)
        }
        if self.latency_max_us > self.failed_latency_max_us:
            top = self.latency_max_us
        else:
            top = bucket_bounds(max(left))[1] - 1 if left else 0
        return dataclasses.replace(
            self,
            latency=left,
            latency_sum_us=self.latency_sum_us - self.failed_latency_sum_us,
            latency_max_us=min(top, self.latency_max_us),
            service=_EMPTY,
            failed_latency=_EMPTY,
            failed_latency_sum_us=0,
            failed_latency_max_us=0,
        )

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
        return sum(self.requests)

    def count(self, name: str) -> int:
        """Completed requests on endpoint ``name``; 0 for one this run has not."""
        try:
            return self.requests[self.endpoint_names.index(name)]
        except (ValueError, IndexError):
            return 0

    @property
    def reads(self) -> int:
        """Completed reads (``--read-ratio``): every scenario's last endpoint is
        ``reads``; its webhooks are counted by name (:meth:`count`)."""
        return self.count("reads")

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
            q: (None if v is None else v / 1e6)
            for q, v in percentiles(self.latency, qs, self.latency_max_us).items()
        }

    @property
    def mean_s(self) -> float | None:
        n = sum(self.latency.values())
        return self.latency_sum_us / n / 1e6 if n else None

    @property
    def max_s(self) -> float | None:
        return self.latency_max_us / 1e6 if self.latency else None

    def endpoint(self, name: str) -> Snapshot:
        """One endpoint's share as a one-endpoint Snapshot (``name``: one of
        ``endpoint_names``, or ``ingest``'s alias ``chargebacks``): total, errors,
        codes, kinds and latencies are that endpoint's; scenarios and health
        belong to the run, so are empty. An endpoint with no data yet (a snapshot
        of no endpoint) is an empty view; an unknown name is a KeyError, like a
        mapping's (its text has a did-you-mean)."""
        names = self.endpoint_names
        if not names:  # no data yet: any endpoint's view is empty
            name = INGEST_SHAPE.aliases.get(name, name)
            return Snapshot(start=self.start, end=self.end, requests=(0,), endpoint_names=(name,))
        try:
            name = endpoint_name(name, names, INGEST_SHAPE.aliases)
        except ValueError as e:
            raise KeyError(str(e)) from None
        i = names.index(name)
        n = self._one(self.requests, i, 0)
        kinds = self.endpoint_errors[i] if self.endpoint_errors else _NO_KINDS
        errors = sum(kinds.values())
        one = self._one
        return Snapshot(
            start=self.start,
            end=self.end,
            requests=(n,),
            endpoint_names=(name,),
            success=n - errors,
            errors=errors,
            status_codes=one(self.endpoint_codes, i, _EMPTY),
            errors_by_kind=kinds,
            latency=one(self.endpoint_latency, i, _EMPTY),
            latency_sum_us=one(self.endpoint_latency_sum_us, i, 0),
            latency_max_us=one(self.endpoint_latency_max_us, i, 0),
            endpoint_codes=(one(self.endpoint_codes, i, _EMPTY),),
            endpoint_errors=(kinds,),
            endpoint_latency=(one(self.endpoint_latency, i, _EMPTY),),
            endpoint_latency_sum_us=(one(self.endpoint_latency_sum_us, i, 0),),
            endpoint_latency_max_us=(one(self.endpoint_latency_max_us, i, 0),),
        )

    @staticmethod
    def _one(values: tuple[_T, ...], i: int, empty: _T) -> _T:
        """Entry ``i`` of a per-endpoint tuple that a hand-built snapshot may leave empty."""
        return values[i] if i < len(values) else empty

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        """Pickle as plain values (read-only mapping views do not pickle), so deltas
        can cross a process boundary (engine/shards/worker.py, shards)."""
        values = tuple(_plain(getattr(self, f.name)) for f in fields(self))
        return (_rebuild, values)

    def __add__(self, other: Snapshot) -> Snapshot:
        if not isinstance(other, Snapshot):
            return NotImplemented
        names = self.endpoint_names or other.endpoint_names
        if other.endpoint_names and other.endpoint_names != names:
            raise ValueError(
                f"cannot merge the snapshots of endpoints {', '.join(names)}"
                f" and {', '.join(other.endpoint_names)} (two scenarios in one run?)"
            )
        return Snapshot(
            start=min(self.start, other.start),
            end=max(self.end, other.end),
            requests=_each(operator.add, self.requests, other.requests),
            endpoint_names=names,
            success=self.success + other.success,
            errors=self.errors + other.errors,
            cancelled=self.cancelled + other.cancelled,
            finished_in_grace=self.finished_in_grace + other.finished_in_grace,
            visibility=merge_counts(self.visibility, other.visibility),
            visibility_sum_us=self.visibility_sum_us + other.visibility_sum_us,
            visibility_max_us=max(self.visibility_max_us, other.visibility_max_us),
            visibility_counts=_add(self.visibility_counts, other.visibility_counts),
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
            failed_latency=merge_counts(self.failed_latency, other.failed_latency),
            failed_latency_sum_us=self.failed_latency_sum_us + other.failed_latency_sum_us,
            failed_latency_max_us=max(self.failed_latency_max_us, other.failed_latency_max_us),
        )


def _each(f: Callable[[_T, _T], _T], a: tuple[_T, ...], b: tuple[_T, ...]) -> tuple[_T, ...]:
    """``f`` applied pairwise: how per-endpoint tuples add up. An empty side (a
    snapshot of no endpoint, or one built by hand without the breakdown) is the
    zero: the other side as it is."""
    if not a:
        return b
    if not b:
        return a
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
