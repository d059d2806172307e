"""aiohttp transport: the mature general-purpose asyncio client (~1/5 of `fast` per CPU-s).

Bounded like every transport (docs/HOSTILE.md): the body is streamed and at
most :data:`BODY_MAX` bytes are read (never decompressed), a redirect is
never followed, the head is bounded by aiohttp's own parser limits (8 KiB a
line, 128 fields), interim answers are counted (:class:`_BoundedResponse`),
and ``ClientTimeout(total=...)`` is the request's deadline.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import aiohttp
from aiohttp.connector import Connection
from aiohttp.http_parser import RawResponseMessage
from aiohttp.streams import StreamReader

from engine.domain.outcomes import ErrorKind
from engine.transports.base import (
    ACCEPT_IDENTITY,
    INTERIM_MAX,
    Headers,
    Preview,
    Reply,
    TransportError,
    redirect_preview,
    reply_with,
)

_JSON_HEADERS = {"Content-Type": "application/json"}
_CHUNK = 64 * 1024


def _head_too_big(exc: BaseException) -> bool:
    """aiohttp's own head limits (a line or field too long, too many fields)."""
    text = str(exc)
    return "Got more than" in text or "Too many headers" in text or "too long" in text.lower()


def _why(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _retrieve(fut: asyncio.Future[None]) -> None:
    if not fut.cancelled():
        fut.exception()


def _watch_close(resp: aiohttp.ClientResponse) -> asyncio.Future[None] | None:
    """For a body that ends where the connection does, the future of that end.

    aiohttp ends such a body at EOF whether the connection closed (FIN) or
    was reset (RST): a reset one is cut short, and only the connection's
    ``closed`` future (an exception on a reset) tells the two apart. Framed
    bodies (Content-Length, chunked, none) need no watch; aiohttp checks them.
    """
    if (
        resp.content_length is not None
        or resp.status < 200
        or resp.status in (204, 304)
        or resp.method == "HEAD"
        or "chunked" in resp.headers.get("Transfer-Encoding", "").lower()
        or resp.connection is None
        or resp.connection.protocol is None
    ):
        return None
    closed = resp.connection.protocol.closed
    if closed is not None:
        closed.add_done_callback(_retrieve)
    return closed


class _BoundedResponse(aiohttp.ClientResponse):
    """Counts the interim answers aiohttp skips: past :data:`INTERIM_MAX` the
    request is ``oversized`` (aiohttp itself would skip them for ever, queueing
    every one it parses faster than it skips them: 260 MB in a 3 s run)."""

    async def start(self, connection: Connection) -> aiohttp.ClientResponse:
        protocol = connection.protocol
        if protocol is None:
            return await super().start(connection)
        read = protocol.read
        seen = 0

        async def counted() -> tuple[RawResponseMessage, StreamReader]:
            nonlocal seen
            message, payload = await read()
            if 100 <= message.code < 200 and message.code != 101:
                seen += 1
                if seen > INTERIM_MAX:
                    raise TransportError(ErrorKind.OVERSIZED, f"over {INTERIM_MAX} interim answers")
            return message, payload

        protocol.read = counted  # type: ignore[method-assign]  # this response's reads only
        try:
            return await super().start(connection)
        finally:
            del protocol.read  # the class's own again, for the connection's next response


class AiohttpTransport:
    def __init__(
        self,
        *,
        pool_size: int,
        timeout: float,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._clock = clock
        connector = aiohttp.TCPConnector(
            limit=pool_size, limit_per_host=pool_size, enable_cleanup_closed=False
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=timeout),
            skip_auto_headers=("User-Agent",),
            headers={"User-Agent": "webhookload", ACCEPT_IDENTITY[0]: ACCEPT_IDENTITY[1]},
            auto_decompress=False,
            response_class=_BoundedResponse,
        )

    async def _do(self, method: str, url: str, body: bytes | None, headers: Headers = ()) -> Reply:
        sent: dict[str, str] | list[tuple[str, str]] | None = (
            _JSON_HEADERS if body is not None else None
        )
        if headers:
            sent = [*_JSON_HEADERS.items(), *headers]
        try:
            async with self._session.request(
                method, url, data=body, headers=sent, allow_redirects=False
            ) as resp:
                status = resp.status
                location = resp.headers.get("Location")
                if location is not None and 300 <= status < 400:  # never followed
                    resp.close()  # drops the connection: its body is never read
                    return status, self._clock(), redirect_preview(location)
                closed = _watch_close(resp)
                data = Preview()
                try:
                    async for chunk in resp.content.iter_chunked(_CHUNK):
                        data.add(chunk)
                except TransportError:
                    resp.close()  # past BODY_MAX: the rest is never read
                    raise
                except TimeoutError:
                    raise
                except (aiohttp.ClientError, OSError) as exc:
                    why = f"response cut short: {_why(exc)}"
                    raise TransportError(ErrorKind.OTHER, why) from None
                if closed is not None and closed.done() and closed.exception() is not None:
                    why = f"response cut short: {closed.exception()}"
                    raise TransportError(ErrorKind.OTHER, why)
                if status >= 500 or status == 429:  # may say when to retry
                    header = resp.headers.get("Retry-After")
                    return reply_with(status, self._clock(), data.data, header)
                return status, self._clock(), data.data
        except TimeoutError as exc:
            raise TransportError(ErrorKind.TIMEOUT, str(exc)) from None
        except (aiohttp.ClientConnectionError, ConnectionError) as exc:
            raise TransportError(ErrorKind.CONNECT, _why(exc)) from None
        except (aiohttp.ClientError, OSError) as exc:
            if _head_too_big(exc):
                raise TransportError(ErrorKind.OVERSIZED, f"response head: {_why(exc)}") from None
            raise TransportError(ErrorKind.OTHER, _why(exc)) from None

    async def post(self, url: str, body: bytes, headers: Headers = ()) -> Reply:
        return await self._do("POST", url, body, headers)

    async def get(self, url: str) -> Reply:
        return await self._do("GET", url, None)

    async def aclose(self) -> None:
        await self._session.close()
        # Let aiohttp's transports finish closing so no ResourceWarning leaks.
        await asyncio.sleep(0)
