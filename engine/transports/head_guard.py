"""The bound on a response head for ``--client httpx`` (docs/HOSTILE.md).

httpcore (h11) skips interim answers (``100 Continue``, ``103 Early Hints``)
with no count, each in bounded memory: a server sending them endlessly kept a
request alive until its deadline. httpx offers no hook between those answers,
so the bound sits one layer lower, on the bytes: a network stream that scans
what arrives after each request was written, counting the heads that end in
it, until the final (non-1xx) head. Past :data:`INTERIM_MAX` interim answers,
or :data:`HEAD_MAX` bytes before the final head ends, the read raises the
``oversized`` :class:`TransportError`; httpcore closes the connection, and
httpx passes an error it does not know through unchanged.

Only the head is scanned (a few hundred bytes of a normal answer); once the
final head is seen the stream is a plain pass-through until the next request.
HTTP/1.1 only: with ``--http2`` the frames are binary and h2 bounds a head.
"""

# ruff: noqa: ASYNC109  (the `timeout` parameters are httpcore's interface, not ours)

from __future__ import annotations

import re
import ssl
from collections.abc import Iterable
from typing import Any

import httpcore

from engine.domain.outcomes import ErrorKind
from engine.transports.base import HEAD_MAX, INTERIM_MAX, TransportError, oversized

_HEAD_END = re.compile(rb"\r?\n\r?\n")
"""Where a head ends (h11 accepts bare LF line ends as well)."""


def _is_interim(head: bytes | bytearray) -> bool:
    """A head whose status line is ``HTTP/x.y 1xx`` other than 101."""
    parts = head.split(b"\n", 1)[0].split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
        return False
    code = bytes(parts[1])
    return len(code) == 3 and code[:1] == b"1" and code != b"101"


class HeadScanner:
    """Counts the heads of one answer as its bytes arrive (see the module docstring).

    Anything not recognised as an interim head counts as the final one and
    ends the scan: a misreading can only hand the answer back to h11's own
    limits, never cut a real answer short."""

    __slots__ = ("_active", "_interims", "_pending", "_seen")

    def __init__(self) -> None:
        self._active = False
        self._pending = b""
        self._seen = 0
        self._interims = 0

    def start(self) -> None:
        """A request was written: its answer's heads come next."""
        self._active = True
        self._pending = b""
        self._seen = 0
        self._interims = 0

    def feed(self, data: bytes) -> None:
        """Bytes as read; raises ``oversized`` past a bound."""
        if not self._active:
            return
        buf = self._pending + data if self._pending else data
        pos = 0
        while (end := _HEAD_END.search(buf, pos)) is not None:
            head = buf[pos : end.start()]
            pos = end.end()
            if not _is_interim(head):
                self._active = False
                self._pending = b""
                return
            self._interims += 1
            if self._interims > INTERIM_MAX:
                raise TransportError(ErrorKind.OVERSIZED, f"over {INTERIM_MAX} interim answers")
        self._seen += pos
        self._pending = buf[pos:]
        if self._seen + len(self._pending) > HEAD_MAX:
            raise oversized("response head", HEAD_MAX)


class GuardedStream(httpcore.AsyncNetworkStream):
    """A network stream whose answers' heads are bounded (module docstring)."""

    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner
        self._scan = HeadScanner()

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data = await self._inner.read(max_bytes, timeout)
        self._scan.feed(data)
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._scan.start()
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return GuardedStream(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


SocketOptions = Iterable[Any]


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, each connection's stream a :class:`GuardedStream`."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self._inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: SocketOptions | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        return GuardedStream(stream)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: SocketOptions | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._inner.connect_unix_socket(path, timeout, socket_options)
        return GuardedStream(stream)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
