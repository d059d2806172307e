"""The per-run accumulator that records results (:class:`Stats`).

The runner records into one mutable :class:`Stats`; about four times a second
it calls :meth:`Stats.take`, which hands out everything recorded since the
last call as a frozen :class:`~engine.metrics.snapshot.Snapshot` and starts
afresh. The snapshot and its merge live in engine/metrics/snapshot.py, the
endpoint/counter names in engine/metrics/keys.py; both are re-exported here,
where importers found them.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TypeVar

from engine.domain.outcomes import ErrorKind
from engine.domain.sanitize import PLAIN, Cleaner
from engine.metrics.failures import FailureSampler
from engine.metrics.health import ShardHealth, to_us
from engine.metrics.histogram import bucket_index
from engine.metrics.keys import (
    DELIVERY_KEYS,
    ENDPOINT_ALIASES,
    ENDPOINTS,
    ERROR_KINDS,
    SCENARIO_KEYS,
)
from engine.metrics.snapshot import Snapshot, merge_all

__all__ = [
    "DELIVERY_KEYS",
    "ENDPOINTS",
    "ENDPOINT_ALIASES",
    "ERROR_KINDS",
    "SCENARIO_KEYS",
    "Snapshot",
    "Stats",
    "merge_all",
]

_K = TypeVar("_K", int, str)
_EMPTY: Mapping[int, int] = MappingProxyType({})
_NO_KINDS: Mapping[str, int] = MappingProxyType({})


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
        "_failed_hist",
        "_failed_max",
        "_failed_sum",
        "_failures_taken",
        "_grace",
        "_lag",
        "_names",
        "_sampler",
        "_scenarios",
        "_shard",
        "_since",
        "_since_us",
        "_success",
        "_vis_counts",
        "_vis_hist",
        "_vis_max",
        "_vis_sum",
    )

    def __init__(
        self,
        since: float = 0.0,
        *,
        shard: int = 0,
        endpoints: tuple[str, ...] = ENDPOINTS,
        cleaner: Cleaner = PLAIN,
    ) -> None:
        """``since``: where the first delta starts on the run's time base;
        ``shard``: whose health and failures the deltas carry; ``endpoints``: the
        Shape's endpoint names, whose index is the ``endpoint`` of a record;
        ``cleaner``: what makes a failure's text (a target's) safe to show,
        secrets hidden."""
        self._names = endpoints
        self._since = since
        self._since_us = to_us(since)
        self._shard = shard
        # the failure sample spans the run, not one delta: kept across takes,
        # and each delta carries those kept since the last one
        self._sampler = FailureSampler(cleaner)
        self._failures_taken = 0
        self._reset()

    def _reset(self) -> None:
        self._success = 0
        self._errors = 0
        self._cancelled = 0
        self._grace = 0
        self._arrivals = 0
        self._dropped = 0
        self._eps = tuple(_Endpoint() for _ in self._names)
        self._scenarios: dict[str, int] = {}
        self._lag: dict[int, int] = {}
        self._delivery: dict[str, int] = {}
        # latencies of answers that were errors, off the success path: the
        # accepted answers' latencies are the whole histogram minus these
        self._failed_hist: dict[int, int] = {}
        self._failed_sum = 0
        self._failed_max = 0
        # --visibility (engine/scenario/visibility.py): from 2xx to readable
        self._vis_hist: dict[int, int] = {}
        self._vis_sum = 0
        self._vis_max = 0
        self._vis_counts: dict[str, int] = {}

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
        (engine/scenario/expect.py), or without one, when the status is 2xx (a 3xx
        is a ``redirect``, never followed and never a success).

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
            accepted = status < 300
        if accepted:
            self._success += 1
            return True
        self._errors += 1
        fh = self._failed_hist
        idx = bucket_index(latency_us)  # idx may be the service time's by now
        fh[idx] = fh.get(idx, 0) + 1
        self._failed_sum += latency_us
        if latency_us > self._failed_max:
            self._failed_max = latency_us
        # a redirect is a failed delivery of its own kind (never followed); any
        # other unexpected answer below 400 has no HTTP class of its own
        kind = (
            ErrorKind.HTTP_5XX
            if status >= 500
            else ErrorKind.HTTP_4XX
            if status >= 400
            else ErrorKind.REDIRECT
            if status >= 300
            else ErrorKind.OTHER
        )
        ep.kinds[kind] = ep.kinds.get(kind, 0) + 1
        self._sampler.offer(
            self._names[endpoint],
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
            self._names[endpoint],
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

    def record_visibility(self, us: int) -> None:
        """A followed order showed its final status ``us`` after its last 2xx."""
        idx = bucket_index(us)
        self._vis_hist[idx] = self._vis_hist.get(idx, 0) + 1
        self._vis_sum += us
        if us > self._vis_max:
            self._vis_max = us
        self.visibility_count("visible")

    def visibility_count(self, key: str, n: int = 1) -> None:
        """A --visibility counter (VISIBILITY_KEYS), or ``reads_not_yet_visible``."""
        self._vis_counts[key] = self._vis_counts.get(key, 0) + n

    def record_finished_in_grace(self) -> None:
        """A request in flight at the deadline finished within ``--grace``
        (engine/scenario/drain.py); it is recorded as a request too."""
        self._grace += 1

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
        codes = _union([e.codes for e in eps])
        hist = _union([e.hist for e in eps])
        service = _union([e.shist for e in eps])
        snap = Snapshot(
            start=self._since,
            end=now,
            requests=tuple(e.n for e in eps),
            endpoint_names=self._names,
            success=self._success,
            errors=self._errors,
            cancelled=self._cancelled,
            finished_in_grace=self._grace,
            visibility=MappingProxyType(self._vis_hist) if self._vis_hist else _EMPTY,
            visibility_sum_us=self._vis_sum,
            visibility_max_us=self._vis_max,
            visibility_counts=MappingProxyType(self._vis_counts) if self._vis_counts else _NO_KINDS,
            status_codes=MappingProxyType(codes) if codes else _EMPTY,
            errors_by_kind=MappingProxyType(_union([e.kinds for e in eps])),
            scenarios=MappingProxyType(self._scenarios),
            latency=MappingProxyType(hist) if hist else _EMPTY,
            latency_sum_us=sum(e.lat_sum for e in eps),
            latency_max_us=max((e.lat_max for e in eps), default=0),
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
            service_max_us=max((e.smax for e in eps), default=0),
            delivery=MappingProxyType(self._delivery) if self._delivery else _NO_KINDS,
            failed_latency=MappingProxyType(self._failed_hist) if self._failed_hist else _EMPTY,
            failed_latency_sum_us=self._failed_sum,
            failed_latency_max_us=self._failed_max,
        )
        self._since = now
        self._since_us = now_us
        self._failures_taken = len(self._sampler.kept)
        self._reset()
        return snap
