"""Does EOF end this response's body? The one framing question llhttp leaves open;
and the headers the ``fast`` transport reads besides: ``Retry-After``, ``Location``.

llhttp tells us a response will not keep the connection alive, but not why:
``Connection: close`` on a framed body (Content-Length or chunked), where an
EOF before the end cuts the body short, or a body with no framing at all,
which EOF ends. Asking per header would cost a Python call per header on
every response; this reads the head again only for the responses that close,
for those that may say when to retry (429 and 5xx: :func:`retry_after_in`), and
for a redirect, to show where it pointed (3xx: :func:`location_in`).
"""

from __future__ import annotations

import time

import httptools

from engine.transports.base import parse_retry_after


class _Final(Exception):
    """Stops the parser at the final response's head."""


class _Head:
    """Collects the framing headers of the last response head parsed."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.length = False
        self.coding: bytes | None = None
        self.retry_after: bytes | None = None
        self.location: bytes | None = None

    def on_message_begin(self) -> None:
        self.length = False
        self.coding = None
        self.retry_after = None
        self.location = None

    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        if name == b"content-length":
            self.length = True
        elif name == b"transfer-encoding":
            self.coding = value
        elif name == b"retry-after":
            self.retry_after = value
        elif name == b"location":
            self.location = value

    def on_headers_complete(self) -> None:
        if self.parser.get_status_code() >= 200:  # 1xx heads come first; skip them
            raise _Final


def _final_head(raw: bytes) -> _Head | None:
    """The final response head in ``raw`` (after any 1xx heads), or None."""
    head = _Head()
    try:
        head.parser.feed_data(raw)
    except httptools.HttpParserCallbackError as exc:
        return head if isinstance(exc.__context__, _Final) else None
    except (httptools.HttpParserError, httptools.HttpParserUpgrade):
        return None
    return None  # no final head in raw


def retry_after_in(raw: bytes) -> float | None:
    """The seconds the final response head in ``raw`` asks to wait before a
    retry (``Retry-After``, either form), or None without one."""
    head = _final_head(raw)
    if head is None or head.retry_after is None:
        return None
    return parse_retry_after(head.retry_after.decode("latin-1"), time.time())


def location_in(raw: bytes) -> bytes | None:
    """The ``Location`` of the final response head in ``raw`` (a 3xx's), raw
    bytes as sent (cleaned before any output), or None without one."""
    head = _final_head(raw)
    return None if head is None else head.location


def eof_ends_body(raw: bytes) -> bool:
    """Whether EOF ends the body of the final response whose head ``raw`` holds
    (preceded by any 1xx heads, followed by any body bytes): True only for a
    body with neither Content-Length nor a chunked Transfer-Encoding (RFC 9112
    section 6.3; Transfer-Encoding wins over Content-Length). When in doubt,
    False: a cut body is an error, never a success."""
    head = _final_head(raw)
    if head is None:
        return False
    if head.coding is not None:
        return not head.coding.rstrip().lower().endswith(b"chunked")
    return not head.length
