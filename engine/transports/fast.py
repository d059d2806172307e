"""``fast``: a lean HTTP/1.1 client on asyncio protocols, the default transport.

Why our own: per request, aiohttp spends most of its time in general-purpose
machinery (cookie jars, tracing signals, header multidicts, stream readers)
that a webhook generator never uses; that overhead is what measured
webhookload itself instead of the service (see docs/BENCHMARKS.md). Here a
request is one pre-framed ``bytes`` write on a kept-alive connection, and the
response is framed by ``httptools`` (llhttp, the parser behind uvicorn), which
handles Content-Length, chunked and close-delimited bodies correctly; the body
is counted, never kept.

One request is in flight per connection (no pipelining); the pool holds up to
``pool_size`` connections, idle ones reused last-in first-out. Timeouts are
enforced by one sweeper task (every 50 ms) rather than a timer per request.
"""

from __future__ import annotations

import asyncio
import collections
import ssl
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import httptools

from engine.transports.base import BODY_PREVIEW, Reply, TransportError

_SWEEP_S = 0.05


class _Conn(asyncio.Protocol):
    """One keep-alive connection; ``waiter`` is the pending response's future."""

    __slots__ = (
        "body",
        "closed",
        "complete",
        "deadline",
        "got_headers",
        "parser",
        "pool",
        "status",
        "transport",
        "waiter",
    )

    def __init__(self, pool: FastTransport) -> None:
        self.pool = pool
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[Reply] | None = None
        self.status = 0
        self.body = b""
        self.complete = False
        self.got_headers = False
        self.closed = False
        self.deadline = 0.0

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(TransportError("other", f"bad HTTP response: {exc}"))
            self._abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.pool._forget(self)
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            if self.got_headers and not self.complete:
                # A close-delimited body ends at EOF: the response is complete.
                self.waiter = None
                waiter.set_result((self.parser.get_status_code(), self.pool._clock(), self.body))
            else:
                reason = str(exc) if exc else "server closed the connection"
                self._fail(TransportError("connect", reason))

    # httptools callbacks
    def on_headers_complete(self) -> None:
        self.got_headers = True

    def on_body(self, body: bytes) -> None:
        """Keep the first BODY_PREVIEW bytes; a small body is kept by reference."""
        have = len(self.body)
        if have < BODY_PREVIEW:
            self.body = body[:BODY_PREVIEW] if not have else self.body + body[: BODY_PREVIEW - have]

    def on_message_complete(self) -> None:
        done = self.pool._clock()  # stamped here, before any task resumes
        self.complete = True
        waiter = self.waiter
        self.waiter = None
        status = self.parser.get_status_code()
        keep = self.parser.should_keep_alive()
        if keep:
            self.pool._release(self)
        else:
            self._abort()
        if waiter is not None and not waiter.done():
            waiter.set_result((status, done, self.body))

    # own
    def _fail(self, err: TransportError) -> None:
        waiter = self.waiter
        self.waiter = None
        if waiter is not None and not waiter.done():
            waiter.set_exception(err)

    def _abort(self) -> None:
        self.closed = True
        self.pool._forget(self)
        if self.transport is not None:
            self.transport.abort()

    def send(self, data: bytes, waiter: asyncio.Future[Reply], deadline: float) -> None:
        assert self.transport is not None
        self.waiter = waiter
        self.complete = False
        self.got_headers = False
        self.body = b""
        self.deadline = deadline
        self.transport.write(data)


class FastTransport:
    def __init__(
        self, *, pool_size: int, timeout: float, clock: Callable[[], float] = time.perf_counter
    ) -> None:
        self._clock = clock
        self._pool_size = pool_size
        self._timeout = timeout
        self._idle: list[_Conn] = []
        self._busy: set[_Conn] = set()
        self._connecting = 0
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._loop = asyncio.get_running_loop()
        self._heads: dict[tuple[str, str], tuple[str, int, bytes, ssl.SSLContext | None]] = {}
        self._sweeper = self._loop.create_task(self._sweep())
        self._closed = False

    def _head(self, method: str, url: str) -> tuple[str, int, bytes, ssl.SSLContext | None]:
        """Host, port, the request head up to Content-Length, TLS context: per URL, cached."""
        key = (method, url)
        cached = self._heads.get(key)
        if cached is None:
            parts = urlsplit(url)
            tls = parts.scheme == "https"
            host = parts.hostname or "localhost"
            port = parts.port or (443 if tls else 80)
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            head = (
                f"{method} {target} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                "User-Agent: webhookload\r\nAccept: */*\r\n"
            ).encode()
            ctx = ssl.create_default_context() if tls else None
            cached = self._heads[key] = (host, port, head, ctx)
        return cached

    async def _connect(self, host: str, port: int, ctx: ssl.SSLContext | None) -> _Conn:
        try:
            transport, conn = await asyncio.wait_for(
                self._loop.create_connection(lambda: _Conn(self), host, port, ssl=ctx),
                self._timeout,
            )
        except TimeoutError:
            raise TransportError("timeout", f"connect to {host}:{port}") from None
        except OSError as exc:
            raise TransportError("connect", exc.strerror or str(exc)) from None
        conn.transport = transport  # uvloop may call connection_made a tick later
        return conn

    async def _request(self, method: str, url: str, body: bytes | None) -> Reply:
        if self._closed:
            raise TransportError("other", "transport closed")
        host, port, head, ctx = self._head(method, url)
        if body is None:
            data = head + b"\r\n"
        else:
            data = b"%sContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
                head,
                len(body),
                body,
            )
        conn: _Conn | None = None
        try:
            conn = await self._acquire(host, port, ctx)
            self._busy.add(conn)
            waiter: asyncio.Future[Reply] = self._loop.create_future()
            conn.send(data, waiter, time.monotonic() + self._timeout)
            return await waiter
        except BaseException:
            if conn is not None and conn.waiter is not None:
                conn._abort()  # cancelled or failed mid-request: its state is unknown
            raise

    async def _acquire(self, host: str, port: int, ctx: ssl.SSLContext | None) -> _Conn:
        """An idle connection, a new one while under ``pool_size``, or wait for one.

        (Cheaper than a semaphore per request: with pool size = VUs, as the
        runner sets it, a request never waits.)"""
        while True:
            if self._idle:
                return self._idle.pop()
            if len(self._busy) + self._connecting < self._pool_size:
                self._connecting += 1
                try:
                    return await self._connect(host, port, ctx)
                finally:
                    self._connecting -= 1
            waiter: asyncio.Future[None] = self._loop.create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _release(self, conn: _Conn) -> None:
        self._busy.discard(conn)
        if not conn.closed and not self._closed:
            self._idle.append(conn)
        if self._waiters:
            self._wake_one()

    def _forget(self, conn: _Conn) -> None:
        self._busy.discard(conn)
        if conn in self._idle:
            self._idle.remove(conn)
        if self._waiters:
            self._wake_one()

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(_SWEEP_S)
            now = time.monotonic()
            for conn in [c for c in self._busy if c.waiter is not None and c.deadline < now]:
                conn._fail(TransportError("timeout", f"no response within {self._timeout:g}s"))
                conn._abort()

    async def post(self, url: str, body: bytes) -> Reply:
        return await self._request("POST", url, body)

    async def get(self, url: str) -> Reply:
        return await self._request("GET", url, None)

    async def aclose(self) -> None:
        self._closed = True
        self._sweeper.cancel()
        for conn in [*self._idle, *self._busy]:
            conn._abort()
        self._idle.clear()
        self._busy.clear()
        await asyncio.sleep(0)
