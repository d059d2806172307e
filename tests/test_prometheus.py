"""--metrics-addr: scraped over loopback HTTP, the values are the merged total's."""

from __future__ import annotations

import json
import random
import re
import socket
import urllib.request
from pathlib import Path

import anyio
import anyio.to_thread
import pytest
from prometheus_client.parser import text_string_to_metric_families

from engine.config import ConfigError, build_config
from engine.domain.outcomes import LEGACY_KEYS
from engine.domain.shape import INGEST_SHAPE
from engine.metrics.stats import ENDPOINTS, ERROR_KINDS, Snapshot, Stats
from engine.outputs.prometheus import (
    BUCKETS_S,
    LiveMetrics,
    MetricsServer,
    parse_metrics_addr,
)
from engine.run.runner import Runner

# endpoint ids by the ingest scenario's own endpoint names (engine/domain/shape.py)
ORDER_EP, DISPUTE_EP, READ_EP = map(INGEST_SHAPE.endpoint_index, ("orders", "disputes", "reads"))

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
DASHBOARD = Path(__file__).parent.parent / "docs" / "grafana-dashboard.json"


def scrape(url: str) -> Samples:
    """Every sample of one scrape, keyed by (name, sorted labels)."""
    with urllib.request.urlopen(url, timeout=10) as resp:
        text = resp.read().decode()
    out: Samples = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


def _feed(metrics: LiveMetrics, seed: int) -> tuple[Snapshot, dict[str, list[int]]]:
    """3 s of random deltas into ``metrics``; returns the total and raw latencies."""
    rng = random.Random(seed)
    st = Stats()
    raw: dict[str, list[int]] = {e: [] for e in ENDPOINTS}
    total = Snapshot()
    for i in range(12):
        for _ in range(200):
            ep = rng.choice((ORDER_EP, ORDER_EP, DISPUTE_EP, READ_EP))
            if rng.random() < 0.05:
                st.record_error(ep, rng.choice(("connect", "timeout")))
                continue
            lat = int(rng.lognormvariate(9, 1.3))  # ~8 ms median, long tail
            st.record_response(ep, rng.choice((200, 202, 202, 409, 503)), lat)
            raw[ENDPOINTS[ep]].append(lat)
        st.scenario(LEGACY_KEYS["orders_started"])
        st.record_cancelled()
        st.record_lag(40_000)  # 40 ms late: saturated
        delta = st.take((i + 1) * 0.25, cpu_s=0.1)
        metrics.on_snapshot(delta)
        total = total + delta
    return total, raw


def test_scrape_matches_the_merged_total() -> None:
    metrics = LiveMetrics(vus=lambda: 7, dropped=lambda: 3)
    total, raw = _feed(metrics, seed=21)
    assert metrics.total == total
    with MetricsServer(metrics, "127.0.0.1:0") as server:
        assert server.url == f"http://127.0.0.1:{server.port}/metrics"
        s = scrape(server.url)
    total_requests = 0.0
    for name in ENDPOINTS:
        ep = total.endpoint(name)
        for code, n in ep.status_codes.items():
            assert value(s, "webhookload_requests_total", endpoint=name, code=str(code)) == n
        none = value(s, "webhookload_requests_total", endpoint=name, code="none")
        assert none == ep.errors_by_kind.get("connect", 0) + ep.errors_by_kind.get("timeout", 0)
        for kind in ERROR_KINDS:
            got = value(s, "webhookload_errors_total", endpoint=name, kind=kind)
            assert got == ep.errors_by_kind.get(kind, 0)
        h = "webhookload_request_duration_seconds"
        assert value(s, h + "_count", endpoint=name) == len(raw[name])
        assert value(s, h + "_bucket", endpoint=name, le="+Inf") == len(raw[name])
        assert value(s, h + "_sum", endpoint=name) == pytest.approx(sum(raw[name]) / 1e6)
        for le in BUCKETS_S:
            got = value(s, h + "_bucket", endpoint=name, le=f"{le:g}")
            # within the histogram's resolution of the exact count of raw samples
            low = sum(1 for v in raw[name] if v <= le * 1e6 * 0.99)
            high = sum(1 for v in raw[name] if v <= le * 1e6 * 1.01)
            assert low <= got <= high, (name, le, low, got, high)
        total_requests += sum(
            v
            for (n, lb), v in s.items()
            if n == "webhookload_requests_total" and dict(lb)["endpoint"] == name
        )
    assert total_requests == total.total
    assert value(s, "webhookload_requests_cancelled_total") == 12
    assert value(s, "webhookload_scenarios_total", outcome="orders_started") == 12
    assert value(s, "webhookload_vus") == 7
    assert value(s, "webhookload_dropped_arrivals_total") == 3
    assert ("webhookload_arrival_rate", ()) not in s  # no open model in this run
    assert value(s, "webhookload_generator_saturated", shard="0") == 1
    lag = value(s, "webhookload_generator_loop_lag_p99_seconds", shard="0")
    assert lag == pytest.approx(0.04, rel=0.01)
    assert value(s, "webhookload_generator_cpu_ratio", shard="0") == pytest.approx(0.4)
    assert value(s, "webhookload_run_elapsed_seconds") == 3.0


