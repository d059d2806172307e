"""The generator's health is judged per shard: merged deltas of two shards at
half a core each are two healthy processes, not one saturated at 100 %, and a
stall in one shard's loop is not diluted by a calm one. Every consumer (the
summary text and JSON, the progress line, the window, the timeline, the
metrics endpoint) keeps shards apart and names the saturated one."""

from __future__ import annotations

import io
from collections.abc import Iterable

import pytest
from prometheus_client.core import Metric

from engine.domain.shape import INGEST_SHAPE
from engine.metrics.saturation import judge
from engine.metrics.stats import Snapshot, Stats, merge_all
from engine.metrics.window import SnapshotWindow
from engine.outputs.prometheus import LiveMetrics
from engine.outputs.summary import detail_lines, summary_json
from engine.outputs.timeline import make_row
from tui.headless import ProgressLine

ORDER_EP = INGEST_SHAPE.endpoint_index("orders")  # by the scenario's endpoint name

TICK = 0.25
OLD_GENERATOR_KEYS = {
    "loop_lag_p99_ms",
    "loop_lag_max_ms",
    "cpu_pct",
    "loop_lag_p99_limit_ms",
    "cpu_limit_pct",
}


def shard_deltas(
    shard: int, *, cpu_share: float, lag_us: int, lag_samples: int = 10, seconds: float = 2.0
) -> list[Snapshot]:
    """One shard's deltas: ``cpu_share`` of a core, every loop-lag sample ``lag_us``."""
    st = Stats(shard=shard)
    out = []
    for i in range(round(seconds / TICK)):
        for _ in range(20):
            st.record_response(ORDER_EP, 202, 1500)
        for _ in range(lag_samples):
            st.record_lag(lag_us)
        out.append(st.take((i + 1) * TICK, cpu_s=cpu_share * TICK))
    return out


def interleaved(*streams: list[Snapshot]) -> list[Snapshot]:
    """As a coordinator receives them: one delta of each shard in turn."""
    return [d for group in zip(*streams, strict=True) for d in group]


def two_calm_halves() -> list[Snapshot]:
    return interleaved(
        shard_deltas(0, cpu_share=0.5, lag_us=300), shard_deltas(1, cpu_share=0.5, lag_us=300)
    )


def one_stalled_shard() -> list[Snapshot]:
    """Shard 1's loop is 25 ms late on every sample but takes few samples; shard 0
    takes many on time: pooled, shard 1's lag is under 1 % and p99 looks calm."""
    return interleaved(
        shard_deltas(0, cpu_share=0.5, lag_us=300, lag_samples=400),
        shard_deltas(1, cpu_share=0.5, lag_us=25_000, lag_samples=2),
    )


def test_two_shards_at_half_a_core_are_not_saturated() -> None:
    total = merge_all(two_calm_halves())
    assert set(total.health) == {0, 1}
    sat = judge(total)
    assert not sat.saturated
    assert [s.shard for s in sat.shards] == [0, 1]
    assert [s.cpu_pct for s in sat.shards] == [pytest.approx(50.0)] * 2
    assert sat.cpu_pct == pytest.approx(50.0)  # the highest shard's, not a sum
    assert total.cpu_s == pytest.approx(2.0)  # all processes' CPU seconds, for per-CPU rates
    assert "highest of 2 shards" in sat.describe()


def test_a_stall_in_one_shard_is_named_and_not_diluted() -> None:
    total = merge_all(one_stalled_shard())
    sat = judge(total)
    assert sat.saturated
    assert [s.shard for s in sat.hot] == [1]
    assert sat.loop_lag_p99_ms == pytest.approx(25.0, rel=0.01)
    assert sat.describe() == "shard 1: loop lag p99 25.0ms, CPU 50% of a core"


def test_one_shard_reads_as_before() -> None:
    total = merge_all(shard_deltas(0, cpu_share=0.3, lag_us=25_000))
    sat = judge(total)
    assert sat.describe() == "loop lag p99 25.0ms, CPU 30% of a core"
    doc = summary_json(total, total.elapsed, {})
    assert set(doc["generator"]) == OLD_GENERATOR_KEYS  # no "shards" for one shard
    assert doc["generator_saturated"] is True


