"""Real parts for tests: the reference target as a process, and misbehaving servers."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import anyio
from anyio.abc import SocketStream

from engine.builtin_target import READY_PREFIX


@contextmanager
def target_process(*args: str) -> Iterator[str]:
    """``python -m target --port 0 ARGS`` on a free loopback port; yields its URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "target", "--port", "0", *args],
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


def free_port() -> int:
    """A loopback port nothing listens on (bound then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def raw_server(behaviour: str) -> AsyncIterator[str]:
    """A loopback server that misbehaves: ``hang`` (reads, never answers),
    ``reset`` (closes each connection as soon as a request arrives) or
    ``eof-body`` (an HTTP/1.1 answer whose body ends when the connection closes)."""
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    port = listener.extra(anyio.abc.SocketAttribute.local_port)

    async def handle(stream: SocketStream) -> None:
        async with stream:
            try:
                await stream.receive()
                if behaviour == "hang":
                    await anyio.sleep_forever()
                if behaviour == "eof-body":
                    await stream.send(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nhello")
            except (anyio.EndOfStream, anyio.BrokenResourceError, OSError):
                pass

    # the listener closes after the serving task is gone
    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, handle)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            tg.cancel_scope.cancel()
