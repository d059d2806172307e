"""``--metrics-addr HOST:PORT``: the run's live metrics for Prometheus.

Nothing is observed per request: :class:`LiveMetrics` is a custom collector
that keeps the merged total of the snapshot deltas (4 Hz, on the consumer's
loop) and renders it when Prometheus scrapes (in prometheus_client's server
thread). A total is an immutable Snapshot swapped in with one assignment, so
the two threads need no lock. The latency histogram's fixed ``le`` buckets
are computed at scrape time from the log-linear histogram; a bucket counts
toward ``le`` when its midpoint (the value our percentiles report) is at or
below it, so counts are within 0.4 % of the latency of an exact histogram.

Metrics (all prefixed ``webhookload_``)::

    requests_total{endpoint,code}       code "none": no HTTP response (see errors)
    errors_total{endpoint,kind}         connect, timeout, http_4xx, http_5xx, other
    request_duration_seconds{endpoint}  histogram (responses only)
    requests_cancelled_total            in flight at the deadline
    scenarios_total{outcome}            orders_success, disputes_won, ... (ingest's
                                        names; another scenario's: order.ended.success)
    vus / arrival_rate                  gauges, when the run has them
    dropped_arrivals_total              arrivals the generator could not start
    generator_saturated{shard}          1 when that shard is saturated over the last 5 s
    generator_loop_lag_p99_seconds{shard}, generator_cpu_ratio{shard}   (last 5 s)
    run_elapsed_seconds
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from types import TracebackType
from wsgiref.simple_server import WSGIServer

from prometheus_client import start_http_server
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector, CollectorRegistry

from engine.config import ConfigError
from engine.domain.outcomes import scenario_counts
from engine.domain.shape import INGEST_SHAPE, Shape
from engine.metrics.histogram import bucket_value
from engine.metrics.saturation import judge
from engine.metrics.stats import ERROR_KINDS, Snapshot, merge_all

PREFIX = "webhookload_"
BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""``le`` bounds of the latency histogram: 1 ms to 10 s, 1-2.5-5 steps."""
HEALTH_WINDOW_S = 5.0
_ADDR = re.compile(r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[^:\[\]]*)):(?P<port>\d{1,5})$")

Gauge = Callable[[], float | None]


def parse_metrics_addr(text: str) -> tuple[str, int]:
    """``HOST:PORT``, ``[V6]:PORT`` or ``:PORT`` (all interfaces, as in Go and
    Prometheus' own flags) into ``(host, port)``; port 0 picks a free one."""
    m = _ADDR.match(text.strip())
    port = int(m["port"]) if m else -1
    if m is None or port > 65535:
        raise ConfigError("metrics-addr", "HOST:PORT like 127.0.0.1:9464 or :9464", text)
    host = m["v6"] or m["host"] or "0.0.0.0"
    return host, port


def _histogram(snap: Snapshot) -> list[tuple[str, float]]:
    """Cumulative ``(le, count)`` pairs of ``snap``'s latency, ``+Inf`` last."""
    counts = [0] * (len(BUCKETS_S) + 1)
    for idx, n in snap.latency.items():
        v = bucket_value(idx) / 1e6
        i = next((i for i, le in enumerate(BUCKETS_S) if v <= le), len(BUCKETS_S))
        counts[i] += n
    out, running = [], 0
    for le, n in zip((*(f"{b:g}" for b in BUCKETS_S), "+Inf"), counts, strict=True):
        running += n
        out.append((le, float(running)))
    return out


