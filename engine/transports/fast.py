"""``fast``: a lean HTTP/1.1 client on asyncio protocols, the default transport.

Why our own: per request, aiohttp spends most of its time in general-purpose
machinery (cookie jars, tracing signals, header multidicts, stream readers)
that a webhook generator never uses; that overhead is what measured
webhookload itself instead of the service (see docs/BENCHMARKS.md). Here a
request is one pre-framed ``bytes`` write on a kept-alive connection, and the
response is framed by ``httptools`` (llhttp, the parser behind uvicorn), which
handles Content-Length, chunked and close-delimited bodies; of the body only
the first :data:`BODY_PREVIEW` bytes are kept.

One request is in flight per connection (no pipelining). Connections are
pooled by origin (scheme, host, port): an idle connection only ever carries
requests for the origin it was opened to. Timeouts are enforced by one sweeper
task (every 50 ms) rather than a timer per request. One connection (the
asyncio protocol and its framing) is engine/transports/fast_conn.py.

A connection answers exactly the request written on it: bytes that nobody
asked for (a second answer, or anything arriving while it is idle) close it,
so an answer is never counted twice or matched to a later request. The one
case no HTTP/1.1 client can tell apart: stray bytes that arrive only after the
next request was written look like that request's answer (HTTP/1.1 has no
request ids); the real answer then arrives as stray bytes, and closes it.
"""

from __future__ import annotations

import asyncio
import collections
import ssl
import time
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import urlsplit

from engine.domain.outcomes import ErrorKind
from engine.transports.base import Headers, Reply, TransportError
from engine.transports.fast_conn import Conn, Origin

_SWEEP_S = 0.05
_ROUTES_MAX = 1024  # (method, URL) heads cached; read URLs carry ids, so the cache is bounded


