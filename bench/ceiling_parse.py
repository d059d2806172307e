"""The Python ceiling's HTTP/1.1 response framing (bench/ceiling.py).

Minimal, but not careless: a yardstick that miscounts is worse than none.
The framing itself is llhttp's (``httptools``, the parser webhookload's
``fast`` transport uses): status line, Content-Length (digits, duplicates
that disagree refused), chunked bodies, Transfer-Encoding over
Content-Length, keep-alive by version and ``Connection``. What is left to
Python is what no parser decides for its caller, in three callbacks:

- 1xx interim heads (100 Continue, 103 Early Hints) are skipped, the final
  answer's status is counted; 101 is an error (this client never asked to
  switch protocols);
- one answer per request: bytes nobody asked for (a second answer) are
  ``stray``, and the caller closes the connection;
- a body with no framing at all runs to EOF (RFC 9112 section 6.3): the
  head is read again, only for answers that close, with the project's own
  :func:`~engine.transports.framing.eof_ends_body`; a framed body cut by the
  close is an error, never a success.

A hand-written pure-Python framer cost 3.6 µs per nginx answer against
0.4 µs for this (``timeit``, docs/PERFORMANCE.md): the ceiling would have
measured the parser, not the rest.
"""

from __future__ import annotations

import httptools

from engine.transports.framing import eof_ends_body


class BadResponse(Exception):
    """The bytes are not a well-framed HTTP/1.1 response (or nobody asked for them)."""


class _Stray(Exception):
    """Raised inside the parser at the start of an answer nobody waits for."""


class ResponseParser:
    """Frames one response at a time; :meth:`feed` returns its status when complete.

    ``busy`` is True from :meth:`expect` (a request was written) until the
    answer is complete; ``keep`` says whether the connection may carry the
    next request; ``stray`` that bytes followed the answer (the caller
    closes the connection: nobody asked for them)."""

    __slots__ = ("_done", "_eof_ends", "_interim", "_p", "_raw", "busy", "keep", "status", "stray")

    def __init__(self) -> None:
        self._p = httptools.HttpResponseParser(self)
        self._raw = b""  # the bytes read until the final head: only for an answer that closes
        self._done = 0
        self._interim = False
        self._eof_ends = False
        self.status = 0
        self.keep = True
        self.busy = False
        self.stray = False

    def expect(self) -> None:
        """A request was written: its answer comes next."""
        self.busy = True
        self.status = 0
        self._done = 0
        self._raw = b""

    def feed(self, data: bytes) -> int:
        """The status once the answer is complete, else 0 (more bytes needed)."""
        if not self.busy:
            raise BadResponse("bytes nobody asked for")
        if not self.status:
            self._raw += data
        try:
            self._p.feed_data(data)
        except httptools.HttpParserUpgrade:
            raise BadResponse("the server switched protocols") from None
        except httptools.HttpParserCallbackError as exc:
            if not isinstance(exc.__context__, _Stray):
                raise
            self.stray = True
        except httptools.HttpParserError as exc:
            raise BadResponse(f"bad HTTP response: {exc}") from None
        return self._done

    def eof(self) -> int:
        """The connection closed: the status when that ends the answer (a
        close-delimited body), else :class:`BadResponse` (a cut answer)."""
        if self.busy and self.status and self._eof_ends:
            self.busy = False
            return self.status
        raise BadResponse("connection closed before the answer was complete")

    # httptools callbacks
    def on_message_begin(self) -> None:
        if not self.busy:  # a second answer, in the bytes that held the first
            raise _Stray

    def on_headers_complete(self) -> None:
        p = self._p
        status = p.get_status_code()
        if status < 200 and status != 101:  # 101 ends in HttpParserUpgrade
            self._interim = True
            return
        self.status = status
        self.keep = keep = p.should_keep_alive()
        self._eof_ends = False
        if not keep and status not in (204, 304):  # rare: does EOF end this body?
            self._eof_ends = eof_ends_body(self._raw)
        self._raw = b""

    def on_message_complete(self) -> None:
        if self._interim:
            self._interim = False
            return
        self.busy = False
        self.stray = False
        self._done = self.status