class LiveMetrics(Collector):
    """Feed every delta to :meth:`on_snapshot`; register it to serve the totals.

    ``vus``, ``arrival_rate`` and ``dropped`` are read at scrape time, from the
    server's thread, so they must only read a number (no locking, no awaiting).
    """

    def __init__(
        self,
        *,
        vus: Gauge | None = None,
        arrival_rate: Gauge | None = None,
        dropped: Callable[[], int] | None = None,
        shape: Shape = INGEST_SHAPE,
    ) -> None:
        """``shape``: the scenario's endpoint and flow names (the labels)."""
        self._shape = shape
        self._vus = vus
        self._rate = arrival_rate
        self._dropped = dropped
        # (total, recent deltas): replaced as one tuple, read once per scrape
        self._state: tuple[Snapshot, tuple[Snapshot, ...]] = (Snapshot(), ())

    @property
    def total(self) -> Snapshot:
        return self._state[0]

    def reset(self, shape: Shape | None = None) -> None:
        """Back to zeros, for the next run in the same process (the TUI's "run
        again"), named by that run's ``shape`` when it brings another scenario."""
        self._state = (Snapshot(), ())
        if shape is not None:
            self._shape = shape

    def on_snapshot(self, delta: Snapshot) -> None:
        total, recent = self._state
        horizon = delta.end - HEALTH_WINDOW_S
        kept = (*(d for d in recent if d.end > horizon), delta)
        self._state = (total + delta, kept)

    def collect(self) -> Iterable[Metric]:
        total, recent = self._state
        yield from self._requests(total)
        yield from self._health(total, recent)

    def _requests(self, total: Snapshot) -> Iterable[Metric]:
        requests = CounterMetricFamily(
            PREFIX + "requests",
            "Completed requests by endpoint and HTTP status code "
            '(code="none": no response, see errors_total).',
            labels=["endpoint", "code"],
        )
        errors = CounterMetricFamily(
            PREFIX + "errors", "Failed requests by endpoint and kind.", labels=["endpoint", "kind"]
        )
        latency = HistogramMetricFamily(
            PREFIX + "request_duration_seconds",
            "Response latency by endpoint (from the generator's log-linear histogram).",
            labels=["endpoint"],
        )
        for name in self._shape.endpoints:
            ep = total.endpoint(name)
            for code, n in sorted(ep.status_codes.items()):
                requests.add_metric([name, str(code)], n)
            no_response = ep.total - sum(ep.status_codes.values())
            if no_response:
                requests.add_metric([name, "none"], no_response)
            for kind in ERROR_KINDS:
                errors.add_metric([name, kind], ep.errors_by_kind.get(kind, 0))
            latency.add_metric([name], _histogram(ep), ep.latency_sum_us / 1e6)
        yield requests
        yield errors
        yield latency
        yield CounterMetricFamily(
            PREFIX + "requests_cancelled",
            "Requests in flight when the run ended (neither success nor error).",
            value=total.cancelled,
        )
        scenarios = CounterMetricFamily(
            PREFIX + "scenarios", "Scenario steps and outcomes.", labels=["outcome"]
        )
        for key, n in scenario_counts(self._shape, total.scenarios).items():
            scenarios.add_metric([key], n)
        yield scenarios

    def _health(self, total: Snapshot, recent: tuple[Snapshot, ...]) -> Iterable[Metric]:
        if self._vus is not None and (v := self._vus()) is not None:
            yield GaugeMetricFamily(PREFIX + "vus", "Virtual users running.", value=v)
        if self._rate is not None and (r := self._rate()) is not None:
            yield GaugeMetricFamily(
                PREFIX + "arrival_rate", "Target arrivals per second (open model).", value=r
            )
        yield CounterMetricFamily(
            PREFIX + "dropped_arrivals",
            "Arrivals the generator could not start in time (open model).",
            value=self._dropped() if self._dropped is not None else 0,
        )
        yield from _shard_health(total, recent)
        yield GaugeMetricFamily(
            PREFIX + "run_elapsed_seconds", "Seconds since the run started.", value=total.end
        )


def _shard_health(total: Snapshot, recent: tuple[Snapshot, ...]) -> Iterable[Metric]:
    """The generator's health per ``shard`` label: each shard's own verdict and
    figures over the window, never summed across shards (two shards at half a
    core each are not one saturated core). Every shard that ever reported has
    its series (zeros when quiet in the window); before any delta, shard 0."""
    window = merge_all(list(recent), start=recent[0].start) if recent else Snapshot()
    verdicts = {s.shard: s for s in judge(window).shards}
    shards = sorted(set(total.health) | set(verdicts)) or [0]
    last = f"(last {HEALTH_WINDOW_S:g} s, per shard)"
    saturated = GaugeMetricFamily(
        PREFIX + "generator_saturated",
        f"1 when the generator itself is the bottleneck {last}.",
        labels=["shard"],
    )
    lag = GaugeMetricFamily(
        PREFIX + "generator_loop_lag_p99_seconds",
        f"Event-loop lag p99 of the generator {last}.",
        labels=["shard"],
    )
    cpu = GaugeMetricFamily(
        PREFIX + "generator_cpu_ratio",
        f"Generator CPU time per wall second, 1 = one core {last}.",
        labels=["shard"],
    )
    for shard in shards:
        v = verdicts.get(shard)
        label = [str(shard)]
        saturated.add_metric(label, 1.0 if v is not None and v.saturated else 0.0)
        lag.add_metric(label, (v.loop_lag_p99_ms or 0.0) / 1e3 if v is not None else 0.0)
        cpu.add_metric(label, (v.cpu_pct or 0.0) / 100 if v is not None else 0.0)
    yield saturated
    yield lag
    yield cpu


class MetricsServer:
    """prometheus_client's HTTP server for one :class:`LiveMetrics`, on its own
    registry (so nothing global, e.g. process metrics of the TUI, leaks in)."""

    def __init__(self, metrics: LiveMetrics, addr: str) -> None:
        host, port = parse_metrics_addr(addr)
        self.registry = CollectorRegistry(auto_describe=True)
        self.registry.register(metrics)
        try:
            self._server, self._thread = start_http_server(port, host, registry=self.registry)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise ConfigError(
                "metrics-addr", f"an address this machine can listen on ({reason})", addr
            ) from None
        self.host = host
        self.port: int = self._server.server_port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/metrics"

    def close(self) -> None:
        server: WSGIServer = self._server
        server.shutdown()
        server.server_close()
        thread: threading.Thread = self._thread
        thread.join(timeout=5)

    def __enter__(self) -> MetricsServer:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
