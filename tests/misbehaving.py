"""Scripted HTTP/1.1 servers that misbehave on purpose, for the transports' conformance suite.

Each server runs in threads with blocking sockets, outside the event loop
under test (served from that loop it would race with the loop's shutdown, see
``tests.helpers.raw_server``). A *script* decides, per request, what goes on
the wire: any bytes, in any pieces, then keep the connection, close it (FIN),
reset it (RST) or never answer. Stopping closes every socket the server
accepted and joins every thread it started.
"""

from __future__ import annotations

import gzip
import itertools
import os
import socket
import struct
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Literal

import anyio
import anyio.to_thread

_POLL_S = 0.05  # how often a blocked thread looks at the stop flag

Action = Literal["keep", "close", "reset", "hang"]
"""After an answer: keep the connection, close it (FIN), reset it (RST), or stop answering."""


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes
    conn: int  # the connection's number on this server, from 0
    seq: int  # the request's number on its connection, from 0
    head: str = ""  # the request line and headers, as sent


Script = Callable[["Peer", Request], Action]


class Peer:
    """The server's end of one connection, as a script sees it."""

    def __init__(self, sock: socket.socket, stopping: threading.Event) -> None:
        self.sock = sock
        self._stopping = stopping

    def send(self, *pieces: bytes, pause: float = 0.0) -> None:
        """Each piece in its own write, with ``pause`` seconds between them."""
        for i, piece in enumerate(pieces):
            if i and pause:
                time.sleep(pause)
            self.sock.sendall(piece)

    def trickle(self, data: bytes) -> None:
        """One byte per write, with TCP_NODELAY so each is its own segment."""
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(len(data)):
            self.sock.sendall(data[i : i + 1])

    def sleep(self, seconds: float) -> None:
        """Pause the script, cut short when the server stops."""
        self._stopping.wait(seconds)


def response(
    status: int = 200,
    body: bytes = b"",
    *,
    headers: tuple[str, ...] = (),
    length: int | None = None,
    version: str = "1.1",
) -> bytes:
    """A response head and body; ``length`` overrides Content-Length (-1 omits it)."""
    declared = len(body) if length is None else length
    lines = [f"HTTP/{version} {status} X", *headers]
    if declared >= 0:
        lines.append(f"Content-Length: {declared}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def chunked(status: int, *chunks: bytes, end: bool = True) -> bytes:
    """A chunked response; ``end=False`` leaves out the last chunk (unfinished)."""
    out = [b"HTTP/1.1 %d X\r\nTransfer-Encoding: chunked\r\n\r\n" % status]
    out += [b"%x\r\n%s\r\n" % (len(c), c) for c in chunks]
    if end:
        out.append(b"0\r\n\r\n")
    return b"".join(out)


@dataclass
class Log:
    """What a server saw: the requests (path per connection) and how many connections."""

    requests: list[Request] = field(default_factory=list)
    connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def paths(self) -> list[str]:
        with self.lock:
            return [r.path for r in self.requests]


class ScriptedServer:
    """A loopback HTTP/1.1 server whose answers a :data:`Script` writes."""

    def __init__(self, script: Script, *, port: int = 0, log: Log | None = None) -> None:
        self.script = script
        self.log = log or Log()
        self._stopping = threading.Event()
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", port))
        self._listener.listen(128)
        self._listener.settimeout(_POLL_S)
        self.port: int = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept, daemon=True)
        self._acceptor.start()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock, self.log.lock:
                if self._stopping.is_set():
                    sock.close()
                    return
                index = self.log.connections
                self.log.connections += 1
                thread = threading.Thread(target=self._serve, args=(sock, index), daemon=True)
                self._threads.append(thread)
            thread.start()

    def _recv(self, sock: socket.socket) -> bytes:
        """Bytes from the client; b"" at its EOF or when the server stops."""
        while not self._stopping.is_set():
            try:
                return sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return b""
        return b""

    def _read_request(
        self, sock: socket.socket, buf: bytearray
    ) -> tuple[str, str, bytes, str] | None:
        while b"\r\n\r\n" not in buf:
            data = self._recv(sock)
            if not data:
                return None
            buf += data
        head, _, _ = bytes(buf).partition(b"\r\n\r\n")
        del buf[: len(head) + 4]
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        while len(buf) < length:
            data = self._recv(sock)
            if not data:
                return None
            buf += data
        body = bytes(buf[:length])
        del buf[:length]
        return method, path, body, head.decode("latin-1")

    def _serve(self, sock: socket.socket, index: int) -> None:
        sock.settimeout(_POLL_S)
        peer = Peer(sock, self._stopping)
        buf = bytearray()
        seq = 0
        try:
            while True:
                got = self._read_request(sock, buf)
                if got is None:
                    return
                method, path, body, head = got
                req = Request(method, path, body, conn=index, seq=seq, head=head)
                seq += 1
                with self.log.lock:
                    self.log.requests.append(req)
                action = self.script(peer, req)
                if action == "close":
                    sock.shutdown(socket.SHUT_WR)
                    while self._recv(sock):  # until the client closes its end too
                        pass
                    return
                if action == "reset":
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return
                if action == "hang":
                    while self._recv(sock):
                        pass
                    return
        except OSError:
            return  # the client went away mid-answer: nothing to do
        finally:
            sock.close()  # an RST when SO_LINGER is (1, 0)

    def stop(self) -> None:
        """Close the listener and every connection (FIN), join every thread."""
        self._stopping.set()
        self._acceptor.join()
        self._listener.close()
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join()


