"""aiohttp transport: the mature general-purpose asyncio client (~1/5 of `fast` per CPU-s)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import aiohttp

from engine.transports.base import BODY_PREVIEW, Reply, TransportError

_JSON_HEADERS = {"Content-Type": "application/json"}


def _why(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


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
            headers={"User-Agent": "webhookload"},
        )

    async def _do(self, method: str, url: str, body: bytes | None) -> Reply:
        try:
            async with self._session.request(
                method, url, data=body, headers=_JSON_HEADERS if body is not None else None
            ) as resp:
                try:
                    data = await resp.read()
                except TimeoutError:
                    raise
                except (aiohttp.ClientError, OSError) as exc:
                    raise TransportError("other", f"response cut short: {_why(exc)}") from None
                return resp.status, self._clock(), data[:BODY_PREVIEW]
        except TimeoutError as exc:
            raise TransportError("timeout", str(exc)) from None
        except (aiohttp.ClientConnectionError, ConnectionError) as exc:
            raise TransportError("connect", _why(exc)) from None
        except (aiohttp.ClientError, OSError) as exc:
            raise TransportError("other", _why(exc)) from None

    async def post(self, url: str, body: bytes) -> Reply:
        return await self._do("POST", url, body)

    async def get(self, url: str) -> Reply:
        return await self._do("GET", url, None)

    async def aclose(self) -> None:
        await self._session.close()
        # Let aiohttp's transports finish closing so no ResourceWarning leaks.
        await asyncio.sleep(0)