def test_summary_text_and_json_keep_shards_apart() -> None:
    calm = merge_all(two_calm_halves())
    lines = detail_lines(calm)
    assert lines[-1].startswith("Generator: ") and lines[-1].endswith("(not saturated)")
    doc = summary_json(calm, calm.elapsed, {})
    assert doc["generator_saturated"] is False
    assert doc["generator"]["cpu_pct"] == pytest.approx(50.0)
    assert [s["shard"] for s in doc["generator"]["shards"]] == [0, 1]
    assert [s["cpu_pct"] for s in doc["generator"]["shards"]] == [pytest.approx(50.0)] * 2

    stalled = merge_all(one_stalled_shard())
    line = detail_lines(stalled)[-1]
    assert line.startswith("Generator: shard 1: loop lag p99 25.0ms, CPU 50% of a core")
    assert "SATURATED" in line and "shard 0" not in line
    gen = summary_json(stalled, stalled.elapsed, {})["generator"]
    assert gen["saturated_shards"] == [1]
    by_shard = {s["shard"]: s for s in gen["shards"]}
    assert by_shard[1]["saturated"] is True and by_shard[0]["saturated"] is False
    assert by_shard[1]["loop_lag_p99_ms"] == pytest.approx(25.0, rel=0.01)
    assert by_shard[0]["loop_lag_p99_ms"] == pytest.approx(0.3, rel=0.01)


def test_the_progress_line_names_the_saturated_shard() -> None:
    calm, stalled = io.StringIO(), io.StringIO()
    calm_line, stalled_line = ProgressLine(calm, 2.0, True), ProgressLine(stalled, 2.0, True)
    for d in two_calm_halves():
        calm_line.on_snapshot(d)
    for d in one_stalled_shard():
        stalled_line.on_snapshot(d)
    assert "saturated" not in calm_line.render()
    assert "! generator saturated (shard 1: loop lag p99 25.0ms" in stalled_line.render()


def test_the_window_keeps_shards_apart() -> None:
    w = SnapshotWindow()
    for d in two_calm_halves():
        w.add(d)
    health = w.last_health(1.0)
    assert set(health.health) == {0, 1}
    assert [s.cpu_pct for s in judge(health).shards] == [pytest.approx(50.0)] * 2
    assert dict(health.health) == dict(w.last(1.0).health)
    assert w.rate(1.0) == pytest.approx(40 / TICK)  # both shards' requests count
    # a late delta of one shard (older end) does not move the window's "now" back
    w.add(shard_deltas(2, cpu_share=0.1, lag_us=100, seconds=0.25)[0])
    assert w.now == 2.0


def test_timeline_rows_show_the_highest_shard_not_a_sum() -> None:
    row = make_row(1, merge_all(two_calm_halves()[:8]), None, None)
    assert row["cpu_pct"] == pytest.approx(50.0)
    row = make_row(1, merge_all(one_stalled_shard()[:8]), None, None)
    assert row["loop_lag_p99_ms"] == pytest.approx(25.0, rel=0.01)


def samples(metrics: Iterable[Metric]) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value for fam in metrics for s in fam.samples
    }


def test_metrics_endpoint_has_a_saturation_gauge_per_shard() -> None:
    metrics = LiveMetrics()
    for d in one_stalled_shard():
        metrics.on_snapshot(d)
    s = samples(metrics.collect())
    assert s[("webhookload_generator_saturated", (("shard", "1"),))] == 1
    assert s[("webhookload_generator_saturated", (("shard", "0"),))] == 0
    for shard in ("0", "1"):
        assert s[("webhookload_generator_cpu_ratio", (("shard", shard),))] == pytest.approx(0.5)
    lag = s[("webhookload_generator_loop_lag_p99_seconds", (("shard", "1"),))]
    assert lag == pytest.approx(0.025, rel=0.01)
