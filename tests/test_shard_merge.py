"""Snapshot merging is associative and commutative, so a coordinator may merge
shards' deltas in whatever order they arrive, and windows in any grouping, and
get one run: every field, the per-shard health, the per-endpoint breakdowns
and the failure sample included. A seeded loop of random cases (no hypothesis)."""

from __future__ import annotations

import pickle
import random

from engine.domain.shape import INGEST_SHAPE
from engine.metrics.failures import SAMPLE_MAX
from engine.metrics.health import ShardHealth
from engine.metrics.stats import Snapshot, Stats, merge_all

# endpoint ids by the ingest scenario's own endpoint names (engine/domain/shape.py)
ORDER_EP, DISPUTE_EP, READ_EP = map(INGEST_SHAPE.endpoint_index, ("orders", "disputes", "reads"))

KINDS = ("connect", "timeout", "other")
CASES = 300


def random_delta(rng: random.Random) -> Snapshot:
    """What one shard's Stats hands out over a random span: requests on every
    endpoint, failures of many kinds (some identical), lag, CPU, outcomes."""
    shard = rng.randrange(4)
    since = rng.randrange(0, 40) * 0.25 + rng.random() * 0.01
    st = Stats(since=since, shard=shard)
    for _ in range(rng.randrange(0, 60)):
        ep = rng.choice((ORDER_EP, ORDER_EP, DISPUTE_EP, READ_EP))
        r = rng.random()
        if r < 0.15:
            st.record_error(ep, rng.choice(KINDS), f"refused #{rng.randrange(4)}")
        elif r < 0.4:
            body = f'{{"error": "bad {rng.randrange(3)}"}}'.encode()
            st.record_response(
                ep, rng.choice((400, 404, 409, 422, 500, 503)), rng.randrange(90_000), body
            )
        elif r < 0.45:
            st.record_cancelled()
        else:
            st.record_response(ep, rng.choice((200, 202)), int(rng.lognormvariate(8, 1.5)))
    for _ in range(rng.randrange(0, 8)):
        st.record_lag(rng.randrange(0, 40_000))
    for _ in range(rng.randrange(0, 4)):
        st.scenario(rng.choice(("orders_started", "orders_success", "disputes_won")))
    snap = st.take(
        since + rng.choice((0.25, 0.5, 1.0)) + rng.random() * 0.01, cpu_s=rng.random() * 0.3
    )
    if rng.random() < 0.3:  # sometimes a sum of a shard's consecutive deltas
        for _ in range(rng.randrange(1, 4)):
            st.record_response(ORDER_EP, rng.choice((202, 503)), rng.randrange(50_000), b"busy")
            st.record_lag(rng.randrange(0, 20_000))
            snap = snap + st.take(snap.end + 0.25, cpu_s=rng.random() * 0.2)
    return snap


def test_merging_is_commutative_and_associative() -> None:
    rng = random.Random(2024)
    shards_seen: set[int] = set()
    pools_full = 0
    for _ in range(CASES):
        a, b, c = random_delta(rng), random_delta(rng), random_delta(rng)
        assert a + b == b + a
        assert (a + b) + c == a + (b + c)
        abc = (a + b) + c
        assert abc == (c + a) + b == b + (c + a)
        shards_seen.update(abc.health)
        pools_full += len(abc.failures) > SAMPLE_MAX
        # the fields the shards care about, checked on their own as well
        assert dict(abc.health) == dict((c + (b + a)).health)
        assert abc.failures == (c + b + a).failures
        assert abc.endpoint_latency == (b + c + a).endpoint_latency
    assert shards_seen == {0, 1, 2, 3}  # the cases did mix shards
    assert pools_full > 0  # and failure pools large enough to be cut


def test_any_order_of_many_deltas_gives_the_same_run() -> None:
    rng = random.Random(7)
    for _ in range(40):
        deltas = [random_delta(rng) for _ in range(rng.randrange(2, 9))]
        want = merge_all(deltas)
        for _ in range(5):
            rng.shuffle(deltas)
            assert merge_all(deltas) == want
            # any grouping: merge two halves apart, then together
            cut = rng.randrange(1, len(deltas))
            assert merge_all(deltas[:cut]) + merge_all(deltas[cut:]) == want


def test_per_shard_health_adds_within_a_shard_and_stays_apart_across() -> None:
    s0, s1 = Stats(shard=0), Stats(shard=1)
    s0.record_lag(1000)
    s1.record_lag(30_000)
    a0, a1 = s0.take(0.25, cpu_s=0.1), s1.take(0.25, cpu_s=0.2)
    s0.record_lag(2000)
    b0 = s0.take(0.5, cpu_s=0.05)
    total = a0 + a1 + b0
    assert set(total.health) == {0, 1}
    assert total.health[0].cpu_us == 150_000 and total.health[0].span_us == 500_000
    assert total.health[1] == ShardHealth(a1.health[1].loop_lag, 200_000, 250_000)
    assert sum(total.health[0].loop_lag.values()) == 2
    # the pooled accessors: every shard's samples and CPU seconds together
    assert sum(total.loop_lag.values()) == 3 and total.cpu_s == 0.35


def test_multi_shard_snapshots_pickle_and_stay_read_only() -> None:
    rng = random.Random(3)
    snap = merge_all([random_delta(rng) for _ in range(12)])
    assert len(snap.health) > 1 and snap.failures
    back = pickle.loads(pickle.dumps(snap))
    assert back == snap
    health = back.health[min(back.health)]
    assert isinstance(health, ShardHealth) and health == snap.health[min(snap.health)]
    for mapping in (back.health, health.loop_lag):
        try:
            mapping[99] = mapping[min(mapping)]  # type: ignore[index]
        except TypeError:
            continue
        raise AssertionError(f"{type(mapping)} is writable")


def test_the_first_failures_are_the_runs_first_whatever_shard_reports_first() -> None:
    """Shard 1's failure in the first quarter second comes before shard 0's in
    the second, however the deltas arrive: places share the run's time base."""
    late, early = Stats(since=0.25, shard=0), Stats(since=0.0, shard=1)
    late.record_error(ORDER_EP, "connect", "late")
    early.record_error(ORDER_EP, "timeout", "early")
    d_late, d_early = late.take(0.5), early.take(0.25)
    for total in (d_late + d_early, d_early + d_late):
        assert [f.detail for f in total.sample_failures] == ["early", "late"]
