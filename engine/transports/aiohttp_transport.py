"""aiohttp transport: the mature general-purpose asyncio client (~1/5 of `fast` per CPU-s)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import aiohttp

from engine.domain.outcomes import ErrorKind
from engine.transports.base import BODY_PREVIEW, Headers, Reply, TransportError, reply_with

_JSON_HEADERS = {"Content-Type": "application/json"}


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


class AiohttpTransport:
    def __init__(
        self,
        *,
        pool_size: int,
        timeout: float,
        clock: Callable[[], float] = time.perf_counter,
        replace: frozenset[str] = frozenset(),
    ) -> None:
        self._clock = clock
        self._json = {} if "content-type" in replace else _JSON_HEADERS  # --header's instead
        connector = aiohttp.TCPConnector(
            limit=pool_size, limit_per_host=pool_size, enable_cleanup_closed=False
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=timeout),
            skip_auto_headers=("User-Agent",),
            headers={} if "user-agent" in replace else {"User-Agent": "webhookload"},
        )

    async def _do(self, method: str, url: str, body: bytes | None, headers: Headers = ()) -> Reply:
        sent: dict[str, str] | list[tuple[str, str]] | None = (
            self._json if body is not None else None
        )
        if headers:
            sent = [*self._json.items(), *headers]
        try:
            # a redirect is an answer, never followed (engine/scenario/expect.py)
            async with self._session.request(
                method, url, data=body, headers=sent, allow_redirects=False
            ) as resp:
                closed = _watch_close(resp)
                try:
                    data = await resp.read()
                except TimeoutError:
                    raise
                except (aiohttp.ClientError, OSError) as exc:
                    why = f"response cut short: {_why(exc)}"
                    raise TransportError(ErrorKind.OTHER, why) from None
                if closed is not None and closed.done() and closed.exception() is not None:
                    why = f"response cut short: {closed.exception()}"
                    raise TransportError(ErrorKind.OTHER, why)
                status = resp.status
                if status >= 500 or status == 429:  # may say when to retry
                    header = resp.headers.get("Retry-After")
                    return reply_with(status, self._clock(), data[:BODY_PREVIEW], header)
                return status, self._clock(), data[:BODY_PREVIEW]
        except TimeoutError as exc:
            raise TransportError(ErrorKind.TIMEOUT, str(exc)) from None
        except (aiohttp.ClientConnectionError, ConnectionError) as exc:
            raise TransportError(ErrorKind.CONNECT, _why(exc)) from None
        except (aiohttp.ClientError, OSError) as exc:
            raise TransportError(ErrorKind.OTHER, _why(exc)) from None

    async def post(self, url: str, body: bytes, headers: Headers = ()) -> Reply:
        return await self._do("POST", url, body, headers)

    async def get(self, url: str) -> Reply:
        return await self._do("GET", url, None)

    async def aclose(self) -> None:
        await self._session.close()
        # Let aiohttp's transports finish closing so no ResourceWarning leaks.
        await asyncio.sleep(0)
