"""No ``--header`` value on a worker's command line (``ps`` shows it to every user
of the machine; headers carry tokens), and the worker still sends the headers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from engine.config import build_config
from engine.metrics.stats import Snapshot
from engine.run.sinks import CallbackSink
from engine.shards.gate import StartGate
from engine.shards.worker import ProcessRunner

pytestmark = pytest.mark.anyio

TOKEN = "SECRET-TOKEN-XYZ"


class _Recorder(BaseHTTPRequestHandler):
    """Answers 202 to anything and keeps the Authorization headers it saw."""

    protocol_version = "HTTP/1.1"
    seen: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        _Recorder.seen.append(self.headers.get("Authorization") or "")
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def _recording_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.mark.parametrize("shard", [None, 1])  # the TUI's worker; a --workers shard
async def test_no_header_value_on_the_worker_command_line(shard: int | None) -> None:
    _Recorder.seen = []
    with _recording_server() as url:
        cfg = build_config(
            {
                "target": url,
                "vus": "1",
                "duration": "1s",
                "think": "0",
                "headers": [f"Authorization: Bearer {TOKEN}"],
            }
        )
        cmdlines: list[bytes] = []

        def look(_: Snapshot) -> None:  # while the worker runs: a delta came from it
            cmdlines.append(Path(f"/proc/{runner.pid}/cmdline").read_bytes())

        sinks = [CallbackSink(look)]
        runner = (
            ProcessRunner(cfg, sinks=sinks)
            if shard is None  # as the coordinator starts a shard:
            else ProcessRunner(cfg, sinks=sinks, shard=shard, gate=StartGate(2, margin=0.1))
        )
        if runner.gate is not None:
            runner.gate.done(0)  # the only shard waited for is this one
        result = await runner.run()
    assert cmdlines and all(b"engine.shards.worker" in c for c in cmdlines)
    assert not any(TOKEN.encode() in c or b"Authorization" in c for c in cmdlines)
    assert result.total.total > 0
    assert _Recorder.seen and all(h == f"Bearer {TOKEN}" for h in _Recorder.seen)
