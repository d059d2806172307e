"""Run a coroutine function on asyncio, with uvloop when it is installed."""

from __future__ import annotations

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


def run(func: Callable[[], Awaitable[T]]) -> T:
    options: dict[str, Any] = {"use_uvloop": has_uvloop()}
    return anyio.run(func, backend="asyncio", backend_options=options)
