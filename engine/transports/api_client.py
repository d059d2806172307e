"""The client of a scenario's API steps: whole answers, for ``capture``.

A webhook's answer is judged by its status, and the transports keep only the
first bytes of its body (:data:`~engine.transports.base.BODY_PREVIEW`). An API
step (``POST /api/v1/payments``) binds values from its JSON answer for the
events that follow, so it needs the whole body: these calls go through this
small aiohttp client (kept-alive connections, made on first use), whatever
``--client`` sends the webhooks with. One call per flow that starts with an
API step, so its cost is not the webhooks' hot path.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import aiohttp

from engine.domain.outcomes import ErrorKind
from engine.transports.base import Headers, TransportError

MAX_ANSWER = 1 << 20
"""The most of an answer read (1 MiB): anything a target sends is hostile."""


class ApiClient:
    """``await call(method, url, body, headers)`` -> (status, done, body)."""

    def __init__(
        self, *, pool_size: int, timeout: float, clock: Callable[[], float] = time.perf_counter
    ) -> None:
        self._pool_size = pool_size
        self._timeout = timeout
        self._clock = clock
        self._session: aiohttp.ClientSession | None = None

    async def call(
        self, method: str, url: str, body: bytes | None, headers: Headers = ()
    ) -> tuple[int, float, bytes]:
        session = self._session
        if session is None:
            connector = aiohttp.TCPConnector(limit=self._pool_size, enable_cleanup_closed=False)
            timeout = aiohttp.ClientTimeout(total=self._timeout)
            session = self._session = aiohttp.ClientSession(
                connector=connector, timeout=timeout, auto_decompress=False
            )
        sent = dict(headers)
        if body is not None:
            sent.setdefault("Content-Type", "application/json")
        try:
            async with session.request(method, url, data=body, headers=sent) as resp:
                data = await resp.content.read(MAX_ANSWER)
                return resp.status, self._clock(), data
        except TimeoutError:
            raise TransportError(ErrorKind.TIMEOUT, f"{method} {url}") from None
        except aiohttp.ClientConnectionError as exc:
            raise TransportError(ErrorKind.CONNECT, str(exc) or type(exc).__name__) from None
        except aiohttp.ClientError as exc:
            raise TransportError(ErrorKind.OTHER, str(exc) or type(exc).__name__) from None

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
