"""The closed model's pacing, exactly, on virtual time: a fake transport (no
sockets) and a fake clock (no sleeps). Times here are virtual: exact by
construction, not measured, so they are asserted to the nanosecond."""

from __future__ import annotations

import itertools
import random
import subprocess
import sys
from collections.abc import Callable, Iterable

import anyio
import orjson
import pytest

from engine.config import build_config
from engine.domain.outcomes import ErrorKind
from engine.domain.statuses import DisputeStatus as D
from engine.domain.statuses import OrderStatus as O
from engine.load.clock import FakeClock
from engine.load.closed import ClosedModel
from engine.metrics.stats import Snapshot, Stats
from engine.run.runner import Runner
from engine.transports import TransportError
from engine.transports.fake import FakeRequest, FakeTransport
from tests.fixed_walker import FixedWalker, Steps
from tests.helpers import legacy

pytestmark = pytest.mark.anyio

THINK = 0.010
EXACT = 1e-9


def order(*statuses: O, dispute: tuple[D, ...] = (), read: bool = False) -> Steps:
    """A journey of these statuses; a dispute's ``closed`` is won."""
    won = tuple("won" if s is D.CLOSED else s.value for s in dispute)
    return Steps(tuple(s.value for s in statuses), won, read)


class Service:
    """Answers 202 unless ``reject`` says otherwise; notes when each request came."""

    def __init__(self, clock: FakeClock, reject: Callable[[int, str], int | None]) -> None:
        self.clock = clock
        self.reject = reject
        self.log: list[tuple[float, str]] = []  # (virtual time, status sent)

    def __call__(self, request: FakeRequest) -> int:
        status = orjson.loads(request.body)["status"] if request.body else "read"
        self.log.append((self.clock.now(), status))
        journey = sum(1 for _, s in self.log if s == "created")
        code = self.reject(journey, status)
        if code == 0:
            raise TransportError(ErrorKind.CONNECT, "refused")
        return 202 if code is None else code

    def starts(self) -> list[float]:
        return [t for t, s in self.log if s == "created"]


async def drive(
    journeys: Iterable[Steps], reject: Callable[[int, str], int | None], until: float
) -> tuple[Service, Snapshot]:
    """One VU looping ``journeys`` (cycled) until virtual time ``until``."""
    stats = Stats()
    async with FakeClock() as clock:
        service = Service(clock, reject)
        plans = itertools.cycle(journeys)
        walker = FixedWalker(
            lambda _rng: next(plans),
            transport=FakeTransport(service, clock=clock.now),
            stats=stats,
            think=THINK,
            now=clock.now,
            sleep=clock.sleep,
        )
        # real time bounds a regression (virtual time stands still while a VU spins)
        with anyio.fail_after(10), clock.deadline(until):
            await ClosedModel(1, THINK, random.Random).drive(walker, clock)
        assert clock.now() == until
    return service, stats.take(until)


def gaps(starts: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(starts)]


async def test_a_rejected_first_step_waits_out_the_journeys_remaining_steps() -> None:
    """Think 10 ms, a 4-step order whose ``created`` is rejected every other
    journey: a healthy journey spans 3 thinks (0, 10, 20, 30 ms; none after its
    last step) and the next starts at once; a failed one starts the next after
    the same 3 thinks, 30 ms, where it used to start it at once."""
    four = order(O.CREATED, O.UPDATED, O.UPDATED, O.SUCCESS)
    service, snap = await drive([four], lambda n, s: 422 if n % 2 == 0 else None, until=0.200)
    assert service.starts() == pytest.approx([0.0, 0.03, 0.06, 0.09, 0.12, 0.15, 0.18], abs=EXACT)
    assert service.log[:5] == pytest.approx(
        [
            (0.0, "created"),
            (0.01, "updated"),
            (0.02, "updated"),
            (0.03, "success"),
            (0.03, "created"),
        ],
        abs=EXACT,
    )
    sc = legacy(snap.scenarios)
    assert (sc["orders_started"], sc["orders_success"], sc["orders_aborted"]) == (7, 3, 3)
    assert sc["orders_unfinished"] == 1  # the 7th, cut off mid-order by the deadline


