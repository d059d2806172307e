"""pyreqwest transport (Rust reqwest/hyper): an optional alternative (``pip install
webhookload[pyreqwest]``), measured against ``fast`` in docs/BENCHMARKS.md.

pyreqwest answers a task cancellation with a ``CancelledError`` of its own,
which escapes anyio's cancel scopes (a run's deadline would not stop it). So
the request runs in an inner task behind ``asyncio.shield``: the outer task
sees the genuine cancellation, and the inner request is cancelled after it.

Bounded like every transport (docs/HOSTILE.md): the body is streamed and at
most :data:`BODY_MAX` bytes are read (decompression is off), redirects are
never followed, the head is bounded by hyper's own limits, and reqwest's
``timeout`` is a total deadline (connect to the body's last byte).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

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

MIMALLOC_ENV = {"MIMALLOC_PURGE_DELAY": "0", "MIMALLOC_ARENA_EAGER_COMMIT": "0"}
"""pyreqwest's Rust side allocates with mimalloc, which by default commits its
arenas eagerly and hands freed pages back to the OS only after a delay: against
a hostile target (a connection dropped mid-body every few ms) that kept ~25 MB
more resident than the run used (peaks of 105-109 MB against the 100 MB bound,
80-85 MB with both off: docs/HOSTILE.md). mimalloc reads these when its library
loads, so they are set before the import below; a value already in the
environment (the user's) wins."""
for _name, _value in MIMALLOC_ENV.items():
    os.environ.setdefault(_name, _value)

from pyreqwest.client import ClientBuilder  # noqa: E402  (after the allocator's settings)
from pyreqwest.exceptions import (  # noqa: E402
    NetworkError,
    PyreqwestError,
    ReadError,
    RequestTimeoutError,
)
from pyreqwest.response import Response  # noqa: E402

_JSON = {"Content-Type": "application/json"}


def _header(resp: Response, name: str, unreadable: str | None = None) -> str | None:
    """A header's value; ``unreadable`` when it is not ASCII text (pyreqwest
    raises on those: a hostile target's bytes must not crash the run)."""
    try:
        return resp.get_header(name)
    except ValueError:
        return unreadable


def _why(exc: PyreqwestError) -> str:
    """``connection timeout: operation timed out``: the error's message and its
    innermost cause (``str()`` is the repr of a tuple with a dict of causes)."""
    details: Any = getattr(exc, "details", None)  # a DetailedPyreqwestError's
    found = details.get("causes") if isinstance(details, dict) else None
    causes = [c.get("message") for c in found or () if isinstance(c, dict)]
    last = causes[-1] if causes and isinstance(causes[-1], str) else ""
    return f"{exc.message}: {last}" if last and last != exc.message else str(exc.message)


def _retrieve(task: asyncio.Future[Reply]) -> None:
    """Mark an abandoned inner request's outcome as seen (no 'never retrieved' noise)."""
    if not task.cancelled():
        task.exception()


class PyreqwestTransport:
    def __init__(
        self,
        *,
        pool_size: int,
        timeout: float,
        clock: Callable[[], float] = time.perf_counter,
        replace: frozenset[str] = frozenset(),
    ) -> None:
        self._clock = clock
        self._json = {} if "content-type" in replace else _JSON  # --header's instead
        builder = ClientBuilder().max_connections(pool_size).timeout(timedelta(seconds=timeout))
        if "user-agent" not in replace:
            builder = builder.user_agent("webhookload")
        # a redirect is an answer, never followed; bodies are never decompressed (docs/HOSTILE.md)
        self._client = (
            builder.error_for_status(False)
            .follow_redirects(False)
            .gzip(False)
            .brotli(False)
            .deflate(False)
            .zstd(False)
            .default_headers({ACCEPT_IDENTITY[0]: ACCEPT_IDENTITY[1]})
            .build()
        )

    async def _send(
        self, method: str, url: str, body: bytes | None, headers: Headers = ()
    ) -> Reply:
        inner = asyncio.ensure_future(self._request(method, url, body, headers))
        try:
            return await asyncio.shield(inner)
        except asyncio.CancelledError:
            inner.add_done_callback(_retrieve)
            inner.cancel()
            raise

    async def _request(
        self, method: str, url: str, body: bytes | None, headers: Headers = ()
    ) -> Reply:
        builder = self._client.request(method, url)
        if body is not None:
            builder = builder.headers(self._json).body_bytes(body)
        for name, value in headers:
            builder = builder.header(name, value)
        data = Preview()
        try:
            async with builder.build_streamed() as resp:
                status = resp.status
                location = (
                    _header(resp, "Location", "(not ASCII text)") if 300 <= status < 400 else None
                )
                if location is not None:  # never followed, its body never read
                    return status, self._clock(), redirect_preview(location)
                reader = resp.body_reader
                while (chunk := await reader.read_chunk()) is not None:
                    data.add(memoryview(chunk))  # no copy of the chunk
        except RequestTimeoutError as exc:
            raise TransportError(ErrorKind.TIMEOUT, _why(exc)) from None
        except ReadError as exc:  # pyreqwest: "network error while reading body"
            raise TransportError(ErrorKind.OTHER, f"response cut short: {exc}") from None
        except NetworkError as exc:
            raise TransportError(ErrorKind.CONNECT, _why(exc)) from None
        except PyreqwestError as exc:
            if "head is too large" in str(exc):  # hyper's bound on a head
                raise TransportError(ErrorKind.OVERSIZED, _why(exc)) from None
            raise TransportError(ErrorKind.OTHER, _why(exc)) from None
        if status >= 500 or status == 429:  # may say when to retry
            header = _header(resp, "Retry-After")
            return reply_with(status, self._clock(), data.data, header)
        return status, self._clock(), data.data

    async def post(self, url: str, body: bytes, headers: Headers = ()) -> Reply:
        return await self._send("POST", url, body, headers)

    async def get(self, url: str) -> Reply:
        return await self._send("GET", url, None)

    async def aclose(self) -> None:
        await self._client.close()
