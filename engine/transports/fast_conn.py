"""One keep-alive connection of the ``fast`` transport (engine/transports/fast.py).

The asyncio protocol that writes a pre-framed request and frames its answer
with ``httptools``; the pool that owns these connections is
:class:`~engine.transports.fast.FastTransport`. A connection answers exactly
the request written on it: bytes nobody asked for close it (see fast.py).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from typing import Protocol

import httptools

from engine.domain.outcomes import ErrorKind
from engine.transports.base import (
    BODY_MAX,
    BODY_PREVIEW,
    HEAD_MAX,
    INTERIM_MAX,
    Reply,
    RetryReply,
    TransportError,
    oversized,
    redirect_preview,
)
from engine.transports.framing import eof_ends_body, location_in, retry_after_in


class Pool(Protocol):
    """What a connection needs of its pool (FastTransport): the clock that stamps
    completion, and where it goes when idle again or closed."""

    _clock: Callable[[], float]

    def _release(self, conn: Conn) -> None: ...

    def _forget(self, conn: Conn) -> None: ...


class Stray(Exception):
    """Raised inside the parser to stop it at a response nobody waits for."""


class Origin:
    """One (scheme, host, port): how to connect, and its idle connections.

    ``idle`` is a dict used as an ordered set: a connection is in it at most
    once, ``popitem()`` hands out the most recently idled (LIFO, warm), and
    removal is O(1) however many connections come and go."""

    __slots__ = ("ctx", "host", "idle", "port")

    def __init__(self, host: str, port: int, ctx: ssl.SSLContext | None) -> None:
        self.host = host
        self.port = port
        self.ctx = ctx
        self.idle: dict[Conn, None] = {}


class Conn(asyncio.Protocol):
    """One keep-alive connection; ``waiter`` is the pending response's future.

        States: busy (``waiter`` set), idle (in its origin's ``idle``), closed
    (out of the pool; also before :meth:`FastTransport._connect` admits it).
    ``lost`` is set once the socket is gone.
        ``got_head`` is the final response's head (1xx interim ones are skipped);
        ``head_chunks`` keeps the bytes read until then, needed only to tell a
        close-delimited body from a cut one when the head asks to close. What a
    server may send is bounded (engine/transports/base.py): ``head_read`` bytes
    before the final head (at most :data:`HEAD_MAX`), ``interims`` skipped
    (:data:`INTERIM_MAX`), ``body_read`` bytes of body (:data:`BODY_MAX`); past
    any, the request fails ``oversized`` and the connection is dropped."""

    __slots__ = (
        "after",
        "body",
        "body_read",
        "closed",
        "deadline",
        "eof_ends",
        "got_head",
        "head_chunks",
        "head_read",
        "interim",
        "interims",
        "keep",
        "location",
        "lost",
        "origin",
        "parser",
        "pool",
        "status",
        "transport",
        "waiter",
    )

    def __init__(self, pool: Pool, origin: Origin) -> None:
        self.pool = pool
        self.origin = origin
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[Reply] | None = None
        self.body = b""
        self.status = 0
        self.got_head = False
        self.head_chunks: list[bytes] = []
        self.head_read = 0
        self.interim = False
        self.interims = 0
        self.body_read = 0
        self.keep = False
        self.eof_ends = False
        self.closed = True  # until admitted to the pool
        self.lost = False
        self.deadline = 0.0
        self.after: float | None = None  # the answer's Retry-After (429 and 5xx only)
        self.location: bytes | None = None  # a 3xx's preview: where it pointed

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass

    def data_received(self, data: bytes) -> None:
        if self.waiter is None:  # nobody asked: a stray answer on an idle connection
            self._abort()
            return
        if not self.got_head:
            self.head_chunks.append(data)
            self.head_read += len(data)
        try:
            self.parser.feed_data(data)
            if not self.got_head and self.head_read > HEAD_MAX and self.waiter is not None:
                self._fail(oversized("response head", HEAD_MAX))  # an endless head
                self._abort()
        except httptools.HttpParserUpgrade:  # after a 101, which is counted as the answer
            self._fail(TransportError(ErrorKind.OTHER, "the server switched protocols"))
            self._abort()
        except httptools.HttpParserError as exc:  # Stray comes as a callback error
            if isinstance(exc.__context__, TransportError):  # a bound, raised by a callback
                self._fail(exc.__context__)
            self._fail(TransportError(ErrorKind.OTHER, f"bad HTTP response: {exc}"))
            self._abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self._drop()
        waiter = self.waiter
        if waiter is None or waiter.done():
            return
        self.waiter = None
        if not self.got_head:
            reason = str(exc) if exc else "server closed the connection"
            waiter.set_exception(TransportError(ErrorKind.CONNECT, reason))
        elif exc is None and self.eof_ends:  # a close-delimited body ends at EOF
            waiter.set_result(self._reply(self.pool._clock()))
        else:
            how = f"connection reset ({exc})" if exc else "connection closed"
            waiter.set_exception(TransportError(ErrorKind.OTHER, f"response cut short: {how}"))

    # httptools callbacks
    def on_message_begin(self) -> None:
        if self.waiter is None:  # a second answer, in the bytes that held the first
            raise Stray

    def on_headers_complete(self) -> None:
        status = self.parser.get_status_code()
        if status < 200 and status != 101:  # 100 Continue, 103 Early Hints: not the answer
            self.interim = True
            self.interims += 1
            if self.interims > INTERIM_MAX:
                raise TransportError(ErrorKind.OVERSIZED, f"over {INTERIM_MAX} interim answers")
            return
        self.got_head = True
        self.status = status
        self.keep = self.parser.should_keep_alive()
        if not self.keep and status not in (204, 304):  # rare: does EOF end this body?
            self.eof_ends = eof_ends_body(b"".join(self.head_chunks))
        if status >= 500 or status == 429:  # may say when to retry; a 2xx never pays
            self.after = retry_after_in(b"".join(self.head_chunks))
        elif 300 <= status < 400:  # never followed: the sample shows where it pointed
            location = location_in(b"".join(self.head_chunks))
            if location is not None:
                self.location = redirect_preview(location)
        self.head_chunks.clear()

    def on_body(self, body: bytes) -> None:
        """Keep the first BODY_PREVIEW bytes; a small body is kept by reference.
        Past BODY_MAX bytes read, stop (raised through the parser)."""
        self.body_read += len(body)
        if self.body_read > BODY_MAX:
            raise oversized("response body", BODY_MAX)
        have = len(self.body)
        if have < BODY_PREVIEW:
            self.body = body[:BODY_PREVIEW] if not have else self.body + body[: BODY_PREVIEW - have]

    def on_message_complete(self) -> None:
        if self.interim:
            self.interim = False
            return
        done = self.pool._clock()  # stamped here, before any task resumes
        waiter = self.waiter
        if waiter is None:
            raise Stray
        self.waiter = None
        if self.keep:
            self.pool._release(self)
        else:
            self._abort()
        if self.after is None and self.location is None:  # the hot path: nothing rare
            if not waiter.done():
                waiter.set_result((self.status, done, self.body))
        else:
            reply = self._reply(done)
            if not waiter.done():
                waiter.set_result(reply)

    # own
    def _reply(self, done: float) -> Reply:
        """The answer as a Reply; the Retry-After, if any, is handed on once (it is
        reset only when set, so a 2xx costs nothing more); a 3xx carries where it
        pointed instead of its body."""
        location = self.location
        if location is not None:
            self.location = None
            return self.status, done, location
        after = self.after
        if after is None:
            return self.status, done, self.body
        self.after = None
        return RetryReply(self.status, done, self.body, after)

    def _fail(self, err: TransportError) -> None:
        waiter = self.waiter
        self.waiter = None
        if waiter is not None and not waiter.done():
            waiter.set_exception(err)

    def _drop(self) -> None:
        """Leave the pool, once."""
        if not self.closed:
            self.closed = True
            self.pool._forget(self)

    def _abort(self) -> None:
        self._drop()
        if self.transport is not None:
            self.transport.abort()

    def send(self, data: bytes, waiter: asyncio.Future[Reply], deadline: float) -> None:
        assert self.transport is not None
        self.waiter = waiter
        self.got_head = False
        self.interim = False
        self.eof_ends = False
        self.body = b""
        self.head_read = self.interims = self.body_read = 0  # head_chunks is empty:
        # a connection is reused only after a complete answer, whose head cleared it
        self.deadline = deadline
        self.transport.write(data)
