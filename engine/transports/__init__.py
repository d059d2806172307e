"""HTTP transports behind one small interface; the engine never sees the library.

``fast`` (our lean HTTP/1.1 client on asyncio protocols + httptools) is the
default: measured at about 5x aiohttp's and 3x pyreqwest's requests per
CPU-second (docs/BENCHMARKS.md). ``aiohttp``, ``httpx`` (with HTTP/2) and
``pyreqwest`` stay available. Every transport passes the same conformance
tests (tests/test_transports.py).

:data:`TRANSPORTS` is the registry: ``--client`` name to ``"module:Class"``,
imported only when a run asks for it (a run with ``fast`` never imports
httpx or pyreqwest, and the interface in ``base`` imports no implementation).
A test double (:class:`~engine.transports.fake.FakeTransport`) is not in it:
it needs a handler no ``--client`` can name, so tests hand it to the
runner's ``transport_factory``.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, cast

from engine.transports.base import (
    BODY_PREVIEW,
    Headers,
    Reply,
    RetryReply,
    Transport,
    TransportError,
    retry_after,
)

TRANSPORTS: Mapping[str, str] = MappingProxyType(
    {
        "fast": "engine.transports.fast:FastTransport",
        "aiohttp": "engine.transports.aiohttp_transport:AiohttpTransport",
        "httpx": "engine.transports.httpx_transport:HttpxTransport",
        "pyreqwest": "engine.transports.pyreqwest_transport:PyreqwestTransport",
    }
)
"""``--client`` names, in the order ``--help`` lists them (``engine.config.CLIENTS``
must equal its keys: config sits below transports, so a test checks it)."""


def transport_class(client: str) -> Callable[..., Transport]:
    """The class registered as ``client``, imported now."""
    spec = TRANSPORTS.get(client)
    if spec is None:
        raise ValueError(f"unknown client {client!r}")
    module, _, name = spec.partition(":")
    return cast("Callable[..., Transport]", getattr(importlib.import_module(module), name))


def make_transport(
    client: str,
    *,
    pool_size: int,
    timeout: float,
    http2: bool = False,
    clock: Callable[[], float] = time.perf_counter,
    replace: frozenset[str] = frozenset(),
) -> Transport:
    """Build the transport for ``--client`` (call inside the running event loop).

    Every transport takes ``pool_size``, ``timeout`` and ``clock``; ``http2``
    is passed only when asked for, so a client without it fails loudly (the
    config already allows it with ``httpx`` alone). ``replace``: lower-cased
    names of the transport's own headers (base.OWN_HEADERS) that the run's
    ``--header`` sets, which the transport then leaves out."""
    kwargs: dict[str, Any] = {"pool_size": pool_size, "timeout": timeout, "clock": clock}
    if http2:
        kwargs["http2"] = True
    if replace:
        kwargs["replace"] = replace
    return transport_class(client)(**kwargs)


__all__ = [
    "BODY_PREVIEW",
    "TRANSPORTS",
    "Headers",
    "Reply",
    "RetryReply",
    "Transport",
    "TransportError",
    "make_transport",
    "retry_after",
    "transport_class",
]
