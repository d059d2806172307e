"""After the run: is every sampled order and dispute where the run left it?

In Kafka mode the ingest service answers 202 as soon as an event is
published; validation happens later in a consumer, and rejected events go to
a dead-letter topic. A load test then sees no 4xx at all, and only the final
state read back through the read API can tell whether the events were
applied (docs/CONTRACT.md). And a receiver that re-applies a replayed event
(``--duplicate-rate``; the public service does, for orders) may move an order
or a dispute away from the status the run drove it to: only the read API
shows that too.

``--verify N`` keeps a uniform sample of N orders whose every step was
accepted, and of N disputes likewise, each with the status the run drove it
to (the last event the run had accepted for it) and that event's id (its
``X-Correlation-ID``). After the run it polls ``GET /orders/{id}`` and
``GET /disputes`` until each shows that status, or ``--verify-wait`` runs
out: a service that applies late (queue or inbox mode) is waited for. One
found in another *terminal* status is settled at once (nothing the run sent
can move it on from there); every other one is classified by its last read.

The check uses httpx, not the load transport: the transports return no
bodies (they do not need them), and a few hundred reads need no speed.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import anyio
import orjson

if TYPE_CHECKING:  # imported where used: httpx (and the rich it pulls in) costs
    import httpx  # ~50 ms of start-up in every process, every shard's included

from engine.domain.sanitize import clean
from engine.domain.urls import join_url
from engine.run.verify_result import MISSING, UNREADABLE, Mismatch, Tally, Verification, merge

__all__ = [
    "DisputeSample",
    "Mismatch",
    "OrderSample",
    "Verification",
    "merge",
    "sample_rng",
    "verify_orders",
]

POLL_S = 0.2
CONCURRENCY = 10
READ_TIMEOUT_S = 5.0
STATUS_CHARS = 64
"""A status read back is the target's text: shown cleaned, at most this long."""
READ_BODY_MAX = 16 * 1024 * 1024
"""Bytes of one read API answer read at most (raw, never decompressed): a
larger one is unreadable, like a malformed one (docs/HOSTILE.md)."""
INGEST_LABELS = {"order": "orders", "dispute": "disputes"}
"""Ingest's flows by name, and the labels its check reports them by (its file's)."""
TERMINAL_ORDER = frozenset({"success", "failed"})
TERMINAL_DISPUTE = frozenset({"won", "lost", "closed"})
"""The read API's statuses a dispute keeps once closed (``closed``: no resolution)."""


def sample_rng(seed: int | None, shard: int, kind: str = "orders") -> random.Random:
    """The RNG of a shard's ``--verify`` sample: shard 0's order sample is a
    single-process run's (``Random(seed)``), the others' differ, so shards (and
    the dispute sample) sample independently."""
    if seed is None:
        return random.Random()
    if kind == "orders":
        return random.Random(seed if shard == 0 else f"verify:{seed}:{shard}")
    return random.Random(f"verify:{kind}:{seed}:{shard}")


class OrderSample:
    """A uniform sample (reservoir) of ``size`` finished orders and their final
    status, with the id of the last event the run had accepted for each."""

    def __init__(self, size: int, rng: random.Random) -> None:
        self.size = size
        self.rng = rng
        self.seen = 0
        self.items: list[tuple[str, str]] = []
        self.event_ids: dict[str, str] = {}

    def offer(self, key: str, status: str, event_id: str = "") -> None:
        if self.size <= 0:
            return
        self.seen += 1
        if len(self.items) < self.size:
            self.items.append((key, status))
            self.event_ids[key] = event_id
            return
        j = self.rng.randrange(self.seen)
        if j < self.size:
            self.event_ids.pop(self.items[j][0], None)
            self.items[j] = (key, status)
            self.event_ids[key] = event_id


class DisputeSample(OrderSample):
    """The same, for disputes: keyed by their order's id (one dispute per order),
    offered with the resolution that closed them (the status the read API shows)."""