class FastTransport:
    """The pool: at most ``pool_size`` connections in all, over every origin.

    The bound is global, not per origin, because it is the run's concurrency
    (the runner sets it to the number of virtual users, each with one request
    in flight): a second origin (``--read-api``) must not double the sockets
    and file descriptors a run opens. When the bound is reached and the origin
    asked for has no idle connection, the least recently used idle connection
    of another origin is closed to make room; a request waits only while every
    connection is busy."""

    answers_wait = True
    """An answer (a reply or a transport error from the socket) always comes in a
    later turn of the event loop (``data_received``/``connection_lost``), never
    during the call: a request that got one has yielded to the loop."""

    def __init__(
        self,
        *,
        pool_size: int,
        timeout: float,
        clock: Callable[[], float] = time.perf_counter,
        replace: frozenset[str] = frozenset(),
    ) -> None:
        self._clock = clock
        # its own headers, each left out where the run's --header replaces it
        own = {"user-agent": b"User-Agent: webhookload\r\n", "accept": b"Accept: */*\r\n"}
        self._own = b"".join(v for k, v in own.items() if k not in replace)
        self._ctype = b"" if "content-type" in replace else b"Content-Type: application/json\r\n"
        self._pool_size = pool_size
        self._timeout = timeout
        self._origins: dict[tuple[str, str, int], Origin] = {}
        self._routes: dict[tuple[str, str], tuple[Origin, bytes]] = {}
        self._names: dict[str, bytes] = {}  # header name -> b"Name: %s\r\n", encoded once
        self._busy: set[Conn] = set()
        self._open = 0  # connections open or opening: what pool_size bounds
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._loop = asyncio.get_running_loop()
        self._sweeper = self._loop.create_task(self._sweep())
        self._closed = False

    def _route(self, method: str, url: str) -> tuple[Origin, bytes]:
        """The URL's origin and the request head up to Content-Length."""
        parts = urlsplit(url)
        tls = parts.scheme == "https"
        host = parts.hostname or "localhost"
        port = parts.port or (443 if tls else 80)
        origin = self._origins.get((parts.scheme, host, port))
        if origin is None:
            ctx = ssl.create_default_context() if tls else None
            origin = self._origins[parts.scheme, host, port] = Origin(host, port, ctx)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        head = f"{method} {target} HTTP/1.1\r\nHost: {parts.netloc}\r\n".encode() + self._own
        if len(self._routes) >= _ROUTES_MAX:
            self._routes.clear()  # the few hot URLs come straight back
        self._routes[method, url] = (origin, head)
        return origin, head

    async def _connect(self, origin: Origin) -> Conn:
        host, port = origin.host, origin.port
        try:
            transport, conn = await asyncio.wait_for(
                self._loop.create_connection(
                    lambda: Conn(self, origin), host, port, ssl=origin.ctx
                ),
                self._timeout,
            )
        except TimeoutError:
            raise TransportError(ErrorKind.TIMEOUT, f"connect to {host}:{port}") from None
        except OSError as exc:
            raise TransportError(ErrorKind.CONNECT, exc.strerror or str(exc)) from None
        conn.transport = transport  # uvloop may call connection_made a tick later
        if conn.lost or transport.is_closing():  # closed before we could use it
            transport.abort()
            raise TransportError(ErrorKind.CONNECT, "server closed the connection")
        if self._closed:
            transport.abort()
            raise TransportError(ErrorKind.OTHER, "transport closed")
        conn.closed = False  # admitted: from here on, _drop gives its place back
        return conn

    def _frame(
        self, method: str, url: str, body: bytes | None, headers: Headers
    ) -> tuple[Origin, bytes]:
        """The request's origin and its bytes: the cached head, then ``headers``."""
        route = self._routes.get((method, url))
        origin, head = route if route is not None else self._route(method, url)
        names = self._names
        for name, value in headers:  # after the cached head, which stays one per URL
            line = names.get(name)
            if line is None:  # a token may hold "%": escaped for the format
                if len(names) >= _ROUTES_MAX:
                    names.clear()
                line = names[name] = name.encode().replace(b"%", b"%%") + b": %s\r\n"
            head += line % value.encode()
        if body is None:
            return origin, head + b"\r\n"
        return origin, b"%s%sContent-Length: %d\r\n\r\n%s" % (head, self._ctype, len(body), body)

    def start(
        self, method: str, url: str, body: bytes | None, headers: Headers = ()
    ) -> asyncio.Future[Reply] | None:
        """The request written now on an idle connection, and the future of its
        answer; None when it cannot be started so (no idle connection to its
        origin, or closed): the caller then awaits :meth:`post` or :meth:`get`.

        The hot path of a walker: awaiting this future directly, a request costs
        no coroutine of its own (docs/PERFORMANCE.md, section 9). A caller
        cancelled while awaiting it leaves the connection busy until its answer
        is complete (it is then reused, its state known) or the sweeper's
        timeout (then closed), where :meth:`_request` closes it at once."""
        if self._closed:
            return None
        origin, data = self._frame(method, url, body, headers)
        idle = origin.idle
        if not idle:
            return None
        conn = idle.popitem()[0]
        self._busy.add(conn)
        waiter: asyncio.Future[Reply] = self._loop.create_future()
        conn.send(data, waiter, time.monotonic() + self._timeout)
        return waiter

    async def _request(
        self, method: str, url: str, body: bytes | None, headers: Headers = ()
    ) -> Reply:
        if self._closed:
            raise TransportError(ErrorKind.OTHER, "transport closed")
        origin, data = self._frame(method, url, body, headers)
        conn: Conn | None = None
        try:
            idle = origin.idle
            conn = idle.popitem()[0] if idle else await self._acquire(origin)
            self._busy.add(conn)
            waiter: asyncio.Future[Reply] = self._loop.create_future()
            conn.send(data, waiter, time.monotonic() + self._timeout)
            return await waiter
        except BaseException:
            if conn is not None and conn.waiter is not None:
                conn._abort()  # cancelled or failed mid-request: its state is unknown
            raise

    async def _acquire(self, origin: Origin) -> Conn:
        """An idle connection to ``origin``, a new one while the pool has room
        (made by closing another origin's idle one if need be), or wait.

        (The caller takes an idle connection itself, without this coroutine:
        with pool size = VUs, as the runner sets it, a request never waits.)"""
        while True:
            if self._closed:
                raise TransportError(ErrorKind.OTHER, "transport closed")
            if origin.idle:
                return origin.idle.popitem()[0]
            if self._open < self._pool_size or self._evict_idle():
                self._open += 1
                try:
                    return await self._connect(origin)
                except BaseException:
                    self._open -= 1
                    self._wake_one()
                    raise
            waiter: asyncio.Future[None] = self._loop.create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled():
                    self._wake_one()  # woken, then cancelled: pass the turn on
                waiter.cancel()  # _wake_one skips it, and the deque drops it then
                raise

    def _evict_idle(self) -> bool:
        """Close the least recently used idle connection, of any origin; its
        place goes to the caller (so no waiter is woken for it)."""
        for origin in self._origins.values():
            if origin.idle:
                conn = next(iter(origin.idle))
                del origin.idle[conn]
                conn.closed = True
                self._open -= 1
                if conn.transport is not None:
                    conn.transport.abort()
                return True
        return False

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _release(self, conn: Conn) -> None:
        self._busy.discard(conn)
        if self._closed or conn.closed:
            conn._abort()
            return
        conn.origin.idle[conn] = None
        if self._waiters:
            self._wake_one()

    def _forget(self, conn: Conn) -> None:
        """``conn`` closed: it leaves the pool and frees its place (called once per conn)."""
        self._busy.discard(conn)
        conn.origin.idle.pop(conn, None)
        self._open -= 1
        if self._waiters:
            self._wake_one()

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(_SWEEP_S)
            now = time.monotonic()
            late = [c for c in self._busy if c.waiter is not None and c.deadline < now]
            for conn in late:
                why = f"no response within {self._timeout:g}s"
                conn._fail(TransportError(ErrorKind.TIMEOUT, why))
                conn._abort()

    def check_invariants(self) -> None:
        """For tests: every connection is in at most one place, idle ones are
        open and unclaimed, and at most ``pool_size`` are open."""
        idle = [c for o in self._origins.values() for c in o.idle]
        assert len(set(idle)) == len(idle)
        assert not self._busy.intersection(idle)
        assert all(not c.closed and c.waiter is None for c in idle)
        assert all(not c.closed for c in self._busy)
        assert len(idle) + len(self._busy) <= self._open <= self._pool_size

    # post and get hand back the request's coroutine itself: as ``async def``
    # wrappers they added a coroutine and a frame to every request's await chain
    # (resumed and suspended once per request; docs/PERFORMANCE.md, section 8)
    def post(self, url: str, body: bytes, headers: Headers = ()) -> Coroutine[Any, Any, Reply]:
        return self._request("POST", url, body, headers)

    def get(self, url: str) -> Coroutine[Any, Any, Reply]:
        return self._request("GET", url, None)

    async def aclose(self) -> None:
        self._closed = True
        self._sweeper.cancel()
        conns = [*self._busy, *(c for o in self._origins.values() for c in o.idle)]
        for conn in conns:
            conn._fail(TransportError(ErrorKind.OTHER, "transport closed"))
            conn._abort()
        while self._waiters:  # each sees the transport closed
            self._wake_one()
        await asyncio.sleep(0)
