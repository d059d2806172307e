"""A transport without a network, for tests (as httpx's ``MockTransport``).

``FakeTransport(handler)`` answers each request with what ``handler`` says:
a status, or a status and a body, or those and response headers (of which,
as the real transports, it reads ``Retry-After`` on a 429 or 5xx); a handler that raises
:class:`~engine.transports.base.TransportError` is a request that got no
answer. With a :class:`~engine.load.clock.FakeClock` it makes pacing, stages
and arrivals testable exactly, without sockets or sleeps.

Not in the ``--client`` registry: a handler is code, which no command line
can name. Hand it to the runner instead:
``Runner(config, transport_factory=lambda _: FakeTransport(handler, clock=clock.now))``.

It answers at once, without yielding to the event loop (as a real transport
can when it fails fast): the load model's yield per iteration is what keeps
a run stoppable, and a test with this transport checks it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from engine.transports.base import BODY_PREVIEW, Headers, Reply, reply_with


@dataclass(frozen=True, slots=True)
class FakeRequest:
    """What the handler sees of a request."""

    method: str  # "POST" or "GET"
    url: str
    headers: tuple[tuple[str, str], ...]  # the extra headers only (the event's)
    body: bytes  # b"" for a GET


Handler = Callable[[FakeRequest], int | tuple[int, bytes] | tuple[int, bytes, Headers]]


class FakeTransport:
    """Calls ``handler`` for every request; stamps completion with ``clock``."""

    def __init__(self, handler: Handler, *, clock: Callable[[], float] = time.perf_counter) -> None:
        self._handler = handler
        self._clock = clock
        self.closed = False

    def _answer(self, request: FakeRequest) -> Reply:
        answer = self._handler(request)
        if not isinstance(answer, tuple):
            return answer, self._clock(), b""
        status, body = answer[0], answer[1]
        if len(answer) == 3 and (status >= 500 or status == 429):
            header = next((v for k, v in answer[2] if k.lower() == "retry-after"), None)
            return reply_with(status, self._clock(), body[:BODY_PREVIEW], header)
        return status, self._clock(), body[:BODY_PREVIEW]

    async def post(self, url: str, body: bytes, headers: Headers = ()) -> Reply:
        return self._answer(FakeRequest("POST", url, tuple(headers), body))

    async def get(self, url: str) -> Reply:
        return self._answer(FakeRequest("GET", url, (), b""))

    async def aclose(self) -> None:
        self.closed = True
