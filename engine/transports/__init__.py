"""HTTP transports behind one small interface; the engine never sees the library.

``fast`` (our lean HTTP/1.1 client on asyncio protocols + httptools) is the
default: measured at about 5x aiohttp's and 3x pyreqwest's requests per
CPU-second (docs/BENCHMARKS.md). ``aiohttp``, ``httpx`` (with HTTP/2) and
``pyreqwest`` stay available. Every transport passes the same conformance
tests (tests/test_transports.py).
"""

from __future__ import annotations

from engine.transports.base import (
    BODY_PREVIEW,
    Reply,
    Transport,
    TransportError,
    make_transport,
)

__all__ = ["BODY_PREVIEW", "Reply", "Transport", "TransportError", "make_transport"]
