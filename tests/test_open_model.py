"""The open model (``--rate``) on virtual time: a fake clock (no sleeps) and a
fake service (no sockets). Times are virtual, exact by construction, so they
are asserted to the nanosecond; nothing here measures real time."""

from __future__ import annotations

import random
from collections.abc import Callable

import anyio
import orjson
import pytest

from engine.config import ConfigError, build_config
from engine.load.clock import FakeClock
from engine.load.open import OpenModel
from engine.metrics.stats import Snapshot, Stats
from engine.outputs.summary import result_json, result_lines
from engine.run.runner import Runner
from engine.transports.base import Headers, Reply
from tests.fixed_walker import FixedWalker, Steps

pytestmark = pytest.mark.anyio

EXACT = 1e-9
TWO_STEPS = Steps(("created", "success"))


class SlowService:
    """A transport on virtual time: each answer takes ``stall`` seconds, or
    ``stall(send time)`` (a fake server that stalls); notes each request's send."""

    def __init__(self, clock: FakeClock, stall: float | Callable[[float], float] = 0.0) -> None:
        self.clock = clock
        self.stall = stall
        self.log: list[tuple[float, str]] = []  # (virtual send time, status)

    async def post(self, url: str, body: bytes, headers: Headers = ()) -> Reply:
        now = self.clock.now()
        self.log.append((now, orjson.loads(body)["status"]))
        stall = self.stall(now) if callable(self.stall) else self.stall
        if stall:
            await self.clock.sleep(stall)
        return 202, self.clock.now(), b""

    async def get(self, url: str) -> Reply:
        return 200, self.clock.now(), b""

    async def aclose(self) -> None:
        pass

    def starts(self) -> list[float]:
        return [t for t, s in self.log if s == "created"]


async def drive_open(
    rate: float,
    until: float,
    *,
    stall: float | Callable[[float], float] = 0.0,
    max_inflight: int = 1000,
    think: float = 0.0,
) -> tuple[SlowService, Snapshot]:
    """Arrivals at ``rate`` of a two-step order until virtual time ``until``."""
    stats = Stats()
    async with FakeClock() as clock:
        service = SlowService(clock, stall)
        walker = FixedWalker(
            lambda _rng: TWO_STEPS,
            transport=service,
            stats=stats,
            think=think,
            now=clock.now,
            sleep=clock.sleep,
        )
        model = OpenModel(rate, max_inflight, random.Random(1), stats)
        # real time bounds a regression (virtual time stands still while a task spins)
        with anyio.fail_after(20), clock.deadline(until):
            await model.drive(walker, clock)
        assert clock.now() == until
    return service, stats.take(until)


@pytest.mark.parametrize(
    ("rate", "until", "count"), [(0.5, 9.5, 5), (3, 2.9, 9), (1000, 0.9995, 1000)]
)
async def test_arrivals_start_at_their_intended_times(
    rate: float, until: float, count: int
) -> None:
    """Journey k starts at exactly k/R, from the start (no drift), however long
    the earlier ones take: here each request stalls 0.7 s, longer than R=3's gap."""
    service, snap = await drive_open(rate, until, stall=0.7)
    starts = service.starts()
    assert len(starts) == count
    assert starts == pytest.approx([k / rate for k in range(count)], abs=EXACT)
    assert snap.arrivals == count and snap.dropped == 0


async def test_think_paces_the_steps_but_not_the_arrivals() -> None:
    """Think 0.4 s between steps and a 2/s rate: arrivals still every 0.5 s,
    each journey's second step 0.4 s after its first."""
    service, _ = await drive_open(2, 1.95, think=0.4)
    assert service.log == pytest.approx(
        [
            (0.0, "created"),
            (0.4, "success"),
            (0.5, "created"),
            (0.9, "success"),
            (1.0, "created"),
            (1.4, "success"),
            (1.5, "created"),
            (1.9, "success"),
        ],
        abs=EXACT,
    )


async def test_arrivals_beyond_max_inflight_are_dropped_and_counted() -> None:
    """10/s, each journey 2 s (two steps stalling 1 s), at most 3 in flight:
    the arrivals at 0, 0.1 and 0.2 s start; the 7 at 0.3..0.9 s find the cap
    full and are dropped, never delayed (nothing starts later)."""
    service, snap = await drive_open(10, 0.95, stall=1.0, max_inflight=3)
    assert service.starts() == pytest.approx([0.0, 0.1, 0.2], abs=EXACT)
    assert (snap.arrivals, snap.dropped) == (3, 7)
    assert (snap + snap).dropped == 14  # deltas add up


