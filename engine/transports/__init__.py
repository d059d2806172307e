"""HTTP transports behind one small interface; the engine never sees the library.

``aiohttp`` is the default (DESIGN.md: ~9x httpx's throughput at 10
concurrent, and httpx collapses at 100+); ``httpx`` stays available, with
HTTP/2. Every transport passes the same conformance tests.
"""

from __future__ import annotations

from engine.transports.base import Transport, TransportError, TransportFactory, make_transport

__all__ = ["Transport", "TransportError", "TransportFactory", "make_transport"]
