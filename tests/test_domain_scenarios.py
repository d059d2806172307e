"""The order state machine, and the journeys the default run (the built-in
``ingest`` file) plans are valid, bounded, reproducible."""

from __future__ import annotations

import random

import pytest

from engine.domain.statuses import (
    DisputeStatus,
    OrderStatus,
    can_be_updated_to,
    can_dispute_move_to,
)
from engine.scenario.rng import vu_rng
from tests.fixed_walker import planner, words

C, U, S, F = OrderStatus.CREATED, OrderStatus.UPDATED, OrderStatus.SUCCESS, OrderStatus.FAILED


def test_state_machine_is_the_contract_table() -> None:
    allowed = {
        None: {C},
        C: {U, S, F},
        U: {U, S, F},
        S: set(),
        F: set(),
    }
    for current, nexts in allowed.items():
        for nxt in OrderStatus:
            assert can_be_updated_to(current, nxt) == (nxt in nexts), (current, nxt)


def test_dispute_lifecycle_is_the_contract_table() -> None:
    """The table plan_dispute walks (and the target's rules should agree with)."""
    Op, Up, Cl = DisputeStatus.OPENED, DisputeStatus.UPDATED, DisputeStatus.CLOSED
    allowed: dict[DisputeStatus | None, set[DisputeStatus]] = {
        None: {Op},
        Op: {Up, Cl},
        Up: {Up, Cl},
        Cl: set(),
    }
    for current, nexts in allowed.items():
        for nxt in DisputeStatus:
            assert can_dispute_move_to(current, nxt) == (nxt in nexts), (current, nxt)


@pytest.mark.parametrize("max_updates", [0, 1, 3, 10])
def test_every_generated_order_is_valid_and_bounded(max_updates: int) -> None:
    walker = planner(max_updates=max_updates)
    rng = random.Random(7)
    for _ in range(3000):
        seq = words(walker.plan(rng).root)
        current = None
        for status in seq:
            assert can_be_updated_to(current, OrderStatus(status)), seq
            current = OrderStatus(status)
        assert seq[0] == C and seq[-1] in (S, F)
        assert seq.count(U) <= max_updates


def test_orders_reach_both_terminals_and_use_updates() -> None:
    """The plan's first-candidate pick never left `updated`; random choice does."""
    walker = planner()
    rng = random.Random(1)
    seqs = [words(walker.plan(rng).root) for _ in range(3000)]
    finals = [s[-1] for s in seqs]
    assert 0.4 < finals.count(S) / len(finals) < 0.6
    assert any(U in s for s in seqs)
    assert any(s.count(U) == 3 for s in seqs)


def test_every_dispute_plan_is_a_valid_lifecycle() -> None:
    walker = planner(dispute_ratio=1.0)
    rng = random.Random(3)
    plans = [c for _ in range(8000) for c in walker.plan(rng).root.children]
    assert len(plans) > 3000
    for p in plans:
        current = None
        for status in words(p):
            assert can_dispute_move_to(current, DisputeStatus(status))
            current = DisputeStatus(status)
        assert current is DisputeStatus.CLOSED
    # every path the lifecycle allows within one update, and no other
    Op, Up, Cl = DisputeStatus.OPENED, DisputeStatus.UPDATED, DisputeStatus.CLOSED
    assert {words(p) for p in plans} == {(Op, Cl), (Op, Up, Cl)}
    with_update = sum(1 for p in plans if Up in words(p)) / len(plans)
    won = sum(1 for p in plans if p.steps[-1].state.name == "won") / len(plans)
    assert 0.45 < with_update < 0.55
    assert 0.45 < won < 0.55


@pytest.mark.parametrize("ratio", [0.0, 0.3, 1.0])
def test_dispute_share_converges_to_ratio_and_only_after_success(ratio: float) -> None:
    walker = planner(dispute_ratio=ratio)
    rng = random.Random(11)
    journeys = [walker.plan(rng).root for _ in range(20000)]
    successes = [j for j in journeys if words(j)[-1] == S]
    assert all(not j.children for j in journeys if words(j)[-1] != S)
    share = sum(1 for j in successes if j.children) / len(successes)
    assert abs(share - ratio) < 0.02


def test_seed_reproduces_choices_and_vus_differ() -> None:
    walker = planner(read_ratio=0.1)

    def draw(seed: int | None, vu: int) -> list[object]:
        rng = vu_rng(seed, 0, vu)
        out: list[object] = []
        for _ in range(50):
            run = walker.plan(rng).root
            out.append((words(run), run.read_back, [words(c) for c in run.children]))
        return out

    assert draw(42, 0) == draw(42, 0)
    assert draw(42, 0) != draw(42, 1)
    assert draw(42, 0) != draw(43, 0)


def test_order_sample_is_bounded_and_uniform() -> None:
    from engine.run.verify import OrderSample

    hits = [0] * 100
    for trial in range(400):
        sample = OrderSample(10, random.Random(trial))
        for i in range(100):
            sample.offer(str(i), "success")
        assert len(sample.items) == 10 and sample.seen == 100
        for order_id, _ in sample.items:
            hits[int(order_id)] += 1
    # each of 100 orders is kept with p = 0.1: 40 expected of 400 trials
    assert min(hits) > 15 and max(hits) < 70
    assert OrderSample(0, random.Random(1)).items == []
