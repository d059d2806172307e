"""The Python ceiling's HTTP/1.1 response framing (bench/ceiling.py).

Minimal, but not careless: a yardstick that miscounts is worse than none.
One response is expected at a time (no pipelining). The parser finds the
head, checks the status line (``HTTP/1.x NNN``), and frames the body as
RFC 9112 section 6.3 says: a 1xx head is skipped (101 is an error: this
client never asked to switch), 204 and 304 have no body, ``Transfer-Encoding``
wins over ``Content-Length`` (chunked last, or else the body runs to EOF),
``Content-Length`` must be digits and agree with any duplicate, and with
neither the body runs to EOF. Whether the connection stays open: HTTP/1.1
unless ``Connection: close``, HTTP/1.0 only with ``Connection: keep-alive``.

The fast path (a 2xx head with ``Content-Length`` in one segment) is a
``find``, a ``lower`` and a few slices over the head's bytes: header names
are matched in the lowered head at line starts, and a framing header's name
followed by whitespace before its colon (``Content-Length :``) is refused as
malformed rather than guessed at.
"""

from __future__ import annotations

_MAX_HEAD = 65536
_CL = b"\r\ncontent-length:"
_TE = b"\r\ntransfer-encoding:"
_CONN = b"\r\nconnection:"
_HEAD, _LENGTH, _CHUNK_SIZE, _CHUNK_DATA, _TRAILER, _EOF = range(6)


class BadResponse(Exception):
    """The bytes are not a well-framed HTTP/1.1 response (or nobody asked for them)."""


def _value(lh: bytes, key: bytes) -> bytes | None:
    """The value of header ``key`` (``b"\\r\\nname:"``) in the lowered head ``lh``;
    None when absent; duplicates must agree (Content-Length's rule, harmless
    for the others)."""
    i = lh.find(key)
    if i < 0:
        return None
    start = i + len(key)
    value = lh[start : lh.find(b"\r\n", start)].strip(b" \t")
    j = lh.find(key, start)
    while j >= 0:
        more = j + len(key)
        if lh[more : lh.find(b"\r\n", more)].strip(b" \t") != value:
            raise BadResponse(f"conflicting {key[2:-1].decode()} headers")
        j = lh.find(key, more)
    return value


class ResponseParser:
    """Frames one response at a time; :meth:`feed` returns its status when complete.

    ``busy`` is True from :meth:`expect` (a request was written) until the
    answer is complete; ``keep`` says whether the connection may carry the
    next request; ``stray`` that bytes followed the answer (the caller
    closes the connection: nobody asked for them)."""

    __slots__ = ("_buf", "_need", "_state", "busy", "keep", "status", "stray")

    def __init__(self) -> None:
        self._buf = b""
        self._state = _HEAD
        self._need = 0
        self.status = 0
        self.keep = True
        self.busy = False
        self.stray = False

    def expect(self) -> None:
        """A request was written: its answer comes next."""
        self.busy = True
        self._state = _HEAD
        self._buf = b""

    def feed(self, data: bytes) -> int:
        """The status once the answer is complete, else 0 (more bytes needed)."""
        if not self.busy:
            raise BadResponse("bytes nobody asked for")
        buf = self._buf + data if self._buf else data
        while True:
            state = self._state
            if state == _HEAD:
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    if len(buf) > _MAX_HEAD:
                        raise BadResponse("response head too long")
                    self._buf = buf
                    return 0
                buf = self._head(buf[: end + 2], buf[end + 4 :])
            elif state == _LENGTH:
                if len(buf) < self._need:
                    self._need -= len(buf)
                    self._buf = b""
                    return 0
                buf = buf[self._need :]
                return self._complete(buf)
            elif state == _CHUNK_SIZE:
                end = buf.find(b"\r\n")
                if end < 0:
                    if len(buf) > 1024:
                        raise BadResponse("chunk size line too long")
                    self._buf = buf
                    return 0
                size = buf[:end].split(b";", 1)[0].strip(b" \t")
                if not size or size.strip(b"0123456789abcdefABCDEF"):
                    raise BadResponse(f"bad chunk size {size!r}")
                self._need = int(size, 16)
                self._state = _CHUNK_DATA if self._need else _TRAILER
                buf = buf[end + 2 :]
            elif state == _CHUNK_DATA:
                if len(buf) < self._need + 2:
                    self._buf = buf
                    return 0
                if buf[self._need : self._need + 2] != b"\r\n":
                    raise BadResponse("chunk not followed by CRLF")
                buf = buf[self._need + 2 :]
                self._state = _CHUNK_SIZE
            elif state == _TRAILER:
                if buf[:2] == b"\r\n":
                    return self._complete(buf[2:])
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    if len(buf) > _MAX_HEAD:
                        raise BadResponse("trailers too long")
                    self._buf = buf
                    return 0
                return self._complete(buf[end + 4 :])
            else:  # _EOF: the body runs to the end of the connection
                self._buf = b""
                return 0

    def eof(self) -> int:
        """The connection closed: the status when that ends the answer (a
        close-delimited body), else :class:`BadResponse` (a cut answer)."""
        if self.busy and self._state == _EOF:
            self.busy = False
            return self.status
        raise BadResponse("connection closed before the answer was complete")

    def _head(self, head: bytes, rest: bytes) -> bytes:
        """Read one head (its lines, each ending in CRLF); set how its body is framed."""
        if head[:7] != b"HTTP/1." or head[8:9] != b" " or not head[9:12].isdigit():
            raise BadResponse(f"bad status line {head[:40]!r}")
        if head[12:13] not in (b" ", b"\r"):
            raise BadResponse(f"bad status line {head[:40]!r}")
        status = int(head[9:12])
        if status < 200:
            if status == 101:
                raise BadResponse("the server switched protocols")
            return rest  # 100 Continue, 103 Early Hints: the answer follows
        lh = head.lower()
        conn = _value(lh, _CONN)
        if head[7:8] == b"1":
            self.keep = conn is None or b"close" not in conn
        else:
            self.keep = conn is not None and b"keep-alive" in conn
        self.status = status
        te = _value(lh, _TE)
        cl = _value(lh, _CL)
        for name in (b"\r\ncontent-length", b"\r\ntransfer-encoding"):
            if name + b" " in lh or name + b"\t" in lh:  # space before the colon: refused
                raise BadResponse("malformed framing header")
        if status in (204, 304):
            self._state = _HEAD
            return self._complete_head(rest)
        if te is not None:
            if te.rsplit(b",", 1)[-1].strip(b" \t") == b"chunked":
                self._state = _CHUNK_SIZE
                return rest
            self._state = _EOF
            self.keep = False
            return rest
        if cl is not None:
            if not cl.isdigit():
                raise BadResponse(f"bad Content-Length {cl!r}")
            self._need = int(cl)
            self._state = _LENGTH
            return rest
        self._state = _EOF
        self.keep = False
        return rest

    def _complete_head(self, rest: bytes) -> bytes:
        """A body-less answer: mark it complete, with zero bytes left to frame."""
        self._state = _LENGTH
        self._need = 0
        return rest

    def _complete(self, rest: bytes) -> int:
        self.busy = False
        self.stray = bool(rest)
        self._state = _HEAD
        self._buf = b""
        return self.status
