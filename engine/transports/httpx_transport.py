"""httpx transport: the user's ecosystem of choice, and HTTP/2 (``--http2``).

About eight times slower than aiohttp under load (docs/BENCHMARKS.md, the
``--no-ui`` rows), so it is an option, not the default.

Bounded like every transport (docs/HOSTILE.md): the body is read raw (never
decompressed) and at most :data:`BODY_MAX` bytes of it; a redirect is never
followed, nor even parsed into a next request (a ``Location`` httpx cannot
parse would raise outside its own errors); the head, interim answers
included, is bounded as ``fast`` bounds it (engine/transports/head_guard.py);
and, since httpx's timeouts are per read, not per request,
the whole request runs under one deadline of ``timeout`` seconds.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable

import httpcore
import httpx

from engine.domain.outcomes import ErrorKind
from engine.transports.base import (
    ACCEPT_IDENTITY,
    Headers,
    Preview,
    Reply,
    TransportError,
    redirect_preview,
    reply_with,
)
from engine.transports.head_guard import GuardedBackend

_JSON_HEADERS = {"Content-Type": "application/json"}


def _why(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


class _Redirect(Exception):
    """Raised by the response hook at a 3xx, before httpx builds its next request."""

    def __init__(self, status: int, location: bytes) -> None:
        super().__init__(status)
        self.status = status
        self.location = location


async def _stop_at_redirect(resp: httpx.Response) -> None:
    location = resp.headers.get("Location")
    if location is not None and 300 <= resp.status_code < 400:
        await resp.aclose()
        raise _Redirect(resp.status_code, redirect_preview(location))


_RCVBUF = 64 * 1024
"""The socket's receive buffer (the kernel doubles it): under uvloop, libuv reads
a ready socket up to 32 times per wakeup, and anyio queues every read, so a
server streaming a body as fast as loopback allows queued megabytes per
connection (a 10 s run against an endless body peaked at 160 MB). A webhook's
answer is a few hundred bytes; this buffer bounds what one wakeup can queue."""


def _transport(pool_size: int, http2: bool) -> httpx.AsyncHTTPTransport:
    """httpx's own transport, its connections' heads bounded (HTTP/1.1: see
    engine/transports/head_guard.py) and their receive buffers small."""
    limits = httpx.Limits(max_connections=pool_size, max_keepalive_connections=pool_size)
    options = [(socket.SOL_SOCKET, socket.SO_RCVBUF, _RCVBUF)]
    transport = httpx.AsyncHTTPTransport(
        http1=not http2, http2=http2, limits=limits, socket_options=options
    )
    # httpx offers no network_backend argument; httpcore's pool does, and this
    # is where httpx keeps it (checked, so an httpx that moves it fails loudly)
    pool = getattr(transport, "_pool", None)
    if not isinstance(pool, httpcore.AsyncConnectionPool):
        raise RuntimeError(f"httpx {httpx.__version__}: no connection pool to bound")
    if not http2:
        pool._network_backend = GuardedBackend(pool._network_backend)
    return transport


class HttpxTransport:
    def __init__(
        self,
        *,
        pool_size: int,
        timeout: float,
        http2: bool = False,
        clock: Callable[[], float] = time.perf_counter,
        replace: frozenset[str] = frozenset(),
    ) -> None:
        self._clock = clock
        self._timeout = timeout
        self._json = {} if "content-type" in replace else _JSON_HEADERS  # --header's instead
        # httpx speaks HTTP/2 only where TLS negotiates it (ALPN); a load test
        # of an http:// target with --http2 would silently run HTTP/1.1. So
        # --http2 means HTTP/2 only: prior knowledge (h2c) on cleartext, and a
        # target that cannot speak it fails loudly instead of being mismeasured.
        self._client = httpx.AsyncClient(
            transport=_transport(pool_size, http2),
            timeout=httpx.Timeout(timeout),
            headers={"User-Agent": "webhookload", ACCEPT_IDENTITY[0]: ACCEPT_IDENTITY[1]},
            follow_redirects=False,
            event_hooks={"response": [_stop_at_redirect]},
        )

    async def _do(self, method: str, url: str, body: bytes | None, headers: Headers = ()) -> Reply:
        try:
            async with asyncio.timeout(self._timeout):
                return await self._exchange(method, url, body, headers)
        except TimeoutError:
            why = f"no complete response within {self._timeout:g}s"
            raise TransportError(ErrorKind.TIMEOUT, why) from None

    async def _exchange(self, method: str, url: str, body: bytes | None, headers: Headers) -> Reply:
        sent: dict[str, str] | list[tuple[str, str]] | None = (
            self._json if body is not None else None
        )
        if headers:
            sent = [*self._json.items(), *headers]
        request = self._client.build_request(method, url, content=body, headers=sent)
        try:
            resp = await self._client.send(request, stream=True)
        except _Redirect as redirect:
            return redirect.status, self._clock(), redirect.location
        except httpx.TimeoutException as exc:
            raise TransportError(ErrorKind.TIMEOUT, _why(exc)) from None
        except httpx.RemoteProtocolError as exc:
            # httpcore's one structured hint: no byte of a response came back
            # ("Server disconnected without sending a response"); any other
            # protocol error is a malformed answer.
            nothing = "without sending a response" in str(exc)
            kind = ErrorKind.CONNECT if nothing else ErrorKind.OTHER
            if "Receive buffer too long" in str(exc):  # httpcore's bound on a head
                kind = ErrorKind.OVERSIZED
            raise TransportError(kind, _why(exc)) from None
        except (httpx.ConnectError, httpx.ReadError, httpx.WriteError) as exc:
            raise TransportError(ErrorKind.CONNECT, _why(exc)) from None
        except httpx.HTTPError as exc:
            raise TransportError(ErrorKind.OTHER, _why(exc)) from None
        data = Preview()
        try:
            async for chunk in resp.aiter_raw():  # raw: never inflated
                data.add(chunk)
        except httpx.TimeoutException as exc:
            raise TransportError(ErrorKind.TIMEOUT, _why(exc)) from None
        except httpx.HTTPError as exc:  # the head arrived, the body did not
            raise TransportError(ErrorKind.OTHER, f"response cut short: {_why(exc)}") from None
        finally:
            await resp.aclose()
        status = resp.status_code
        if status >= 500 or status == 429:  # may say when to retry
            header = resp.headers.get("Retry-After")
            return reply_with(status, self._clock(), data.data, header)
        return status, self._clock(), data.data

    async def post(self, url: str, body: bytes, headers: Headers = ()) -> Reply:
        return await self._do("POST", url, body, headers)

    async def get(self, url: str) -> Reply:
        return await self._do("GET", url, None)

    async def aclose(self) -> None:
        await self._client.aclose()