def test_an_empty_run_serves_zeros() -> None:
    with MetricsServer(LiveMetrics(), "127.0.0.1:0") as server:
        s = scrape(server.url)
    assert value(s, "webhookload_errors_total", endpoint="orders", kind="timeout") == 0
    assert value(s, "webhookload_request_duration_seconds_count", endpoint="reads") == 0
    assert value(s, "webhookload_generator_saturated", shard="0") == 0
    assert value(s, "webhookload_dropped_arrivals_total") == 0


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("127.0.0.1:9464", ("127.0.0.1", 9464)),
        ("localhost:0", ("localhost", 0)),
        (":9464", ("0.0.0.0", 9464)),
        ("[::1]:9464", ("::1", 9464)),
    ],
)
def test_metrics_addr_forms(text: str, want: tuple[str, int]) -> None:
    assert parse_metrics_addr(text) == want


@pytest.mark.parametrize("text", ["", "9464", "host", "host:", "h:70000", "h:port", "::1:9464"])
def test_bad_metrics_addr_is_one_line_naming_the_flag(text: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_metrics_addr(text)
    assert str(err.value).startswith("--metrics-addr must be HOST:PORT like 127.0.0.1:9464")


def test_a_port_in_use_is_a_config_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ConfigError) as err:
            MetricsServer(LiveMetrics(), f"127.0.0.1:{port}")
    assert "--metrics-addr must be an address this machine can listen on" in str(err.value)


@pytest.mark.anyio
async def test_a_scrape_during_a_real_run_and_after_it_match_the_summary() -> None:
    metrics = LiveMetrics(vus=lambda: 2)
    cfg = build_config({"target": "builtin", "vus": "2", "duration": "1500ms", "read_ratio": "0.3"})
    mid: list[Samples] = []
    with MetricsServer(metrics, "127.0.0.1:0") as server:

        async def scrape_while_running() -> None:
            while not mid or value(mid[-1], "webhookload_run_elapsed_seconds") == 0:
                mid.append(await anyio.to_thread.run_sync(scrape, server.url))
                await anyio.sleep(0.1)

        with anyio.fail_after(60):
            async with anyio.create_task_group() as tg:
                tg.start_soon(scrape_while_running)
                result = await Runner(cfg, sinks=[metrics]).run()
        end = await anyio.to_thread.run_sync(scrape, server.url)
    total = result.total
    assert total.total > 0 and total.reads > 0
    assert 0 < value(mid[-1], "webhookload_run_elapsed_seconds") <= result.elapsed
    assert value(end, "webhookload_run_elapsed_seconds") == pytest.approx(result.elapsed)
    for name in ENDPOINTS:
        ep = total.endpoint(name)
        for code, n in ep.status_codes.items():
            key = ("webhookload_requests_total", (("code", str(code)), ("endpoint", name)))
            assert end[key] == n
            assert mid[-1].get(key, 0) <= n
        count = value(end, "webhookload_request_duration_seconds_count", endpoint=name)
        assert count == sum(ep.status_codes.values())
    served = sum(v for (n, _), v in end.items() if n == "webhookload_requests_total")
    assert served == total.total


def test_the_grafana_dashboard_queries_only_served_metrics() -> None:
    doc = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in doc["panels"] for t in p["targets"]]
    metrics = LiveMetrics(vus=lambda: 1, arrival_rate=lambda: 5.0)
    _feed(metrics, seed=2)
    with MetricsServer(metrics, "127.0.0.1:0") as server:
        served = {name for name, _ in scrape(server.url)}
    used = {m for e in exprs for m in re.findall(r"\bwebhookload_\w+", e)}
    assert used and used <= served, used - served
    titles = " ".join(p["title"] for p in doc["panels"]).lower()
    for word in ("requests/s by endpoint", "error rate", "p50 / p95 / p99", "vus", "saturation"):
        assert word in titles, word
    for q in ("0.5", "0.95", "0.99"):
        assert any(e.startswith(f"histogram_quantile({q}, ") for e in exprs), q
    assert all("${datasource}" in json.dumps(p["datasource"]) for p in doc["panels"])
