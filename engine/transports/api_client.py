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
from typing import TYPE_CHECKING

from engine.domain.outcomes import ErrorKind
from engine.transports.base import ACCEPT_IDENTITY, Headers, TransportError, oversized

if TYPE_CHECKING:
    import aiohttp

MAX_ANSWER = 1 << 20
"""The most of an answer read (1 MiB; more is ``oversized``): anything a target
sends is hostile (docs/HOSTILE.md); an API step's answer is one JSON object."""


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
        # imported on the first call: aiohttp costs ~0.2 s of CPU to import, paid by
        # every run that imports this module, most of which have no API step
        # (docs/PERFORMANCE.md, section 9)
        import aiohttp

        from engine.transports.aiohttp_transport import _BoundedResponse as BoundedResponse

        session = self._session
        if session is None:
            connector = aiohttp.TCPConnector(limit=self._pool_size, enable_cleanup_closed=False)
            timeout = aiohttp.ClientTimeout(total=self._timeout)
            session = self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=timeout,
                skip_auto_headers=("User-Agent",),
                headers={"User-Agent": "webhookload", ACCEPT_IDENTITY[0]: ACCEPT_IDENTITY[1]},
                auto_decompress=False,
                response_class=BoundedResponse,  # at most INTERIM_MAX interim answers
            )
        sent = dict(headers)
        if body is not None:
            sent.setdefault("Content-Type", "application/json")
        try:
            # a redirect is never followed (docs/HOSTILE.md): a 3xx is just its status
            async with session.request(
                method, url, data=body, headers=sent, allow_redirects=False
            ) as resp:
                data = bytearray()
                while chunk := await resp.content.read(1 << 16):
                    data += chunk
                    if len(data) > MAX_ANSWER:
                        raise oversized("response body", MAX_ANSWER)
                return resp.status, self._clock(), bytes(data)
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