async def verify_orders(
    read_api: str,
    sample: Sequence[tuple[str, str]],
    wait_s: float,
    *,
    disputes: Sequence[tuple[str, str]] = (),
    event_ids: Callable[[str, str], str] = lambda kind, key: "",
    clock: Callable[[], float] = time.monotonic,
) -> Verification:
    """Poll the read API until every sampled order and dispute shows its final
    status (or is settled in another terminal one), or ``wait_s`` has passed;
    classify what is left by its last answer. ``event_ids(kind, key)`` gives
    the id of the last event the run had accepted for it, for the report."""
    pending = {"order": dict(sample), "dispute": dict(disputes)}
    found: dict[tuple[str, str], str] = {}  # (kind, key) -> last status read, or a sentinel
    settled: dict[tuple[str, str], str] = {}  # (kind, key) -> expected; not read again
    started = clock()
    waited = wait_s
    limit = anyio.Semaphore(CONCURRENCY)

    def judge(kind: str, key: str, status: str | None) -> None:
        """One read: applied (done), in a terminal status other than the expected
        one (settled: nothing the run sent moves it on), or not there yet."""
        expected = pending[kind][key]
        if status == expected:
            del pending[kind][key]
            found.pop((kind, key), None)
            return
        found[kind, key] = UNREADABLE if status is None else status
        if status in (TERMINAL_ORDER if kind == "order" else TERMINAL_DISPUTE):
            settled[kind, key] = pending[kind].pop(key)

    import httpx

    async with httpx.AsyncClient(
        timeout=READ_TIMEOUT_S,
        follow_redirects=False,
        headers={"Accept-Encoding": "identity"},
    ) as client:

        async def check_order(order_id: str) -> None:
            async with limit:
                answer = await _read(client, join_url(read_api, f"/orders/{order_id}"))
            if answer is None:
                found["order", order_id] = UNREADABLE
            elif answer[0] == 404:
                found["order", order_id] = MISSING
            elif answer[0] != 200:
                found["order", order_id] = UNREADABLE
            else:
                judge("order", order_id, _order_status(answer[1]))

        async def check_disputes() -> None:
            async with limit:
                answer = await _read(client, join_url(read_api, "/disputes"))
            shown = None if answer is None else _dispute_statuses(*answer)
            for order_id in list(pending["dispute"]):
                if shown is None:
                    found["dispute", order_id] = UNREADABLE
                elif order_id not in shown:
                    found["dispute", order_id] = MISSING
                else:
                    judge("dispute", order_id, shown[order_id])

        # a read API that hangs must not stretch the run past the wait either
        with anyio.move_on_after(wait_s + 1):
            while True:
                async with anyio.create_task_group() as tg:
                    for order_id in list(pending["order"]):
                        tg.start_soon(check_order, order_id)
                    if pending["dispute"]:
                        tg.start_soon(check_disputes)
                if not pending["order"] and not pending["dispute"]:
                    waited = clock() - started
                    break
                if clock() - started >= wait_s:
                    break
                await anyio.sleep(POLL_S)
    left = [(kind, key, exp) for kind, keys in pending.items() for key, exp in keys.items()]
    left += [(kind, key, exp) for (kind, key), exp in settled.items()]
    mismatches = [
        Mismatch(
            kind,
            key,
            exp,
            found.get((kind, key), UNREADABLE),
            event_ids(kind, key),
            INGEST_LABELS[kind],
        )
        for kind, key, exp in left
    ]
    tallies = tuple(
        (INGEST_LABELS[kind], Tally.of(len(items), [m for m in mismatches if m.kind == kind]))
        for kind, items in (("order", sample), ("dispute", disputes))
    )
    return Verification(read_api, tallies, waited, tuple(mismatches)).bounded()


async def _read(client: httpx.AsyncClient, url: str) -> tuple[int, bytes] | None:
    """One GET of the read API, bounded like the load's requests: a deadline of
    :data:`READ_TIMEOUT_S` for all of it, at most :data:`READ_BODY_MAX` bytes
    read raw, a redirect never followed (a 3xx is just not a 200). None when
    there is no complete answer within those bounds."""
    import httpx

    try:
        with anyio.fail_after(READ_TIMEOUT_S):
            request = client.build_request("GET", url)
            resp = await client.send(request, stream=True)
            try:
                body = bytearray()
                async for chunk in resp.aiter_raw():
                    body += chunk
                    if len(body) > READ_BODY_MAX:
                        return None
            finally:
                await resp.aclose()
    except (httpx.HTTPError, httpx.InvalidURL, TimeoutError):  # InvalidURL: a bad Location
        return None
    return resp.status_code, bytes(body)


def _order_status(raw: bytes) -> str | None:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    status = body.get("status") if isinstance(body, dict) else None
    return clean(status, STATUS_CHARS) if isinstance(status, str) else None


def _dispute_statuses(code: int, raw: bytes) -> dict[str, str] | None:
    """``GET /disputes`` (its status and body) as order id -> status, from either
    shape: the public service's bare array, or the strict reference target's
    ``{"disputes": [...]}``."""
    if code != 200:
        return None
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if isinstance(body, dict):
        body = body.get("disputes")
    if not isinstance(body, list):
        return None
    shown: dict[str, str] = {}
    for item in body:
        if isinstance(item, dict):
            order_id, status = item.get("order_id"), item.get("status")
            if isinstance(order_id, str) and isinstance(status, str):
                shown[order_id] = clean(status, STATUS_CHARS)
    return shown
