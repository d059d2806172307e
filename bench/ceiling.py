"""The Python ceiling: the smallest honest webhook generator Python can be.

`make bench` runs it beside webhookload, hey and wrk so that the headroom of
issue 23 ("half the CPU per webhook") is visible in every run: what a
request costs in Python when nothing but the request is paid for. It is not
a tool; it is a yardstick, and it only stays one while it stays honest:

- uvloop, one ``asyncio.Protocol`` per keep-alive connection, one request in
  flight on each; the next request is written from ``data_received``, with
  no task, coroutine or future per request.
- A fresh body per request, built as webhookload's ``ingest`` builder builds
  an order event (bench/baseline_contracts.py): a new event id
  (engine/domain/ids.py), the order's ids and ``created_at``, a cached RFC
  3339 ``updated_at`` (engine/domain/clock.py), ``orjson.dumps``; a new order
  every :data:`STEPS` events. The head carries what webhookload's carries
  (Host, User-Agent, Accept, X-Correlation-ID, Content-Type, Content-Length);
  with ``--sign stripe`` the project's own signer adds its header.
- Every response is framed and its status counted (:class:`ResponseParser`):
  Content-Length, chunked, or close-delimited bodies, 1xx interim heads
  skipped, a malformed or stray answer an error that closes the connection.
  Only a 2xx is a success.
- Latency per request into the engine's histogram buckets
  (engine/metrics/histogram.py), percentiles from those.

Usage: ``python bench/ceiling.py URL --conns 10 --secs 10 [--sign stripe]
[--json OUT]`` (the secret for ``--sign`` from ``WEBHOOKLOAD_SECRET``).
The summary (JSON) has ``requests``, ``statuses``, ``errors``,
``duration_s``, ``p50_ms``, ``p99_ms``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import orjson
import uvloop
from baseline_contracts import ORDERS_PATH

from engine.domain.clock import WallClock
from engine.domain.ids import new_uuid
from engine.domain.signing import Signer, make_signer
from engine.metrics.histogram import bucket_index, percentiles

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ceiling_parse import BadResponse, ResponseParser

STATUSES = ("created", "processing", "success")  # one order's lifecycle, as `ingest` sends it
STEPS = len(STATUSES)
STOP_GRACE_S = 2.0  # after the deadline, answers still in flight get this long


class Run:
    """The shared state of one run: what to send next, and what came back."""

    def __init__(
        self,
        url: str,
        conns: int,
        secs: float,
        signer: Signer | None = None,
        limit: int | None = None,
    ) -> None:
        """``limit``: stop after that many requests (the tests' fixed count)."""
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.conns = conns
        self.secs = secs
        self.signer = signer
        self.limit = limit
        self._prefix = (
            f"POST {ORDERS_PATH} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            "User-Agent: webhookload\r\nAccept: */*\r\nX-Correlation-ID: "
        ).encode()
        self._clock = WallClock()
        self._n = 0
        self._order = ("", "", "")
        self.statuses: dict[int, int] = {}
        self.hist: dict[int, int] = {}
        self.errors = 0
        self.start = 0.0
        self.deadline = 0.0
        self.end = 0.0
        self.open = 0
        self.done: asyncio.Future[None] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    def more(self, now: float) -> bool:
        """Is there another request to send?"""
        return now < self.deadline and (self.limit is None or self._n < self.limit)

    def request(self) -> bytes:
        """The next request's bytes: a fresh event of the current order."""
        n = self._n
        self._n = n + 1
        step = n % STEPS
        if step == 0:
            self._order = (new_uuid(), new_uuid(), self._clock.stamp())
        order_id, user_id, created_at = self._order
        event_id = new_uuid()
        body = orjson.dumps(
            {
                "provider_event_id": event_id,
                "order_id": order_id,
                "user_id": user_id,
                "status": STATUSES[step],
                "created_at": created_at,
                "updated_at": self._clock.stamp(),
            }
        )
        sign = b""
        if self.signer is not None:
            sign = self.signer.header_block(body, event_id, int(time.time()))
        return b"%s%s\r\n%sContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
            self._prefix,
            event_id.encode(),
            sign,
            len(body),
            body,
        )

    def record(self, status: int, latency_s: float) -> None:
        st = self.statuses
        st[status] = st.get(status, 0) + 1
        idx = bucket_index(int(latency_s * 1e6))
        h = self.hist
        h[idx] = h.get(idx, 0) + 1

    def connect(self) -> None:
        """Open one more connection (a new one replaces one that closed)."""
        assert self.loop is not None
        self.open += 1
        self.loop.create_task(self._connect())

    async def _connect(self) -> None:
        assert self.loop is not None
        try:
            await self.loop.create_connection(lambda: Client(self), self.host, self.port)
        except OSError:
            self.errors += 1
            await asyncio.sleep(0.05)  # refused: no busy loop of reconnects until the deadline
            self.closed(None)

    def closed(self, client: Client | None) -> None:
        """A connection ended; before the deadline another takes its place."""
        self.open -= 1
        now = time.perf_counter()
        if self.more(now):
            self.connect()
        else:
            self.end = max(self.end, now)
            if self.open == 0 and self.done is not None and not self.done.done():
                self.done.set_result(None)

    async def main(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.done = self.loop.create_future()
        self.start = time.perf_counter()
        self.deadline = self.start + self.secs
        for _ in range(self.conns):
            self.connect()
        try:
            await asyncio.wait_for(asyncio.shield(self.done), self.secs + STOP_GRACE_S)
        except TimeoutError:
            self.end = time.perf_counter()  # some answers never came: not counted

    def summary(self) -> dict[str, object]:
        q = percentiles(self.hist, (50, 99))
        total = sum(self.statuses.values())
        ok = sum(n for s, n in self.statuses.items() if 200 <= s < 300)
        return {
            "requests": total + self.errors,
            "responses": total,
            "success": ok,
            "errors": self.errors,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "duration_s": (self.end or time.perf_counter()) - self.start,
            "p50_ms": None if q[50] is None else q[50] / 1e3,
            "p99_ms": None if q[99] is None else q[99] / 1e3,
        }


class Client(asyncio.Protocol):
    """One keep-alive connection: write a request, frame its answer, repeat."""

    __slots__ = ("parser", "run", "sent", "transport")

    def __init__(self, run: Run) -> None:
        self.run = run
        self.parser = ResponseParser()
        self.transport: asyncio.Transport | None = None
        self.sent = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass
        if self.run.more(time.perf_counter()):
            self._send()
        else:
            transport.close()

    def _send(self) -> None:
        assert self.transport is not None
        data = self.run.request()
        self.parser.expect()
        self.sent = time.perf_counter()
        self.transport.write(data)

    def data_received(self, data: bytes) -> None:
        parser = self.parser
        try:
            status = parser.feed(data)
        except BadResponse:
            self._fail()
            return
        if not status:
            return
        done = time.perf_counter()
        run = self.run
        run.record(status, done - self.sent)
        if parser.stray:  # bytes after the answer: nobody asked for them
            self.transport.abort()  # type: ignore[union-attr]
        elif not parser.keep:
            self._close()
        elif run.more(done):
            self._send()
        else:
            self._close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.parser.busy:  # an answer was due on this connection
            try:
                status = self.parser.eof()
            except BadResponse:
                self.run.errors += 1
            else:
                self.run.record(status, time.perf_counter() - self.sent)
        self.parser.busy = False
        self.run.closed(self)

    def _fail(self) -> None:
        self.run.errors += 1
        self.parser.busy = False
        if self.transport is not None:
            self.transport.abort()

    def _close(self) -> None:
        assert self.transport is not None
        self.transport.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="the Python ceiling (bench/ceiling.py)")
    ap.add_argument("url", help="the target, e.g. http://127.0.0.1:8080")
    ap.add_argument("--conns", type=int, default=10)
    ap.add_argument("--secs", type=float, default=10.0)
    ap.add_argument("--sign", choices=("stripe", "standard"), help="sign as webhookload --sign")
    ap.add_argument("--json", type=Path, help="write the summary here too")
    a = ap.parse_args(argv)
    signer = None
    if a.sign:
        signer = make_signer(a.sign, os.environ.get("WEBHOOKLOAD_SECRET", ""))
    run = Run(a.url, a.conns, a.secs, signer)
    uvloop.run(run.main())
    doc = run.summary()
    text = json.dumps(doc)
    if a.json:
        a.json.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
