"""The Python ceiling (bench/ceiling.py) counts statuses right: a yardstick that
miscounts would make webhookload's headroom a fiction.

Each test sends a fixed number of requests through the ceiling's real client
(uvloop, its own protocol and parser) to a scripted loopback server
(tests/misbehaving.py) and checks what was counted; no timing is asserted.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import orjson
import pytest
import uvloop

from engine.domain.signing import make_signer, make_verifier
from tests.misbehaving import Action, Peer, Request, ScriptedServer, chunked, response

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from ceiling import Run
from ceiling_parse import BadResponse, ResponseParser


def run_against(script: object, n: int, conns: int = 1, **kw: object) -> tuple[Run, list[Request]]:
    """``n`` requests through the ceiling to a server answering with ``script``."""
    server = ScriptedServer(script)  # type: ignore[arg-type]
    try:
        run = Run(server.url, conns, 20.0, limit=n, **kw)  # type: ignore[arg-type]
        uvloop.run(run.main())
    finally:
        server.stop()
    return run, server.log.requests


def test_counts_each_status_on_kept_alive_connections() -> None:
    statuses = [202, 500, 404, 200, 503, 429, 201]

    def script(peer: Peer, req: Request) -> Action:
        peer.send(response(statuses[req.seq % len(statuses)], b"x" * (req.seq % 3)))
        return "keep"

    run, reqs = run_against(script, 70)
    doc = run.summary()
    assert doc["statuses"] == {
        "200": 10,
        "201": 10,
        "202": 10,
        "404": 10,
        "429": 10,
        "500": 10,
        "503": 10,
    }
    assert doc["success"] == 30 and doc["errors"] == 0 and doc["requests"] == 70
    assert {r.conn for r in reqs} == {0}  # one connection, kept alive throughout


def test_frames_chunked_split_and_interim_answers() -> None:
    """Chunked bodies, answers trickled a byte at a time, a 100 before the answer,
    a 204 and a 304 without a body: each counted once, with its final status."""

    def script(peer: Peer, req: Request) -> Action:
        k = req.seq % 5
        if k == 0:
            peer.send(chunked(200, b"hello", b"world")[:-5], b"0\r\n\r\n", pause=0.01)
        elif k == 1:
            peer.trickle(response(500, b"down"))
        elif k == 2:
            peer.send(b"HTTP/1.1 100 Continue\r\n\r\n", response(201, b"{}"))
        elif k == 3:
            peer.send(b"HTTP/1.1 204 No Content\r\n\r\n")
        else:
            peer.send(chunked(502, b"bad gateway", b"!"))
        return "keep"

    run, reqs = run_against(script, 10)
    assert run.summary()["statuses"] == {"200": 2, "201": 2, "204": 2, "500": 2, "502": 2}
    assert run.errors == 0
    assert {r.conn for r in reqs} == {0}


def test_close_delimited_and_connection_close_reconnect() -> None:
    """HTTP/1.0 without a length ends at EOF; ``Connection: close`` is honoured."""

    def script(peer: Peer, req: Request) -> Action:
        if req.conn % 2:
            peer.send(b"HTTP/1.0 200 OK\r\n\r\nbody to the end")
        else:
            peer.send(response(202, headers=("Connection: close",)))
        return "close"

    run, reqs = run_against(script, 6)
    assert run.summary()["statuses"] == {"200": 3, "202": 3}
    assert run.errors == 0 and len({r.conn for r in reqs}) == 6


def test_cut_and_malformed_answers_are_errors_never_successes() -> None:
    def script(peer: Peer, req: Request) -> Action:
        k = req.conn % 4
        if k == 0:
            peer.send(response(200, b"short", length=50))  # the body is cut by the close
            return "close"
        if k == 1:
            peer.send(b"HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n")
            return "keep"
        if k == 2:
            peer.send(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab")
            return "keep"
        return "reset"  # no answer at all

    run, _ = run_against(script, 8)
    doc = run.summary()
    assert doc["statuses"] == {} and doc["success"] == 0
    assert doc["errors"] == 8


def test_stray_bytes_close_the_connection_after_the_answer() -> None:
    def script(peer: Peer, req: Request) -> Action:
        peer.send(response(202) + response(500))  # a second answer nobody asked for
        return "keep"

    run, reqs = run_against(script, 3)
    assert run.summary()["statuses"] == {"202": 3}
    assert len({r.conn for r in reqs}) == 3  # each stray answer closed its connection


def test_bodies_are_fresh_ingest_events() -> None:
    def script(peer: Peer, req: Request) -> Action:
        peer.send(response(202))
        return "keep"

    run, reqs = run_against(script, 6, conns=2)
    assert run.summary()["statuses"] == {"202": 6}
    bodies = [orjson.loads(r.body) for r in reqs]
    assert len({b["provider_event_id"] for b in bodies}) == 6
    assert len({b["order_id"] for b in bodies}) == 2  # a new order every three events
    assert {b["status"] for b in bodies} == {"created", "processing", "success"}
    assert all(r.path == "/webhooks/payments/orders" for r in reqs)


def test_signed_requests_verify() -> None:
    """With a signer, each request carries a signature the project's verifier accepts."""
    secret = "whsec_ceiling"
    run = Run("http://127.0.0.1:9", 1, 1.0, make_signer("stripe", secret))
    head, _, body = run.request().partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")[1:]
    headers = dict(line.split(": ", 1) for line in lines)
    assert headers["Content-Length"] == str(len(body))
    assert headers["X-Correlation-ID"] == orjson.loads(body)["provider_event_id"]
    verifier = make_verifier("stripe", secret)
    assert verifier.verify(headers, body, time.time()) is None
    assert verifier.verify(headers, body + b" ", time.time()) is not None


@pytest.mark.parametrize(
    "wire",
    [
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length : 3\r\n\r\nabc",
        b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\n\r\n",
        b"HTTP/2 200\r\n\r\n",
    ],
)
def test_parser_refuses_malformed_framing(wire: bytes) -> None:
    parser = ResponseParser()
    parser.expect()
    with pytest.raises(BadResponse):
        parser.feed(wire)
