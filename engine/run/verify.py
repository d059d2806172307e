"""After the run: did the service apply what it accepted?

In Kafka mode the ingest service answers 202 as soon as an event is
published; validation happens later in a consumer, and rejected events go to
a dead-letter topic. A load test then sees no 4xx at all, and only the final
state read back through the read API can tell whether the events were
applied (docs/CONTRACT.md). ``--verify N`` keeps a uniform sample of N orders
whose every step was accepted, and after the run polls ``GET
/orders/{id}`` on the read API until each order shows the status the run
drove it to, or ``--verify-wait`` runs out.

The check uses httpx, not the load transport: the transports return no
bodies (they do not need them), and a few hundred reads need no speed.
"""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import anyio
import httpx

POLL_S = 0.2
CONCURRENCY = 10
READ_TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class Verification:
    """What the read API showed for the sampled orders when the check ended."""

    read_api: str
    sampled: int
    applied: int  # in the status the run drove them to
    missing: int  # 404: never applied (dead-lettered, or still queued)
    other_status: int  # found, in another status
    errors: int  # the read API failed to answer
    waited_s: float  # until every order was applied, or the whole wait

    @property
    def ok(self) -> bool:
        return self.sampled > 0 and self.applied == self.sampled

    def as_json(self) -> dict[str, object]:
        doc: dict[str, object] = dataclasses.asdict(self)
        doc["waited_s"] = round(self.waited_s, 3)
        doc["ok"] = self.ok
        return doc

    def describe(self) -> str:
        head = f"{self.applied} of {self.sampled} sampled orders applied"
        if self.ok:
            return f"{head} (after {self.waited_s:.1f}s, read API {self.read_api})"
        parts = [
            f"{n} {what}"
            for n, what in (
                (self.missing, "missing"),
                (self.other_status, "in another status"),
                (self.errors, "unreadable"),
            )
            if n
        ]
        return f"{head}; after {self.waited_s:.1f}s {', '.join(parts)} (read API {self.read_api})"


def sample_rng(seed: int | None, shard: int) -> random.Random:
    """The RNG of a shard's ``--verify`` sample: shard 0's is a single-process
    run's (``Random(seed)``), the others' differ, so shards sample independently."""
    if seed is None:
        return random.Random()
    return random.Random(seed if shard == 0 else f"verify:{seed}:{shard}")


class OrderSample:
    """A uniform sample (reservoir) of ``size`` finished orders and their final status."""

    def __init__(self, size: int, rng: random.Random) -> None:
        self.size = size
        self.rng = rng
        self.seen = 0
        self.items: list[tuple[str, str]] = []

    def offer(self, order_id: str, status: str) -> None:
        if self.size <= 0:
            return
        self.seen += 1
        if len(self.items) < self.size:
            self.items.append((order_id, status))
            return
        j = self.rng.randrange(self.seen)
        if j < self.size:
            self.items[j] = (order_id, status)


async def verify_orders(
    read_api: str,
    sample: list[tuple[str, str]],
    wait_s: float,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> Verification:
    """Poll the read API until every sampled order shows its final status, or
    ``wait_s`` has passed; classify what is left by its last answer."""
    pending = dict(sample)
    last: dict[str, str] = {}  # order id -> "missing" | "other" | "error"
    started = clock()
    waited = wait_s
    limit = anyio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(timeout=READ_TIMEOUT_S) as client:

        async def check(order_id: str, expected: str) -> None:
            async with limit:
                try:
                    resp = await client.get(f"{read_api}/orders/{order_id}")
                except httpx.HTTPError:
                    last[order_id] = "error"
                    return
            if resp.status_code == 404:
                last[order_id] = "missing"
            elif resp.status_code != 200:
                last[order_id] = "error"
            elif _status_of(resp) == expected:
                del pending[order_id]
            else:
                last[order_id] = "other"

        # a read API that hangs must not stretch the run past the wait either
        with anyio.move_on_after(wait_s + 1):
            while True:
                async with anyio.create_task_group() as tg:
                    for order_id, expected in list(pending.items()):
                        tg.start_soon(check, order_id, expected)
                if not pending:
                    waited = clock() - started
                    break
                if clock() - started >= wait_s:
                    break
                await anyio.sleep(POLL_S)
    left = [last.get(order_id, "error") for order_id in pending]
    return Verification(
        read_api=read_api,
        sampled=len(sample),
        applied=len(sample) - len(pending),
        missing=left.count("missing"),
        other_status=left.count("other"),
        errors=left.count("error"),
        waited_s=waited,
    )


def _status_of(resp: httpx.Response) -> str | None:
    try:
        body = resp.json()
    except ValueError:
        return None
    status = body.get("status") if isinstance(body, dict) else None
    return status if isinstance(status, str) else None
