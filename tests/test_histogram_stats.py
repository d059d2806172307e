"""Histogram accuracy against exact percentiles, merging, and snapshot arithmetic."""

from __future__ import annotations

import ast
import importlib
import random
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

import engine.metrics.window as window_module
import tui
from engine.domain.shape import INGEST_SHAPE
from engine.metrics.histogram import (
    bucket_bounds,
    bucket_index,
    bucket_value,
    merge_counts,
    percentiles,
)
from engine.metrics.stats import Snapshot, Stats, merge_all
from engine.metrics.window import SnapshotWindow

# endpoint ids by the ingest scenario's own endpoint names (engine/domain/shape.py)
ORDER_EP, DISPUTE_EP, READ_EP = map(INGEST_SHAPE.endpoint_index, ("orders", "disputes", "reads"))


def exact_percentile(values: list[int], q: float) -> int:
    """Nearest-rank percentile of raw samples."""
    s = sorted(values)
    rank = max(1, -(-q * len(s) // 100))
    return s[int(rank) - 1]


def test_buckets_are_contiguous_and_narrow() -> None:
    prev_high = 0
    for idx in range(bucket_index(10**10) + 1):
        low, high = bucket_bounds(idx)
        assert low == prev_high
        assert (high - low) / max(low, 1) <= 1 / 128 or high - low == 1
        prev_high = high
    for v in [0, 1, 255, 256, 257, 1000, 123_456, 10**9]:
        low, high = bucket_bounds(bucket_index(v))
        assert low <= v < high


@pytest.mark.parametrize(
    "dist",
    [
        lambda r: int(r.lognormvariate(8, 1.2)),
        lambda r: int(r.expovariate(1 / 20_000)),
        lambda r: r.randint(100, 5_000_000),
    ],
)
def test_percentiles_within_one_percent_of_exact(dist: object) -> None:
    rng = random.Random(5)
    values = [dist(rng) for _ in range(50_000)]  # type: ignore[operator]
    counts: dict[int, int] = {}
    for v in values:
        i = bucket_index(v)
        counts[i] = counts.get(i, 0) + 1
    got = percentiles(counts, [50, 90, 95, 99, 99.9, 100])
    for q, value in got.items():
        exact = exact_percentile(values, q)
        assert value is not None
        assert abs(value - exact) <= max(0.01 * exact, 1.0), (q, value, exact)


def test_empty_histogram_gives_none_not_nan() -> None:
    assert percentiles({}, [50, 99]) == {50: None, 99: None}
    snap = Snapshot()
    assert snap.percentiles_s(50)[50] is None
    assert snap.mean_s is None and snap.max_s is None and snap.error_pct == 0.0


def test_merge_equals_recording_everything_in_one() -> None:
    rng = random.Random(9)
    a_vals = [rng.randint(1, 10**6) for _ in range(5000)]
    b_vals = [rng.randint(1, 10**6) for _ in range(7000)]

    def hist(vals: list[int]) -> dict[int, int]:
        h: dict[int, int] = {}
        for v in vals:
            h[bucket_index(v)] = h.get(bucket_index(v), 0) + 1
        return h

    assert merge_counts(hist(a_vals), hist(b_vals)) == hist(a_vals + b_vals)


def test_bucket_value_lies_in_bucket() -> None:
    for idx in (0, 5, 300, 1000, 2000):
        low, high = bucket_bounds(idx)
        assert low <= bucket_value(idx) < high


def test_stats_take_returns_delta_and_resets() -> None:
    st = Stats()
    assert st.record_response(ORDER_EP, 202, 1500)
    assert not st.record_response(DISPUTE_EP, 404, 900)
    assert not st.record_response(ORDER_EP, 503, 700)
    st.record_error(READ_EP, "timeout")
    st.record_cancelled()
    st.scenario("orders_started")
    d1 = st.take(0.25)
    assert (d1.count("orders"), d1.count("disputes"), d1.reads, d1.total) == (2, 1, 1, 4)
    assert (d1.success, d1.errors, d1.cancelled) == (1, 3, 1)
    assert dict(d1.status_codes) == {202: 1, 404: 1, 503: 1}
    assert dict(d1.errors_by_kind) == {"http_4xx": 1, "http_5xx": 1, "timeout": 1}
    assert d1.latency_max_us == 1500 and sum(d1.latency.values()) == 3
    st.record_response(ORDER_EP, 202, 100)
    d2 = st.take(0.5)
    assert d2.start == 0.25 and d2.total == 1 and dict(d2.status_codes) == {202: 1}
    # deltas are immutable and unaffected by later recording
    assert d1.total == 4
    with pytest.raises(TypeError):
        d1.status_codes[202] = 5  # type: ignore[index]
    total = d1 + d2
    assert total.total == 5 and total.status_codes[202] == 2 and total.start == 0
    assert total.end == 0.5
    assert merge_all([d1, d2]) == total


def test_window_rate_and_per_second_series() -> None:
    w = SnapshotWindow(keep_s=10)
    st = Stats()
    t = 0.0
    for i in range(40):  # 10 s of deltas, 4 a second; errors only in second 5
        for _ in range(10):
            st.record_response(ORDER_EP, 500 if 20 <= i < 24 else 202, 1000)
        t += 0.25
        w.add(st.take(t))
    assert w.total.total == 400
    assert w.rate(1.0) == pytest.approx(40.0)
    errors = w.per_second("errors", 60)
    assert errors == [0, 0, 0, 0, 0, 40, 0, 0, 0, 0]
    assert w.last(2.0).total == 80


def test_snapshots_pickle_across_processes_and_stay_read_only() -> None:
    import pickle

    st = Stats()
    st.record_response(ORDER_EP, 202, 1500)
    st.scenario("orders_started")
    snap = st.take(0.25, cpu_s=0.1)
    back = pickle.loads(pickle.dumps(snap))
    assert back == snap and back.cpu_s == 0.1
    with pytest.raises(TypeError):
        back.status_codes[202] = 1


def test_per_second_can_leave_out_the_partial_second() -> None:
    w = SnapshotWindow()
    st = Stats()
    for i in range(6):  # 1.5 s at 4 Hz, 10 requests per delta
        for _ in range(10):
            st.record_response(ORDER_EP, 202, 100)
        w.add(st.take((i + 1) * 0.25))
    assert w.per_second("total") == [40, 20]
    assert w.per_second("total", complete=True) == [40]


def _engine_names_used_by_tui() -> set[tuple[str, str]]:
    """Every ``(module, name)`` that a file under ``tui/`` imports from the engine."""
    used: set[tuple[str, str]] = set()
    for path in sorted(Path(tui.__file__).parent.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "engine":
                assert node.module is not None
                used.update((node.module, alias.name) for alias in node.names)
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names if a.name.split(".")[0] == "engine"]
                assert not names, f"{path}: import the names, not the module: {names}"
    return used


def test_engine_public_api_is_what_the_front_ends_use() -> None:
    """``engine.__all__`` is the API the CLI, the headless printer and the TUI use:
    every name in it exists, and every engine name ``tui/`` imports is in it."""
    import engine

    assert len(set(engine.__all__)) == len(engine.__all__)
    for name in engine.__all__:
        assert hasattr(engine, name), name
    used = _engine_names_used_by_tui()
    assert ("engine.config", "RunConfig") in used  # the scan sees the imports
    for module, name in sorted(used):
        assert name in engine.__all__, f"tui/ imports {module}.{name}, missing in engine.__all__"
        assert getattr(engine, name) is getattr(importlib.import_module(module), name), name


def test_partial_windows_agree_with_the_full_merge() -> None:
    w = SnapshotWindow()
    st = Stats()
    rng = random.Random(4)
    for i in range(48):
        for _ in range(rng.randint(5, 30)):
            st.record_response(ORDER_EP, 202, rng.randint(100, 90_000))
        st.record_lag(rng.randint(0, 20_000))
        w.add(st.take((i + 1) * 0.25, cpu_s=0.1))
    for secs in (1.0, 2.0, 10.0):
        full = w.last(secs)
        lat = w.last_latency(secs)
        health = w.last_health(secs)
        assert dict(lat.latency) == dict(full.latency)
        assert (lat.latency_sum_us, lat.latency_max_us) == (
            full.latency_sum_us,
            full.latency_max_us,
        )
        assert dict(health.loop_lag) == dict(full.loop_lag)
        assert health.cpu_s == pytest.approx(full.cpu_s)
        assert lat.elapsed == pytest.approx(full.elapsed) == pytest.approx(secs)
        assert w.rate(secs) == pytest.approx(full.rate)


def test_the_kept_up_10s_latencies_agree_with_the_full_merge_at_every_step() -> None:
    """The 10 s window is kept up per delta (added, expired): after every delta,
    shards' deltas interleaved and some late, it equals summing the window anew."""
    w = SnapshotWindow()
    rng = random.Random(9)
    shards = [Stats(), Stats()]
    pending: list[Snapshot] = []
    for i in range(120):  # 30 s of two shards at 4 Hz
        for st in shards:
            for _ in range(rng.randint(0, 40)):
                st.record_response(ORDER_EP, 202, rng.randint(50, 400_000))
            pending.append(st.take((i + 1) * 0.25))
        rng.shuffle(pending)
        while len(pending) > rng.randint(0, 3):  # some arrive a tick or two late
            w.add(pending.pop())
            full = w.last(10.0)
            lat = w.last_latency(10.0)
            assert dict(lat.latency) == {k: v for k, v in full.latency.items() if v}
            assert (lat.latency_sum_us, lat.latency_max_us) == (
                full.latency_sum_us,
                full.latency_max_us,
            )
            assert lat.start == full.start or not full.total


def test_the_10s_latencies_are_not_summed_anew_at_each_refresh(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A UI asks for them at every refresh: summing 40 deltas' histograms each time
    was a third of the TUI's own refresh cost at max rate."""
    w = SnapshotWindow()
    st = Stats()
    for i in range(60):
        st.record_response(ORDER_EP, 202, 100 + i)
        w.add(st.take((i + 1) * 0.25))
    calls: list[int] = []
    real = window_module._sum_counts

    def counted(maps: Iterable[Mapping[int, int]]) -> dict[int, int]:
        calls.append(1)
        return real(maps)

    monkeypatch.setattr(window_module, "_sum_counts", counted)
    assert sum(w.last_latency(10.0).latency.values()) == 40
    assert calls == []


def test_no_percentile_lies_above_the_exact_max() -> None:
    """A bucket's midpoint may lie above every sample in it: the TUI showed
    ``p99 5.14ms max 5.12ms``. Given the exact max, no percentile exceeds it."""
    from engine.metrics.histogram import bucket_index, bucket_value, percentiles

    value = 5_120  # the bottom of its 40 µs-wide bucket: the midpoint is 5,139.5
    counts = {bucket_index(value): 3}
    assert bucket_value(bucket_index(value)) > value
    assert percentiles(counts, (50, 99))[99] == bucket_value(bucket_index(value))  # no top
    assert percentiles(counts, (50, 99), top=value) == {50: 5_120.0, 99: 5_120.0}
    st = Stats()
    for _ in range(3):
        st.record_response(ORDER_EP, 202, value)
    snap = st.take(1.0)
    assert snap.percentiles_s(99)[99] == snap.max_s == 0.00512
