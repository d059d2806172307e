"""--retries honours Retry-After, on virtual time (FakeClock, FakeTransport): the
walker waits exactly what the answer asked (capped), or its own backoff when
that is longer; and a run still ends at its deadline whatever a server asks.
The transports' side (the header read off the wire) is in test_transports.py."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import anyio
import pytest

from engine.config import build_config
from engine.load.clock import FakeClock
from engine.metrics.stats import Stats
from engine.run.runner import Runner
from engine.scenario.retry import RETRY_AFTER_CAP_S, Retry
from engine.transports import Headers, retry_after
from engine.transports.base import parse_retry_after
from engine.transports.fake import FakeRequest, FakeTransport
from tests.fixed_walker import FixedWalker, Steps

pytestmark = pytest.mark.anyio

SEED = 11
EXACT = 1e-9  # virtual times: exact but for float rounding
Answer = int | tuple[int, bytes, Headers]


async def _gaps(answers: Sequence[Answer], retries: int = 3) -> list[float]:
    """Walk one two-step order (no think) whose webhooks get ``answers`` in turn
    (then 202s); the virtual times between consecutive requests."""
    times: list[float] = []
    stats = Stats()
    async with FakeClock() as clock:

        def handler(_: FakeRequest) -> Answer:
            times.append(clock.now())
            return answers[len(times) - 1] if len(times) <= len(answers) else 202

        walker = FixedWalker(
            lambda _rng: Steps(("created", "success")),
            transport=FakeTransport(handler, clock=clock.now),
            stats=stats,
            think=0.0,
            now=clock.now,
            sleep=clock.sleep,
            retries=retries,
        )
        with anyio.fail_after(10):
            journey = walker.journey(Steps(("created", "success"), retry_seed=SEED))
            await walker.walk(journey)
    return [b - a for a, b in itertools.pairwise(times)]


def _after(status: int, value: str) -> tuple[int, bytes, Headers]:
    return (status, b"", (("Retry-After", value),))


async def test_the_walker_waits_what_retry_after_says() -> None:
    """A 503 asking for 7 s is retried 7 s later, exactly (the backoff's first
    wait is at most 0.1 s); a 429 asking for 2 s likewise, on its next attempt."""
    gaps = await _gaps([_after(503, "7"), _after(429, "2")])
    assert gaps == [7.0, 2.0, 0.0]  # then the retry is accepted, and step 2 follows


async def test_retry_after_is_capped_at_a_minute() -> None:
    gaps = await _gaps([_after(503, "3600")])
    assert gaps == [RETRY_AFTER_CAP_S, 0.0]


async def test_a_shorter_or_unreadable_retry_after_leaves_the_backoff() -> None:
    """max(backoff with jitter, Retry-After): a 0 or a value that is neither
    form waits the backoff, exactly as drawn from the journey's seed."""
    expected = Retry(SEED, 3)
    first, second = expected.delay(1), expected.delay(2)
    gaps = await _gaps([_after(503, "0"), _after(500, "soon")])
    assert gaps == pytest.approx([first, second, 0.0], abs=EXACT)


async def test_retry_after_on_an_accepted_answer_is_not_read() -> None:
    """A 2xx is never retried nor looked at (the hot path); without --retries a
    503's Retry-After does nothing either."""
    assert await _gaps([(202, b"", (("Retry-After", "9"),))]) == [0.0]
    assert await _gaps([_after(503, "9")], retries=0) == []


def test_both_forms_of_retry_after_parse() -> None:
    now = 1_792_166_400.0  # Fri, 16 Oct 2026 16:00:00 GMT
    assert parse_retry_after("120", now) == 120.0
    assert parse_retry_after(" 5 ", now) == 5.0
    assert parse_retry_after("Fri, 16 Oct 2026 16:00:30 GMT", now) == 30.0  # IMF-fixdate
    assert parse_retry_after("Friday, 16-Oct-26 16:01:00 GMT", now) == 60.0  # RFC 850
    assert parse_retry_after("Fri Oct 16 16:00:10 2026", now) == 10.0  # asctime
    assert parse_retry_after("Fri, 16 Oct 2026 15:00:00 GMT", now) == 0.0  # past: at once
    for bad in ("", "-3", "1.5", "soon", "²", "Fri, 99 Oct 2026 16:00:00 GMT"):
        assert parse_retry_after(bad, now) is None, bad


def test_a_reply_without_the_hint_reads_none() -> None:
    assert retry_after((503, 1.0, b"")) is None


async def test_a_long_retry_after_does_not_outlast_the_run() -> None:
    """A service asking every webhook to wait an hour: the 5 s run still ends at
    5 s (the waits are cancelled there, counted as cancelled deliveries)."""
    cfg = build_config(
        {"target": "http://127.0.0.1:9", "vus": "2", "duration": "5s", "think": "0s"}
        | {"seed": "3", "retries": "3"}
    )

    async def reachable(_: str) -> None:
        return None

    with anyio.fail_after(30):
        async with FakeClock() as clock:
            transport = FakeTransport(lambda _: _after(503, "3600"), clock=clock.now)
            runner = Runner(
                cfg, clock=clock, transport_factory=lambda _: transport, preflight=reachable
            )
            result = await runner.run()
            ended = clock.now()
    assert result.elapsed == 5.0 and ended == 5.0
    # each VU sent once at 0 and was waiting out its minute at the deadline
    # (without the hint, backoffs of 0.1 s, 0.2 s, 0.4 s would have retried)
    assert result.total.cancelled == 2
    assert result.total.delivery.get("retries", 0) == 0
