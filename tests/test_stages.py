"""Ramp stages (``--stages``): parsing, and exact schedules on virtual time
(a fake clock and a fake transport: no sleeps, no sockets, no timing)."""

from __future__ import annotations

import itertools
import math
import random

import anyio
import pytest

from engine.config import ConfigError, build_config
from engine.domain.stages import Stage, arrival_offsets, parse_stages, target_at, vu_changes
from engine.domain.statuses import OrderStatus as O
from engine.load.clock import FakeClock
from engine.load.closed import ClosedModel
from engine.metrics.stats import Stats
from engine.transports.fake import FakeTransport
from tests.fixed_walker import FixedWalker, Steps
from tests.helpers import legacy

pytestmark = pytest.mark.anyio

EXACT = 1e-9


def test_stages_parse_and_set_the_duration() -> None:
    cfg = build_config({"stages": "30s:10, 1m:100,30s:0"})
    assert cfg.stages == "30s:10,1m0s:100,30s:0"  # Go-style durations
    assert cfg.duration == 120.0 and cfg.vus == 0  # the closed ramp starts from 0
    assert build_config({"stages": "10s:5", "vus": "3"}).vus == 3  # or from --vus
    assert parse_stages("500ms:2.5") == (Stage(0.5, 2.5),)
    assert build_config({"stages": "1s:2.5", "rate": "1"}).stages == "1s:2.5"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"stages": "30s"},
            "--stages must be stages like 30s:10,1m:100,30s:0 (DURATION:TARGET, "
            "comma-separated), got '30s'",
        ),
        (
            {"stages": "30s:ten"},
            "--stages must be stages like 30s:10,1m:100,30s:0 (DURATION:TARGET, "
            "comma-separated), got '30s:ten'",
        ),
        (
            {"stages": "0s:10"},
            "--stages must be stages like 30s:10,1m:100,30s:0 (DURATION:TARGET, "
            "comma-separated), got '0s:10'",
        ),
        (
            {"stages": "10s:-1"},
            "--stages must be stages like 30s:10,1m:100,30s:0 (DURATION:TARGET, "
            "comma-separated), got '10s:-1'",
        ),
        (
            {"stages": "10s:5", "duration": "20s"},
            "--duration must be left out with --stages (the run lasts the stages' sum), got '20s'",
        ),
        (
            {"stages": "10s:2.5"},
            "--stages must be whole VU counts without --rate, like 30s:10, got '10s:2.5'",
        ),
    ],
)
def test_bad_stages_get_one_clear_line(raw: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        build_config(raw)
    assert str(info.value) == message


def test_vu_targets_change_exactly_when_the_line_reaches_them() -> None:
    """0 -> 10 over 10 s, then 10 -> 0 over 5 s: one more VU each second, then
    one fewer each half second."""
    changes = vu_changes(parse_stages("10s:10,5s:0"), 0)
    up = [(float(n), n) for n in range(1, 11)]
    down = [(10 + 0.5 * (10 - n), n) for n in range(9, -1, -1)]
    assert changes == pytest.approx(up + down, abs=EXACT)
    assert vu_changes(parse_stages("5s:3,5s:3"), 3) == []  # flat: no change
    assert target_at(parse_stages("10s:10,5s:0"), 0, 12.5) == (1, 5.0)


def test_arrivals_follow_the_ramp_exactly() -> None:
    """Rate 0 -> 10/s over 10 s: arrival k is due when t^2/2 = k (t = sqrt(2k));
    a flat stage at R is k/R; a ramp down from 10/s over 10 s: 10t - t^2/2 = k."""
    up = list(arrival_offsets(parse_stages("10s:10"), 0.0))
    assert up == pytest.approx([math.sqrt(2 * k) for k in range(1, 50)], abs=EXACT)
    flat = list(arrival_offsets(parse_stages("2s:4"), 4.0))
    assert flat == pytest.approx([k / 4 for k in range(8)], abs=EXACT)
    down = list(arrival_offsets(parse_stages("10s:0"), 10.0))
    assert down == pytest.approx([10 - math.sqrt(100 - 2 * k) for k in range(50)], abs=EXACT)
    assert list(arrival_offsets(parse_stages("5s:0"), 0.0)) == []  # rate 0: none
    both = list(arrival_offsets(parse_stages("10s:10,10s:10"), 0.0))
    assert both[49:52] == pytest.approx([10.0, 10.1, 10.2], abs=EXACT)  # then 10/s flat


async def test_the_closed_model_ramps_vus_up_and_parks_them_down() -> None:
    """Stages 1s:2,1s:0 from 0 VUs; journeys of two steps 0.12 s apart. VU 0
    starts at 0.5 s (the target reaches 1), VU 1 at 1.0 s; the target falls to 1
    at 1.5 s and 0 at 2.0 s: each VU finishes the journey it is in, then parks
    (no journey starts after that), none is cut off."""
    log: list[tuple[float, int]] = []  # (virtual time, VU) of each journey's start
    rngs = [random.Random(i) for i in range(2)]
    stats = Stats()
    async with FakeClock() as clock:

        def plan(rng: random.Random) -> Steps:
            log.append((clock.now(), rngs.index(rng)))
            return Steps((O.CREATED, O.SUCCESS))

        walker = FixedWalker(
            plan,
            transport=FakeTransport(lambda _: 202, clock=clock.now),
            stats=stats,
            think=0.12,
            now=clock.now,
            sleep=clock.sleep,
        )
        model = ClosedModel(0, 0.12, rngs.__getitem__, vu_changes(parse_stages("1s:2,1s:0"), 0))
        with anyio.fail_after(20), clock.deadline(3.0):
            await model.drive(walker, clock)
    vu0 = [t for t, vu in log if vu == 0]
    vu1 = [t for t, vu in log if vu == 1]
    assert vu0 == pytest.approx([0.5 + 0.12 * k for k in range(13)], abs=EXACT)  # last 1.94
    assert vu1 == pytest.approx([1.0 + 0.12 * k for k in range(5)], abs=EXACT)  # last 1.48
    assert legacy(stats.take(3.0).scenarios)["orders_success"] == len(log)  # every one finished
    assert list(itertools.chain(vu0, vu1)) and model.target == 0
