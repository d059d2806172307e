"""Real parts for tests: the reference target as a process, and misbehaving servers."""

from __future__ import annotations

import json
import socket
import socketserver
import subprocess
import sys
import threading
import urllib.request
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from engine.domain.outcomes import scenario_counts
from engine.domain.shape import INGEST_SHAPE
from engine.metrics.stats import Snapshot
from engine.run.builtin_target import READY_PREFIX
from engine.run.sinks import CallbackSink

ServerT = TypeVar("ServerT", bound=socketserver.BaseServer)


@contextmanager
def serving(server: ServerT) -> Iterator[ServerT]:
    """``server`` (a loopback HTTP or TCP server of a test's own) answering on a
    thread of its own for the block's length, then shut down and closed."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def target_process(*args: str, module: str = "target") -> Iterator[str]:
    """``python -m target --port 0 ARGS`` on a free loopback port; yields its URL
    (``module``: a variant of the target with the same command line)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", module, "--port", "0", *args],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith(READY_PREFIX), line
        yield line[len(READY_PREFIX) :]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout:
            proc.stdout.close()


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return json.loads(resp.read())


def post(url: str, body: bytes) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def read_through(proc: subprocess.Popen[str], needle: str) -> str:
    """A child's standard output up to and including its first line holding
    ``needle`` (all of it, if the child ends first): a test signals a run once
    it is under way rather than after a fixed sleep, which a loaded machine's
    slow start-up outran. Bounded by the test's own timeout."""
    assert proc.stdout is not None
    seen: list[str] = []
    while line := proc.stdout.readline():
        seen.append(line)
        if needle in line:
            break
    return "".join(seen)


def free_port() -> int:
    """A loopback port nothing listens on (bound then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _MisbehavingHandler(socketserver.BaseRequestHandler):
    """One connection of :func:`raw_server`, in its own thread."""

    server: _RawServer

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(0.05)  # poll so a stopping server is never kept waiting
        while not self.server.stopping.is_set():
            try:
                data = sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:
                return
            if self.server.behaviour == "hang":
                continue  # read, never answer
            if self.server.behaviour == "eof-body":
                sock.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nhello")
            return  # the server closes the connection


class _RawServer(socketserver.ThreadingTCPServer):
    # server_close() joins every connection's thread, and each thread's
    # socket is closed by the server when its handler returns.
    daemon_threads = False
    block_on_close = True
    allow_reuse_address = True
    request_queue_size = 512

    def __init__(self, behaviour: str) -> None:
        self.behaviour = behaviour
        self.stopping = threading.Event()
        super().__init__(("127.0.0.1", 0), _MisbehavingHandler)

    def stop(self) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()


@asynccontextmanager
async def raw_server(behaviour: str) -> AsyncIterator[str]:
    """A loopback server that misbehaves: ``hang`` (reads, never answers),
    ``reset`` (closes each connection as soon as a request arrives) or
    ``eof-body`` (an HTTP/1.1 answer whose body ends when the connection closes).

    It runs in threads with blocking sockets, outside the event loop under
    test, and stops by closing every connection it accepted and joining its
    threads. Served from the test's own loop it raced with that loop's
    shutdown: sockets the loop accepted in its last moments (seen with
    pyreqwest, whose Rust client connects from its own thread) were never
    closed, and the ResourceWarning failed whichever test the garbage
    collector ran in (in CI, a TUI test)."""
    server = _RawServer(behaviour)
    serving = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    serving.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        await anyio.to_thread.run_sync(server.stop)
        serving.join()


def when_shards_send(*shards: int) -> tuple[CallbackSink, anyio.Event]:
    """A sink, and an event set once deltas of every one of ``shards`` came: the
    moment to kill one of them, surely running (wait on it within the test's timeout)."""
    seen: set[int] = set()
    sending = anyio.Event()

    def on_delta(delta: Snapshot) -> None:
        seen.update(delta.health)
        if seen >= set(shards):
            sending.set()

    return CallbackSink(on_delta), sending


def legacy(counters: Mapping[str, int]) -> dict[str, int]:
    """A snapshot's flow counters under ingest's older outcome names
    (``orders_started``...), as the JSON and the summary print them."""
    return scenario_counts(INGEST_SHAPE, counters)
