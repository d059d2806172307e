"""httpx transport: the user's ecosystem of choice, and HTTP/2 (``--http2``).

About eight times slower than aiohttp under load (docs/BENCHMARKS.md, the
``--no-ui`` rows), so it is an option, not the default.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from engine.domain.outcomes import ErrorKind
from engine.transports.base import BODY_PREVIEW, Headers, Reply, TransportError, reply_with

_JSON_HEADERS = {"Content-Type": "application/json"}


def _why(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


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
        self._json = {} if "content-type" in replace else _JSON_HEADERS  # --header's instead
        # httpx speaks HTTP/2 only where TLS negotiates it (ALPN); a load test
        # of an http:// target with --http2 would silently run HTTP/1.1. So
        # --http2 means HTTP/2 only: prior knowledge (h2c) on cleartext, and a
        # target that cannot speak it fails loudly instead of being mismeasured.
        self._client = httpx.AsyncClient(
            http1=not http2,
            http2=http2,
            timeout=httpx.Timeout(timeout),
            limits=httpx.Limits(max_connections=pool_size, max_keepalive_connections=pool_size),
            headers={"User-Agent": "webhookload"},
            follow_redirects=False,  # a redirect is an answer (engine/scenario/expect.py)
        )

    async def _do(self, method: str, url: str, body: bytes | None, headers: Headers = ()) -> Reply:
        sent: dict[str, str] | list[tuple[str, str]] | None = (
            self._json if body is not None else None
        )
        if headers:
            sent = [*self._json.items(), *headers]
        request = self._client.build_request(method, url, content=body, headers=sent)
        try:
            resp = await self._client.send(request, stream=True)
        except httpx.TimeoutException as exc:
            raise TransportError(ErrorKind.TIMEOUT, _why(exc)) from None
        except httpx.RemoteProtocolError as exc:
            # httpcore's one structured hint: no byte of a response came back
            # ("Server disconnected without sending a response"); any other
            # protocol error is a malformed answer.
            nothing = "without sending a response" in str(exc)
            kind = ErrorKind.CONNECT if nothing else ErrorKind.OTHER
            raise TransportError(kind, _why(exc)) from None
        except (httpx.ConnectError, httpx.ReadError, httpx.WriteError) as exc:
            raise TransportError(ErrorKind.CONNECT, _why(exc)) from None
        except httpx.HTTPError as exc:
            raise TransportError(ErrorKind.OTHER, _why(exc)) from None
        try:
            data = await resp.aread()
        except httpx.TimeoutException as exc:
            raise TransportError(ErrorKind.TIMEOUT, _why(exc)) from None
        except httpx.HTTPError as exc:  # the head arrived, the body did not
            raise TransportError(ErrorKind.OTHER, f"response cut short: {_why(exc)}") from None
        finally:
            await resp.aclose()
        status = resp.status_code
        if status >= 500 or status == 429:  # may say when to retry
            header = resp.headers.get("Retry-After")
            return reply_with(status, self._clock(), data[:BODY_PREVIEW], header)
        return status, self._clock(), data[:BODY_PREVIEW]

    async def post(self, url: str, body: bytes, headers: Headers = ()) -> Reply:
        return await self._do("POST", url, body, headers)

    async def get(self, url: str) -> Reply:
        return await self._do("GET", url, None)

    async def aclose(self) -> None:
        await self._client.aclose()