@asynccontextmanager
async def scripted_server(
    script: Script, *, port: int = 0, log: Log | None = None
) -> AsyncIterator[ScriptedServer]:
    """A :class:`ScriptedServer`, stopped from a worker thread so the loop under
    test keeps running (and reading) while the server's threads finish."""
    server = ScriptedServer(script, port=port, log=log)
    try:
        yield server
    finally:
        await anyio.to_thread.run_sync(server.stop)


# Hostile servers (issue 21): answers that would take all of a client's memory or
# time if nothing bounded them. Each stops when the client drops the connection,
# when the server stops, or after ENDLESS_S at the latest.

ENDLESS_S = 20.0
BLOCK = b"a" * 65536


def endless(peer: Peer, first: bytes, block: bytes) -> Action:
    """``first``, then ``block`` again and again: an answer that never ends."""
    ends = time.monotonic() + ENDLESS_S
    peer.sock.settimeout(2.0)  # a slow reader is not a gone one (a stall under load)
    peer.send(first)
    while time.monotonic() < ends and not peer._stopping.is_set():
        peer.sock.sendall(block)
    return "close"


def endless_head(peer: Peer, _: Request) -> Action:
    return endless(peer, b"HTTP/1.1 200 OK\r\n", b"X-Pad: " + BLOCK[:8000] + b"\r\n")


def endless_interims(peer: Peer, _: Request) -> Action:
    return endless(peer, b"", b"HTTP/1.1 100 Continue\r\n\r\n" * 64)


def endless_body(peer: Peer, _: Request) -> Action:
    return endless(peer, b"HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\n", BLOCK)


def endless_chunked_body(peer: Peer, _: Request) -> Action:
    chunk = b"%x\r\n%s\r\n" % (len(BLOCK), BLOCK)
    return endless(peer, b"HTTP/1.1 500 X\r\nTransfer-Encoding: chunked\r\n\r\n", chunk)


def huge_body(peer: Peer, _: Request) -> Action:
    """A 500 MB answer, honestly declared (Content-Length), sent as fast as read."""
    return endless(peer, b"HTTP/1.1 500 X\r\nContent-Length: 524288000\r\n\r\n", BLOCK)


BOMB = gzip.compress(b"\0" * (1 << 20), compresslevel=9) * 500
"""A gzip bomb: about 0.5 MB on the wire, 500 MiB inflated (500 gzip members,
each 1 MiB of zeros, which a decoder inflates one after another); built in
milliseconds, unlike compressing 500 MiB."""


def gzip_bomb(peer: Peer, _: Request) -> Action:
    """A 500 answer whose body is :data:`BOMB`, labelled ``Content-Encoding: gzip``."""
    peer.send(response(500, BOMB, headers=("Content-Encoding: gzip",)))
    return "keep"


ATTACKS: tuple[Script, ...] = (endless_head, endless_body, huge_body, gzip_bomb)
"""The answers issue 21's conformance runs face (its "Done when")."""


def rotating(*scripts: Script) -> Script:
    """A script answering each request with the next of ``scripts`` in turn,
    whatever connection it came on (an attack that drops the connection and
    one that keeps it then get the same share of the run)."""
    turn = itertools.count()

    def script(peer: Peer, req: Request) -> Action:
        return scripts[next(turn) % len(scripts)](peer, req)

    return script


class PeakRss:
    """The highest resident set size of this process seen while it runs (sampled
    every 5 ms from /proc/self/statm, in a thread); ``grew`` is the peak over the
    size at the start, in bytes."""

    def __init__(self) -> None:
        self._page = os.sysconf("SC_PAGE_SIZE")
        self._stop = threading.Event()
        self.start = self.peak = self._rss()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _rss(self) -> int:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * int(self._page)

    def _watch(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, self._rss())

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())

    @property
    def grew(self) -> int:
        return self.peak - self.start
