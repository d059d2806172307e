"""The transport interface: what every HTTP client behind ``--client`` offers.

Implementations import this module; it imports none of them (the registry in
:mod:`engine.transports` names them, and loads only the one a run uses).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Protocol

from engine.domain.outcomes import ErrorKind

Reply = tuple[int, float, bytes]
"""A final response's status code, the transport clock's reading when it was
complete, and the first :data:`BODY_PREVIEW` bytes of its body (``b""`` when none).

Transports stamp completion themselves, as early as they can see it: a task
may resume well after its response arrived (a burst of responses is parsed
before any waiting task runs), and that wait is the generator's, not the
service's. The body preview is what a sample failure shows; more is never kept.
Interim responses (1xx other than 101) are skipped, never a Reply.

A 429 or 5xx answer that says when to try again (``Retry-After``) comes as a
:class:`RetryReply`, the same three values with the wait on top; read it with
:func:`retry_after`. Transports look for the header only on those statuses, so
a 2xx costs nothing more."""

BODY_PREVIEW = 200

HEAD_MAX = 64 * 1024
"""Bytes of response head read before the final head ends (its status line and
header fields, and any interim answers before it): past this, the request is
an ``oversized`` error and the connection is dropped. The common servers'
own limit (nginx's large_client_header_buffers, Node's), so no real answer
hits it; an endless head can no longer fill memory (docs/HOSTILE.md)."""

INTERIM_MAX = 16
"""Interim answers (100 Continue, 103 Early Hints) skipped before the final one;
one more is ``oversized``, so an endless stream of them ends the request."""

BODY_MAX = 4 * 1024 * 1024
"""Body bytes read (as sent on the wire, never decompressed): past this the
connection is dropped and the request is an ``oversized`` error. Of the body
only :data:`BODY_PREVIEW` bytes are ever kept; the cap ends an endless or huge
body long before the request's deadline would."""

ACCEPT_IDENTITY = ("Accept-Encoding", "identity")
"""Sent by the library clients, whose decompression is turned off as well: a
body is never inflated (a small gzip bomb cannot become gigabytes)."""


def oversized(what: str, limit: int) -> TransportError:
    """The error for an answer past one of the bounds above."""
    return TransportError(ErrorKind.OVERSIZED, f"{what} over {limit:,} bytes")


def redirect_preview(location: bytes | str) -> bytes:
    """What a 3xx answer with a ``Location`` carries instead of its body: where
    it pointed (a 3xx without one, a 304, keeps its body).

    A redirect is never followed (it would re-send a signed webhook to a host
    nobody chose) and never a success (engine/scenario/expect.py); the sample
    failure shows its ``Location``, raw here and cleaned before any output
    (engine/domain/sanitize.py)."""
    if isinstance(location, str):
        location = location.encode("utf-8", "surrogateescape")
    return (b"redirect to " + location)[:BODY_PREVIEW]


class Preview:
    """The body as a library client streams it: the first :data:`BODY_PREVIEW`
    bytes kept, the rest only counted, :data:`BODY_MAX` the most read."""

    __slots__ = ("data", "read")

    def __init__(self) -> None:
        self.data = b""
        self.read = 0

    def add(self, chunk: bytes | memoryview) -> None:
        """One chunk as read; raises ``oversized`` past :data:`BODY_MAX`."""
        self.read += len(chunk)
        if self.read > BODY_MAX:
            raise oversized("response body", BODY_MAX)
        have = len(self.data)
        if have < BODY_PREVIEW:
            self.data += bytes(chunk[: BODY_PREVIEW - have])


class RetryReply(tuple[int, float, bytes]):
    """A :data:`Reply` whose answer asked to wait ``retry_after`` seconds (from
    when it was received) before trying again. Still a 3-tuple, so everything
    that unpacks a Reply reads it unchanged; rare, so it may be slow to make."""

    retry_after: float

    def __new__(cls, status: int, done: float, body: bytes, retry_after: float) -> RetryReply:
        self = super().__new__(cls, (status, done, body))
        self.retry_after = retry_after
        return self


def retry_after(reply: Reply) -> float | None:
    """The seconds a reply's ``Retry-After`` asked to wait; None when it did not
    (or when the status was not one that is looked at: 429 and 5xx)."""
    return reply.retry_after if type(reply) is RetryReply else None


def reply_with(status: int, done: float, body: bytes, header: str | None) -> Reply:
    """A Reply carrying the ``Retry-After`` ``header`` (its raw value) when it
    parses; for the library transports, which ask for it only on a 429 or 5xx."""
    after = None if header is None else parse_retry_after(header, time.time())
    return (status, done, body) if after is None else RetryReply(status, done, body, after)


def parse_retry_after(value: str, now: float) -> float | None:
    """A ``Retry-After`` value in seconds from ``now`` (unix seconds): either
    delta-seconds (``120``) or an HTTP-date (``Wed, 21 Oct 2026 07:28:00 GMT``,
    RFC 9110 section 10.2.3); a date in the past is 0. None when it is neither."""
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # asctime() form: no zone, and an HTTP-date is always GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


Headers = Sequence[tuple[str, str]]
"""Extra request headers: ``(name, value)`` pairs, sent as given after the
transport's own (an event's ``X-Correlation-ID``, later its signature)."""


class TransportError(Exception):
    """A request that got no complete HTTP response.

    ``kind`` is ``connect`` (no response began: refused, reset or closed
    before a status line), ``timeout``, ``oversized`` (past a bound on what a
    server may send: :data:`HEAD_MAX`, :data:`INTERIM_MAX`, :data:`BODY_MAX`),
    or ``other`` (a response that cannot be
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
