"""The transport interface: what every HTTP client behind ``--client`` offers.

Implementations import this module; it imports none of them (the registry in
:mod:`engine.transports` names them, and loads only the one a run uses).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from engine.domain.outcomes import ErrorKind

Reply = tuple[int, float, bytes]
"""A final response's status code, the transport clock's reading when it was
complete, and the first :data:`BODY_PREVIEW` bytes of its body (``b""`` when none).

Transports stamp completion themselves, as early as they can see it: a task
may resume well after its response arrived (a burst of responses is parsed
before any waiting task runs), and that wait is the generator's, not the
service's. The body preview is what a sample failure shows; more is never kept.
Interim responses (1xx other than 101) are skipped, never a Reply."""

BODY_PREVIEW = 200

Headers = Sequence[tuple[str, str]]
"""Extra request headers: ``(name, value)`` pairs, sent as given after the
transport's own (an event's ``X-Correlation-ID``, later its signature)."""


class TransportError(Exception):
    """A request that got no complete HTTP response.

    ``kind`` is ``connect`` (no response began: refused, reset or closed
    before a status line), ``timeout``, or ``other`` (a response that cannot be
    counted: malformed, or cut short after its head; the detail says which).
    A truncated body stays ``other`` rather than a kind of its own, so the set
    of kinds every report and screen shows stays small."""

    def __init__(self, kind: ErrorKind, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else str(kind))
        self.kind = kind


class Transport(Protocol):
    """A pooled, keep-alive HTTP client used by every virtual user of a run.

    ``post``/``get`` return the :data:`Reply` after reading the whole body, or
    raise :class:`TransportError`; cancellation propagates untouched.
    ``post`` sends ``headers`` too (``()``, the default, costs nothing).
    """

    async def post(self, url: str, body: bytes, headers: Headers = ()) -> Reply: ...

    async def get(self, url: str) -> Reply: ...

    async def aclose(self) -> None: ...
