"""--timeline: per-second rows that add up exactly to the merged total, as NDJSON and CSV."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from engine.domain.shape import INGEST_SHAPE
from engine.metrics.histogram import percentiles
from engine.metrics.stats import ENDPOINTS, ERROR_KINDS, Snapshot, Stats, merge_all
from engine.outputs.timeline import COLUMNS, Timeline, TimelineWriter, read_timeline

# endpoint ids by the ingest scenario's own endpoint names (engine/domain/shape.py)
ORDER_EP, DISPUTE_EP, READ_EP = map(INGEST_SHAPE.endpoint_index, ("orders", "disputes", "reads"))


def _deltas(seed: int) -> list[Snapshot]:
    """~12 s of deltas at jittered, unaligned intervals, with a 2.6 s stall after 5 s,
    every endpoint, every error kind and several codes; the last second is partial."""
    rng = random.Random(seed)
    st = Stats()
    out = []
    t = 0.0
    while t < 12.1:
        t += rng.uniform(0.18, 0.33) + (2.6 if 5.0 < t < 5.3 else 0.0)
        for _ in range(rng.randint(0, 40)):
            ep = rng.choice((ORDER_EP, ORDER_EP, DISPUTE_EP, READ_EP))
            r = rng.random()
            if r < 0.04:
                st.record_error(ep, rng.choice(("connect", "timeout", "other")))
            else:
                code = 503 if r < 0.07 else 409 if r < 0.1 else rng.choice((200, 202))
                st.record_response(ep, code, rng.randint(200, 90_000))
        if rng.random() < 0.1:
            st.record_cancelled()
        st.record_lag(rng.randint(0, 3000))
        out.append(st.take(round(t, 3), cpu_s=0.05))
    return out


def _check_sums(rows: list[dict[str, object]], total: Snapshot) -> None:
    def col(name: str) -> int:
        return sum(int(r[name] or 0) for r in rows)  # type: ignore[call-overload]

    assert [r["t"] for r in rows] == list(range(len(rows)))
    assert col("requests") == total.total
    assert col("success") == total.success and col("errors") == total.errors
    assert col("cancelled") == total.cancelled
    for e in ENDPOINTS:
        assert col(e) == total.endpoint(e).total
        assert col(f"{e}_errors") == total.endpoint(e).errors
    for k in ERROR_KINDS:
        assert col(f"errors_{k}") == total.errors_by_kind.get(k, 0)
    for c in range(1, 6):
        want = sum(n for code, n in total.status_codes.items() if code // 100 == c)
        assert col(f"codes_{c}xx") == want


def test_rows_add_up_exactly_to_the_merged_total(tmp_path: Path) -> None:
    deltas = _deltas(seed=11)
    total = merge_all(deltas)
    assert total.errors_by_kind.get("timeout") and total.cancelled  # the data covers it
    with TimelineWriter(tmp_path / "run.ndjson") as w:
        for d in deltas:
            w.on_snapshot(d)
    rows = w.rows
    assert len(rows) == int(deltas[-1].end) + 1  # the partial last second is there
    _check_sums(rows, total)
    back = read_timeline(tmp_path / "run.ndjson")
    assert back == json.loads(json.dumps(rows))
    codes: dict[str, int] = {}
    for r in back:
        for c, n in r["codes"].items():
            codes[c] = codes.get(c, 0) + n
    assert codes == {str(c): n for c, n in total.status_codes.items()}
    stalled = [r for r in rows if r["requests"] == 0 and r["p99_ms"] is None]
    assert len(stalled) >= 2  # the stall's seconds are rows of zeros, not holes


def test_csv_has_fixed_columns_and_the_same_sums(tmp_path: Path) -> None:
    deltas = _deltas(seed=12)
    path = tmp_path / "run.csv"
    w = TimelineWriter(path)
    for d in deltas:
        w.on_snapshot(d)
    w.close()
    w.close()  # idempotent
    header = path.read_text().splitlines()[0]
    assert header.split(",") == list(COLUMNS)
    rows = read_timeline(path)
    _check_sums(rows, merge_all(deltas))
    assert all("codes" not in r for r in rows)


def test_each_row_holds_exactly_the_deltas_ending_in_its_second() -> None:
    deltas = _deltas(seed=13)
    tl = Timeline()
    rows = [r for d in deltas for r in tl.add(d)] + tl.finish()
    for row in rows:
        mine = [d for d in deltas if int(d.end - 1e-9) == row["t"]]
        part = merge_all(mine, start=mine[0].start if mine else 0.0)
        assert row["requests"] == part.total
        p = percentiles(part.latency, (50, 99), part.latency_max_us)  # none above the max
        if p[99] is None:
            assert row["p99_ms"] is None and row["max_ms"] is None
        else:
            assert row["p99_ms"] == pytest.approx(p[99] / 1000, abs=1e-3)
            assert row["p50_ms"] == pytest.approx(p[50] / 1000, abs=1e-3)  # type: ignore[operator]
            assert row["max_ms"] == part.latency_max_us / 1000
        if mine:
            assert row["cpu_pct"] == pytest.approx(100 * part.cpu_s / part.elapsed, abs=0.05)
            lag = percentiles(part.loop_lag, (99,))[99]
            assert lag is not None and row["loop_lag_p99_ms"] == pytest.approx(lag / 1000, abs=1e-3)
            d = part.endpoint("disputes")
            d_p99 = percentiles(d.latency, (99,), d.latency_max_us)[99]
            want = None if d_p99 is None else pytest.approx(d_p99 / 1000, abs=1e-3)
            assert row["disputes_p99_ms"] == want


def test_vus_and_arrival_rate_come_from_the_callables() -> None:
    level = {"vus": 0.0}

    def vus() -> float:
        level["vus"] += 1
        return level["vus"]

    tl = Timeline(vus=vus, arrival_rate=lambda: 50.0)
    st = Stats()
    rows = []
    for i in range(8):  # 2 s at 4 Hz: vus() is sampled 8 times, 1..8
        st.record_response(ORDER_EP, 202, 1000)
        rows += tl.add(st.take((i + 1) * 0.25))
    rows += tl.finish()
    assert [r["vus"] for r in rows] == [4, 8]
    assert [r["arrival_rate"] for r in rows] == [50.0, 50.0]
    assert Timeline().finish() == []
    plain = Timeline()
    plain.add(Snapshot(start=0, end=0.25, requests=(1, 0, 0), endpoint_names=ENDPOINTS, success=1))
    assert plain.finish()[0]["vus"] is None
