"""What one more ``async def`` wrapper costs a request, on uvloop.

A request resumed through an await chain pays per frame; this times 200,000
awaited futures (each resolved by the loop, as a response is) through
``send -> post -> _request``, with ``post`` as an ``async def`` that awaits
``_request`` and as a plain ``def`` that returns its coroutine (what
``FastTransport.post`` does since docs/PERFORMANCE.md, section 8):

    .venv/bin/python bench/await_chain.py
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any

import uvloop

N = 200_000


class Chain:
    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()

    async def _request(self, x: int) -> int:
        f: asyncio.Future[int] = self.loop.create_future()
        self.loop.call_soon(f.set_result, x)
        return await f

    async def post_async(self, x: int) -> int:
        return await self._request(x)

    def post_plain(self, x: int) -> Coroutine[Any, Any, int]:
        return self._request(x)


async def send(post: Callable[[int], Coroutine[Any, Any, int]], x: int) -> int:
    return await post(x)


async def per_request(name: str) -> float:
    post = getattr(Chain(), name)
    t0 = time.process_time()
    for i in range(N):
        await send(post, i)
    return (time.process_time() - t0) / N * 1e6


async def main() -> None:
    for _ in range(3):
        for name in ("post_async", "post_plain"):
            print(f"{name}: {await per_request(name):.3f} us of CPU per request")


if __name__ == "__main__":
    uvloop.run(main())
