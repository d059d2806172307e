"""Shard plans: shard i of n gets floor(x·(i+1)/n) − floor(x·i/n) of the VUs,
and the same boundaries, unfloored, of a fractional rate; never a lost or an
extra VU, never a lost fraction of the rate."""

from __future__ import annotations

import math
import random

import pytest

from engine.shards.plan import split

NS = range(1, 65)


def int_totals(n: int, rng: random.Random) -> list[int]:
    return [0, 1, n - 1, n, n + 1, 2 * n - 1, 7, 1000, 3000, rng.randrange(10**6), 10**12 + 3]


def test_integer_shares_add_up_and_differ_by_at_most_one() -> None:
    rng = random.Random(9)
    for n in NS:
        for total in int_totals(n, rng):
            shares = split(total, n)
            assert len(shares) == n
            assert all(isinstance(s, int) and s >= 0 for s in shares)
            assert sum(shares) == total, (total, n, shares)
            assert max(shares) - min(shares) <= 1, (total, n, shares)
            if total < 2**30:  # small enough for float division to floor exactly
                want = [
                    math.floor(total * (i + 1) / n) - math.floor(total * i / n) for i in range(n)
                ]
                assert shares == want


def test_integer_shares_follow_the_floor_formula_exactly() -> None:
    assert split(10, 3) == [3, 3, 4]
    assert split(6, 4) == [1, 2, 1, 2]  # the larger shares spread, not piled up front
    assert split(3000, 64)[0] == 3000 // 64
    assert split(5, 1) == [5]
    assert split(0, 4) == [0, 0, 0, 0]
    # exact for totals where float arithmetic would round
    big = 2**60 + 1
    assert sum(split(big, 7)) == big


def test_rate_shares_add_up_to_the_total_exactly() -> None:
    rng = random.Random(10)
    totals = [0.0, 0.1, 0.5, 2.5, 1 / 3, 5000.0, 1e-300, 1e300, 123456.789]
    totals += [rng.uniform(0, 10_000) for _ in range(40)] + [rng.random() * 1e-3 for _ in range(10)]
    for n in NS:
        for total in totals:
            shares = split(total, n)
            assert len(shares) == n and all(isinstance(s, float) for s in shares)
            assert all(s >= 0 for s in shares)
            assert math.fsum(shares) == total, (total, n, shares)  # exactly
            assert sum(shares) == pytest.approx(total, rel=1e-12, abs=0.0)
            for s in shares:
                assert s == pytest.approx(total / n, rel=1e-9)


def test_bad_plans_are_refused() -> None:
    for total, n in ((10, 0), (10, -1), (-1, 2), (-0.5, 2), (float("nan"), 2), (float("inf"), 2)):
        with pytest.raises(ValueError):
            split(total, n)
    with pytest.raises(ValueError):
        split(True, 2)
