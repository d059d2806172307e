"""Per-endpoint numbers in snapshots: recorded per endpoint, summed run-wide at take()."""

from __future__ import annotations

import pickle
import random

import pytest

from engine.domain.shape import INGEST_SHAPE
from engine.metrics.histogram import bucket_index, percentiles
from engine.metrics.stats import ENDPOINTS, Snapshot, Stats, merge_all

# endpoint ids by the ingest scenario's own endpoint names (engine/domain/shape.py)
ORDER_EP, DISPUTE_EP, READ_EP = map(INGEST_SHAPE.endpoint_index, ("orders", "disputes", "reads"))


def _hist(values: list[int]) -> dict[int, int]:
    h: dict[int, int] = {}
    for v in values:
        h[bucket_index(v)] = h.get(bucket_index(v), 0) + 1
    return h


def _record_mixed(seed: int, n: int) -> tuple[list[Snapshot], dict[int, list[tuple[int, int]]]]:
    """Random responses and errors on all three endpoints, taken in 4 deltas;
    also returns the raw (status, latency) samples per endpoint (status 0 = error)."""
    rng = random.Random(seed)
    st = Stats()
    raw: dict[int, list[tuple[int, int]]] = {ORDER_EP: [], DISPUTE_EP: [], READ_EP: []}
    deltas: list[Snapshot] = []
    for i in range(n):
        ep = rng.choice((ORDER_EP, ORDER_EP, DISPUTE_EP, READ_EP))
        if rng.random() < 0.05:
            st.record_error(ep, rng.choice(("connect", "timeout", "other")))
            raw[ep].append((0, 0))
        else:
            status = rng.choice((200, 202, 202, 202, 404, 409, 503))
            # disputes are slower, so a mix-up between endpoints shows in percentiles
            lat = rng.randint(100, 5_000) * (20 if ep == DISPUTE_EP else 1)
            st.record_response(ep, status, lat)
            raw[ep].append((status, lat))
        if i % (n // 4) == n // 4 - 1:
            deltas.append(st.take((len(deltas) + 1) * 0.25))
    return deltas, raw


def test_endpoint_views_match_what_each_endpoint_got() -> None:
    deltas, raw = _record_mixed(seed=3, n=4000)
    total = merge_all(deltas)
    for i, name in enumerate(ENDPOINTS):
        view = total.endpoint(name)
        samples = raw[i]
        lats = [lat for status, lat in samples if status]
        assert view.total == len(samples)
        assert view.errors == sum(1 for s, _ in samples if s == 0 or s >= 400)
        assert view.success == sum(1 for s, _ in samples if 0 < s < 400)
        assert dict(view.status_codes) == {
            c: sum(1 for s, _ in samples if s == c) for c in {s for s, _ in samples if s}
        }
        assert sum(view.errors_by_kind.values()) == view.errors
        assert dict(view.latency) == _hist(lats)
        assert view.latency_sum_us == sum(lats) and view.latency_max_us == max(lats)
        assert view.percentiles_s(99) == {99: percentiles(_hist(lats), [99])[99] / 1e6}  # type: ignore[operator]
        assert (view.start, view.end) == (total.start, total.end)
    # the disputes' p50 is far above the orders': the views are not all the same numbers
    p_orders = total.endpoint("orders").percentiles_s(50)[50]
    p_disputes = total.endpoint("disputes").percentiles_s(50)[50]
    assert p_orders is not None and p_disputes is not None and p_disputes > 5 * p_orders


def test_run_wide_fields_are_the_sum_of_the_endpoints() -> None:
    deltas, raw = _record_mixed(seed=8, n=2000)
    for snap in [*deltas, merge_all(deltas)]:
        views = [snap.endpoint(n) for n in ENDPOINTS]
        assert snap.total == sum(v.total for v in views)
        assert snap.errors == sum(v.errors for v in views)
        assert snap.success == sum(v.success for v in views)
        codes: dict[int, int] = {}
        kinds: dict[str, int] = {}
        hist: dict[int, int] = {}
        for v in views:
            for c, k in v.status_codes.items():
                codes[c] = codes.get(c, 0) + k
            for kind, k in v.errors_by_kind.items():
                kinds[kind] = kinds.get(kind, 0) + k
            for b, k in v.latency.items():
                hist[b] = hist.get(b, 0) + k
        assert dict(snap.status_codes) == codes
        assert dict(snap.errors_by_kind) == kinds
        assert dict(snap.latency) == hist
        assert snap.latency_sum_us == sum(v.latency_sum_us for v in views)
        assert snap.latency_max_us == max(v.latency_max_us for v in views)
    all_lats = [lat for samples in raw.values() for s, lat in samples if s]
    assert dict(merge_all(deltas).latency) == _hist(all_lats)


def test_chargebacks_is_the_disputes_endpoint_and_unknown_names_raise() -> None:
    st = Stats()
    st.record_response(DISPUTE_EP, 202, 900)
    st.record_response(ORDER_EP, 202, 100)
    snap = st.take(0.25)
    assert snap.endpoint("chargebacks") == snap.endpoint("disputes")
    assert snap.endpoint("chargebacks").total == 1
    assert snap.endpoint("chargebacks").latency_max_us == 900
    with pytest.raises(KeyError):
        snap.endpoint("refunds")


def test_endpoint_fields_merge_pickle_and_stay_read_only() -> None:
    st = Stats()
    st.record_response(ORDER_EP, 202, 1500)
    st.record_response(READ_EP, 404, 300)
    st.record_error(DISPUTE_EP, "timeout")
    d1 = st.take(0.25)
    st.record_response(READ_EP, 200, 700)
    d2 = st.take(0.5)
    total = d1 + d2
    reads = total.endpoint("reads")
    assert (reads.total, reads.errors, dict(reads.status_codes)) == (2, 1, {404: 1, 200: 1})
    assert dict(reads.errors_by_kind) == {"http_4xx": 1}
    assert reads.latency_max_us == 700 and reads.latency_sum_us == 1000
    assert dict(total.endpoint("disputes").errors_by_kind) == {"timeout": 1}
    back = pickle.loads(pickle.dumps(total))
    assert back == total
    assert back.endpoint("reads") == reads
    with pytest.raises(TypeError):
        back.endpoint_codes[READ_EP][200] = 5
    with pytest.raises(TypeError):
        d1.endpoint_latency[ORDER_EP][0] = 1  # type: ignore[index]


def test_a_hand_built_snapshot_has_empty_endpoint_views() -> None:
    """Consumers that build Snapshots themselves (windows, scripted tests) still work."""
    snap = Snapshot(
        requests=(3, 0, 0), endpoint_names=ENDPOINTS, success=3, latency={5: 3}
    ) + Snapshot(requests=(0, 0, 1), endpoint_names=ENDPOINTS, success=1)
    view = snap.endpoint("orders")
    assert view.total == 3 and view.errors == 0 and view.percentiles_s(50)[50] is None


STRIPE_LIKE = ("stripe", "create_payment", "reads")


def test_a_scenarios_own_endpoints_are_counted_by_index_and_named() -> None:
    st = Stats(endpoints=STRIPE_LIKE)
    st.record_response(0, 200, 100)
    st.record_response(0, 500, 300, b"boom")
    st.record_response(1, 201, 200)
    st.record_error(2, "timeout", "slow")
    snap = st.take(0.25)
    assert snap.endpoint_names == STRIPE_LIKE and snap.requests == (2, 1, 1)
    assert snap.total == 4 and snap.count("stripe") == 2 and snap.count("nope") == 0
    assert (snap.count("orders"), snap.count("disputes"), snap.reads) == (0, 0, 1)
    view = snap.endpoint("stripe")
    assert (view.total, view.errors, dict(view.status_codes)) == (2, 1, {200: 1, 500: 1})
    assert view.endpoint_names == ("stripe",) and view.latency_max_us == 300
    assert [f.endpoint for f in snap.failures] == ["stripe", "reads"]
    with pytest.raises(KeyError, match="did you mean 'stripe'"):
        snap.endpoint("strip")
    again = pickle.loads(pickle.dumps(snap))
    assert again == snap and again.endpoint_names == STRIPE_LIKE


def test_merge_requires_equal_names_and_the_zero_adds_to_any() -> None:
    a, b = Stats(endpoints=STRIPE_LIKE), Stats()
    a.record_response(1, 201, 200)
    b.record_response(ORDER_EP, 202, 100)
    da, db = a.take(0.25), b.take(0.25)
    total = Snapshot() + da + da
    assert total.endpoint_names == STRIPE_LIKE and total.requests == (0, 2, 0)
    assert (da + Snapshot()).requests == da.requests
    with pytest.raises(ValueError, match="cannot merge the snapshots of endpoints"):
        _ = da + db