@pytest.mark.parametrize(
    ("journey", "reject", "gap"),
    [
        # the last step rejected: at least one think before the next journey
        (order(O.CREATED, O.SUCCESS), lambda n, s: 503 if s == "success" else None, 0.020),
        # no answer at all is a rejection too
        (order(O.CREATED, O.UPDATED, O.FAILED), lambda n, s: 0 if s == "created" else None, 0.020),
        # a rejected dispute step waits out the dispute's remaining steps
        (
            order(O.CREATED, O.SUCCESS, dispute=(D.OPENED, D.UPDATED, D.CLOSED)),
            lambda n, s: 404 if s == "opened" else None,
            0.030,  # created 0, success 10, opened 10 (rejected), then 2 thinks: as a healthy one
        ),
        # a rejected order step waits out the order's and the dispute's steps
        (
            order(O.CREATED, O.SUCCESS, dispute=(D.OPENED, D.CLOSED)),
            lambda n, s: 409 if s == "created" else None,
            0.020,
        ),
        # a healthy journey with a read-back: no pause after its last request
        (order(O.CREATED, O.FAILED, read=True), lambda n, s: None, 0.010),
    ],
)
async def test_the_pause_after_each_kind_of_ending(
    journey: Steps, reject: Callable[[int, str], int | None], gap: float
) -> None:
    service, _ = await drive([journey], reject, until=0.1)
    assert len(service.starts()) >= 3
    assert gaps(service.starts()) == pytest.approx([gap] * (len(service.starts()) - 1), abs=EXACT)


async def _reachable(_: str) -> None:
    """The fake transport needs no target; skip the TCP check."""


async def test_a_run_on_virtual_time_ends_exactly_at_its_deadline() -> None:
    """The Runner with a fake transport and a fake clock: a 60 s run takes as long
    as its CPU work, ends at exactly 60 virtual seconds, and every webhook
    carried its event id as X-Correlation-ID (reads carry none)."""
    seen: list[FakeRequest] = []

    def handler(request: FakeRequest) -> int:
        seen.append(request)
        return 202

    cfg = build_config(
        {
            "target": "http://127.0.0.1:9",
            "vus": "3",
            "duration": "60s",
            "think": "100ms",
            "read_ratio": "0.5",
            "seed": "7",
        }
    )
    with anyio.fail_after(30):
        async with FakeClock() as clock:
            runner = Runner(
                cfg,
                clock=clock,
                transport_factory=lambda _: FakeTransport(handler, clock=clock.now),
                preflight=_reachable,
            )
            result = await runner.run()
    assert result.elapsed == 60.0 and not result.stopped
    total = result.total
    posts = [r for r in seen if r.method == "POST"]
    reads = [r for r in seen if r.method == "GET"]
    assert total.total == len(seen) and total.success == len(seen) and total.errors == 0
    assert len(posts) > 1000 and reads and all(r.headers == () for r in reads)
    for r in posts:
        event_id = orjson.loads(r.body)["provider_event_id"]
        assert r.headers == (("X-Correlation-ID", event_id),)
    assert len({r.headers for r in posts}) == len(posts)


def never_waiting_run() -> None:
    """Think 0 against a transport that answers without yielding, on real time."""
    cfg = build_config(
        {"target": "http://127.0.0.1:9", "vus": "2", "duration": "300ms", "think": "0"}
    )
    runner = Runner(
        cfg, transport_factory=lambda _: FakeTransport(lambda _: 202), preflight=_reachable
    )
    total = anyio.run(runner.run).total
    print(total.total, total.errors)


def test_a_transport_that_never_waits_still_lets_the_run_end() -> None:
    """Only the closed model's yield per iteration lets the deadline reach VUs
    whose transport never waits; without it the loop spins and the run never
    ends. In a subprocess, so that failure is a timeout here, not a hung suite."""
    code = "from tests.test_load_model import never_waiting_run; never_waiting_run()"
    try:
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
        ).stdout
    except subprocess.TimeoutExpired:
        pytest.fail("a 300 ms run against a transport that never waits did not end in 60 s")
    total, errors = map(int, out.split())
    assert total > 0 and errors == 0


async def test_the_fake_clock_wakes_sleepers_in_time_order() -> None:
    woke: list[tuple[str, float]] = []
    async with FakeClock(start=5.0) as clock:

        async def sleeper(name: str, delays: list[float]) -> None:
            for d in delays:
                await clock.sleep(d)
                woke.append((name, clock.now()))

        async with anyio.create_task_group() as tg:
            tg.start_soon(sleeper, "a", [0.5, 0.5, 2.0])
            tg.start_soon(sleeper, "b", [1.25, 0.0, 0.25])
        with clock.deadline(10.0) as scope:
            await clock.sleep(100.0)
    assert scope.cancel_called and clock.now() == 18.0  # 8.0 + 10, not + 100
    assert woke == [
        ("a", 5.5),
        ("a", 6.0),
        ("b", 6.25),
        ("b", 6.25),
        ("b", 6.5),
        ("a", 8.0),
    ]