async def test_a_freed_slot_takes_the_next_arrival() -> None:
    """1 in flight at most, 4/s, journeys of 0.3 s: every other arrival is dropped
    while the previous journey still runs (0.25 s falls inside 0..0.3)."""
    service, snap = await drive_open(4, 1.9, stall=0.15, max_inflight=1)
    assert service.starts() == pytest.approx([0.0, 0.5, 1.0, 1.5], abs=EXACT)
    assert (snap.arrivals, snap.dropped) == (4, 4)


async def test_the_runner_drives_the_open_model_with_rate() -> None:
    """``--rate`` through the Runner: a 10 s run at 2.5/s starts exactly 25 journeys."""
    cfg = build_config({"target": "http://127.0.0.1:9", "rate": "2.5", "duration": "10s"})

    async def reachable(_url: str) -> None:
        return None

    with anyio.fail_after(30):
        async with FakeClock() as clock:
            service = SlowService(clock)
            runner = Runner(
                cfg, clock=clock, transport_factory=lambda _: service, preflight=reachable
            )
            result = await runner.run()
    assert result.elapsed == 10.0
    assert len(service.starts()) == 25
    assert (result.total.arrivals, result.total.dropped) == (25, 0)
    doc = result_json(result)
    assert doc["arrivals"] == {"rate": 2.5, "started": 25, "dropped": 0, "achieved_rate": 2.5}
    assert doc["latency_ms"].keys() == doc["service_time_ms"].keys()
    lines = result_lines(result)
    assert "Arrivals: started=25  dropped=0  rate=2.5/s  achieved=2.50/s" in lines
    assert any(line.startswith("Service time: p50=") for line in lines)


async def test_latency_counts_from_the_intended_send_and_service_time_from_the_actual() -> None:
    """A server that stalls 0.5 s on the first request only; 1 journey/s of two
    steps, think 0.1 s. Journey 0's second step was due at 0.1 s but went at
    0.6 s (after the stalled first): answered at once, its service time is 0
    and its corrected latency 0.5 s. Journey 1 (at 1 s) is unaffected."""
    service, snap = await drive_open(1, 1.95, stall=lambda at: 0.5 if at == 0 else 0.0, think=0.1)
    assert service.log == pytest.approx(
        [(0.0, "created"), (0.6, "success"), (1.0, "created"), (1.1, "success")], abs=EXACT
    )
    # microseconds, truncated from float seconds: within 2 us
    assert snap.latency_sum_us == pytest.approx(1_000_000, abs=2)  # 0.5 + 0.5 + 0 + 0
    assert snap.latency_max_us == pytest.approx(500_000, abs=2)
    svc = snap.service_time
    assert svc.latency_sum_us == pytest.approx(500_000, abs=2)  # only the stalled one
    assert sum(svc.latency.values()) == sum(snap.latency.values()) == 4
    p = snap.percentiles_s(75)[75]
    assert p is not None and p > 0.4  # half the requests waited 0.5 s
    q = svc.percentiles_s(75)[75]
    assert q is not None and q < 0.001  # three of four were answered at once
    merged = snap + snap  # the second histogram merges like the first
    assert merged.service_sum_us == 2 * snap.service_sum_us
    assert sum(merged.service.values()) == 8


def test_without_an_intended_time_service_time_is_the_latency() -> None:
    """The closed model records no second histogram: service time is the latency."""
    stats = Stats()
    stats.record_response(0, 202, 1500)
    snap = stats.take(1.0)
    assert not snap.service and snap.service_time is snap


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"rate": "10", "vus": "5"},
            "--rate must be used without --vus (one load model: users or a rate), got '--vus'",
        ),
        ({"rate": "0"}, "--rate must be a number greater than 0, like 200 or 0.5, got '0'"),
        ({"rate": "fast"}, "--rate must be a number greater than 0, like 200 or 0.5, got 'fast'"),
        ({"max_inflight": "5"}, "--max-inflight must be used with --rate, got 'no --rate'"),
        ({"rate": "1", "max_inflight": "0"}, "--max-inflight must be a positive integer, got '0'"),
    ],
)
def test_bad_rate_settings_get_one_clear_line(raw: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        build_config(raw)
    assert str(info.value) == message


def test_a_fractional_rate_is_accepted() -> None:
    cfg = build_config({"rate": "0.5", "max_inflight": "7"})
    assert (cfg.rate, cfg.max_inflight) == (0.5, 7)
