"""Delivery options on virtual time (FakeClock, FakeTransport): what each
webhook carries, what is delivered twice or early, and the read mix."""

from __future__ import annotations

from collections import Counter

import anyio
import orjson
import pytest

from engine.config import build_config
from engine.domain.signing import make_verifier
from engine.load.clock import FakeClock
from engine.run.runner import Runner, RunResult
from engine.transports.fake import FakeRequest, FakeTransport
from tui.cli import parse

SECRET = "sk-test-fake-7Hq2"


async def _reachable(_: str) -> None:
    return None


async def _run(raw: dict[str, str | list[str]], handler: object) -> RunResult:
    base: dict[str, str | list[str]] = {
        "target": "http://127.0.0.1:9",
        "vus": "2",
        "duration": "5s",
        "think": "100ms",
        "seed": "3",
    }
    cfg = build_config({**base, **raw})
    with anyio.fail_after(30):
        async with FakeClock() as clock:
            runner = Runner(
                cfg,
                clock=clock,
                transport_factory=lambda _: FakeTransport(handler, clock=clock.now),  # type: ignore[arg-type]
                preflight=_reachable,
            )
            return await runner.run()


def _event_id(r: FakeRequest) -> str:
    return str(orjson.loads(r.body)["provider_event_id"])


@pytest.mark.anyio
async def test_every_webhook_carries_the_extra_headers_and_a_valid_signature() -> None:
    seen: list[FakeRequest] = []

    def handler(r: FakeRequest) -> int:
        seen.append(r)
        return 202

    await _run({"headers": ["X-Tenant: acme"], "sign": "stripe", "secret": SECRET}, handler)
    verifier = make_verifier("stripe", SECRET)
    posts = [r for r in seen if r.method == "POST"]
    assert posts
    for r in posts:
        h = dict(r.headers)
        assert h["X-Tenant"] == "acme" and h["X-Correlation-ID"] == _event_id(r)
        assert verifier.verify(h, r.body, float(h["Stripe-Signature"][2:12])) is None


@pytest.mark.anyio
async def test_duplicates_repeat_the_accepted_event_and_early_ones_precede() -> None:
    seen: list[FakeRequest] = []
    known: set[str] = set()

    def strict(r: FakeRequest) -> int:
        """409 on a replay, 404 for an event ahead of its order's first."""
        seen.append(r)
        body = orjson.loads(r.body)
        if body["provider_event_id"] in known:
            return 409
        key = body["order_id"] + ("/d" if "chargebacks" in r.url else "")
        if body["status"] not in ("created", "opened") and key not in known:
            return 404
        known.add(body["provider_event_id"])
        known.add(key)
        return 202

    result = await _run({"duplicate_rate": "1", "reorder_rate": "1"}, strict)
    total = result.total
    d = total.delivery
    assert total.errors == 0 and total.success == total.total
    counts = Counter(_event_id(r) for r in seen)
    assert d["duplicates_sent"] == d["duplicates_rejected"] > 0
    assert d["early_sent"] == d["early_refused"] > 0
    # every event went twice (first, duplicate), an early one three times (early,
    # in its turn, duplicate); the deadline may cut one per VU (2) short
    thrice = sum(n == 3 for n in counts.values())
    assert set(counts.values()) <= {1, 2, 3}, counts
    assert d["early_sent"] - 2 <= thrice <= d["early_sent"], (thrice, d)
    assert sum(n == 1 for n in counts.values()) <= 2, counts
    first_order = next(r for r in seen if "orders" in r.url)
    assert orjson.loads(first_order.body)["status"] != "created"  # the early one


def test_api_and_single_dash_api_are_read_api_aliases() -> None:
    for argv in (["-api", "http://127.0.0.1:3000"], ["--api", "http://127.0.0.1:3000/"]):
        _, cfg = parse(argv)
        assert cfg.read_api == "http://127.0.0.1:3000"


@pytest.mark.anyio
async def test_read_mix_api_takes_the_three_reads_in_turn() -> None:
    seen: list[str] = []

    def handler(r: FakeRequest) -> int:
        if r.method == "GET":
            seen.append(r.url)
        return 200

    await _run(
        {"read_ratio": "1", "read_mix": "api", "read_api": "http://127.0.0.1:8"},
        handler,
    )
    assert len(seen) >= 6
    kinds = Counter(
        "list" if u.endswith("/orders?limit=10") else "events" if "events" in u else "one"
        for u in seen
    )
    assert (
        set(kinds) == {"list", "events", "one"} and max(kinds.values()) - min(kinds.values()) <= 2
    )
    assert all(u.startswith("http://127.0.0.1:8/orders") for u in seen)


def test_delivery_panel_shows_the_counters_only_when_the_run_has_a_fault() -> None:
    """The TUI's Delivery panel (it replaced three lines the codes panel's fixed
    height never showed); the live panel itself is tested in test_tui_delivery.py."""
    from textual.content import Content

    from engine.config import build_config
    from tui.widgets.delivery import delivers, delivery_markup

    assert not delivers(build_config({}))
    for flag in ("duplicate_rate", "reorder_rate", "retries"):
        assert delivers(build_config({flag: "1"}))
    text = Content.from_markup(
        delivery_markup({"duplicates_sent": 7, "duplicates_rejected": 7, "retries": 2}, 60)
    ).plain
    rows = [line.split() for line in text.splitlines()]
    assert rows[0] == ["sent", "refused", "2xx", "other"]
    assert rows[1] == ["duplicates", "7", "7", "0", "0"]
    assert rows[2] == ["early", "0", "0", "0", "0"]
    assert rows[3] == ["retries", "2", "0", "exhausted"]
