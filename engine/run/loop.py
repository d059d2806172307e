"""Run a coroutine function on asyncio, with uvloop when it is installed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio

T = TypeVar("T")


def has_uvloop() -> bool:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return False
    return True


def run_main(func: Callable[[], Awaitable[T]]) -> T:
    options: dict[str, Any] = {"use_uvloop": has_uvloop()}
    return anyio.run(func, backend="asyncio", backend_options=options)


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A uvloop loop when uvloop is installed, else asyncio's default."""
    if has_uvloop():
        import uvloop

        loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
        return loop
    return asyncio.new_event_loop()
