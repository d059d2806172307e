"""Conformance on the wire: every transport against scripted, misbehaving servers.

Each case is one answer a server may really give (or fail to give); a
transport must count it right (the status, or an error of the right kind) and
then carry on: the next request gets its own answer. Library limits are marked
``xfail(strict=True)`` with the reason, so a library that starts coping shows.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio
import anyio.to_thread
import pytest

from engine.config import CLIENTS
from engine.run.loop import has_uvloop
from engine.transports import Transport, TransportError, make_transport
from engine.transports.fast import FastTransport
from tests.helpers import free_port
from tests.misbehaving import (
    Action,
    Peer,
    Request,
    Script,
    ScriptedServer,
    chunked,
    response,
    scripted_server,
)

pytestmark = pytest.mark.anyio

FINE = response(200, b"fine")


def sends(*pieces: bytes, pause: float = 0.0, then: Action = "keep") -> Script:
    """A script: write ``pieces`` (``pause`` s apart), then ``then``; ``/ok`` gets :data:`FINE`."""

    def run(peer: Peer, req: Request) -> Action:
        if req.path == "/ok":
            peer.send(FINE)
            return "keep"
        peer.send(*pieces, pause=pause)
        return then

    return run


def trickles(data: bytes) -> Script:
    def run(peer: Peer, req: Request) -> Action:
        peer.trickle(FINE if req.path == "/ok" else data)
        return "keep"

    return run


@dataclass(frozen=True)
class Case:
    script: Script
    expect: int | str  # the status, or the TransportError kind
    body: bytes = b""  # the Reply's body: the first 200 bytes
    reuse: bool | None = None  # the next request on the same connection? None: either


MB = bytes(range(256)) * 4096
HEAD_64K = tuple(f"X-Pad-{i}: {'p' * 1000}" for i in range(64))
PARTIAL = response(202, b"p" * 100, length=1000)
CLOSE = ("Connection: close",)

CASES: dict[str, Case] = {
    # answers every client has always counted right: they must stay right
    "chunked-extensions-trailers": Case(
        sends(
            b"HTTP/1.1 201 X\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n"
            b"5;ext=1\r\nhello\r\n6;a=b;c\r\n world\r\n0\r\nX-T: t\r\n\r\n"
        ),
        201,
        b"hello world",
        reuse=True,
    ),
    "split-writes": Case(
        sends(
            b"HTTP/1.1 202 Acc", b"epted\r\nContent-Length: 5\r\n\r\n", b"he", b"llo", pause=0.02
        ),
        202,
        b"hello",
        reuse=True,
    ),
    "1mb-body": Case(sends(response(200, MB)), 200, MB[:200], reuse=True),
    "1mb-chunked": Case(sends(chunked(200, MB[:500_000], MB[500_000:])), 200, MB[:200], reuse=True),
    "204": Case(sends(b"HTTP/1.1 204 No Content\r\n\r\n"), 204, reuse=True),
    "304-with-length": Case(
        sends(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n"), 304, reuse=True
    ),
    "connection-close": Case(
        sends(response(200, b"bye", headers=CLOSE), then="close"), 200, b"bye", reuse=False
    ),
    "http-1.0": Case(sends(response(200, b"old", version="1.0"), then="close"), 200, b"old", False),
    "close-delimited": Case(
        sends(response(200, b"to the end", length=-1), then="close"), 200, b"to the end", False
    ),
    "close-delimited-connection-close": Case(
        sends(response(200, b"end", headers=CLOSE, length=-1), then="close"), 200, b"end", False
    ),
    "garbage-status-line": Case(sends(b"HTTP/1.1 abc nonsense\r\n\r\n"), "other"),
    "not-http": Case(sends(b"SSH-2.0-OpenSSH_9.6\r\n"), "other"),
    "reset-before-status": Case(sends(then="reset"), "connect"),
    "reset-inside-status": Case(sends(b"HTTP/1.1 2", then="reset"), "connect"),
    "never-answers": Case(sends(then="hang"), "timeout"),
    "byte-by-byte": Case(trickles(response(202, b"slowly")), 202, b"slowly", reuse=True),
    "64kb-headers": Case(sends(response(200, b"big", headers=HEAD_64K)), 200, b"big", True),
    # issue 7, item 2: a body cut short is an error, whatever ends it
    "truncated-length-fin": Case(sends(PARTIAL, then="close"), "other"),
    "truncated-length-rst": Case(sends(PARTIAL, then="reset"), "other"),
    "truncated-length-connection-close-fin": Case(
        sends(response(202, b"p" * 100, length=1000, headers=CLOSE), then="close"), "other"
    ),
    "truncated-chunked-fin": Case(sends(chunked(202, b"abc", end=False), then="close"), "other"),
    "truncated-chunked-rst": Case(sends(chunked(202, b"abc", end=False), then="reset"), "other"),
    "truncated-chunked-no-chunk-connection-close-fin": Case(
        sends(
            b"HTTP/1.1 202 X\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
            then="close",
        ),
        "other",
    ),
    "close-delimited-rst": Case(sends(response(200, b"cut", length=-1), then="reset"), "other"),
    # issue 7, item 3: interim answers are skipped; the final one counts
    "100-continue": Case(
        sends(b"HTTP/1.1 100 Continue\r\n\r\n" + response(202, b"final")), 202, b"final", True
    ),
    "103-early-hints": Case(
        sends(
            b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n",
            response(202, b"final"),
            pause=0.02,
        ),
        202,
        b"final",
        reuse=True,
    ),
    "100-then-103-then-final": Case(
        sends(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </b>\r\n\r\n",
            response(201, b"made"),
        ),
        201,
        b"made",
        reuse=True,
    ),
}

# A library's own limit, not ours to fake: (client, case) -> why it fails.
XFAIL: dict[tuple[str, str], str] = {
    ("httpx", "not-http"): "h11 checks a status line only once the head's blank line has come, "
    "so a non-HTTP banner without one waits for the timeout (kind 'timeout', not 'other')",
    ("httpx", "answers-twice"): "httpcore leaves bytes that follow a complete response in "
    "h11's buffer and reads them as the next answer on that connection (its reuse check "
    "only asks whether the socket is readable)",
    ("aiohttp", "stray-on-idle"): "aiohttp parses bytes that arrive on an idle pooled "
    "connection into its queue and hands them to the next request on it as its answer "
    "(it looks for unread data when a connection is released, not when it is reused)",
}


def _variants() -> list[tuple[str, str]]:
    """(client, event loop): ``fast`` also on uvloop, which real runs use (engine/run/loop.py)."""
    loops = ("asyncio", "uvloop") if has_uvloop() else ("asyncio",)
    return [(c, loop) for c in CLIENTS for loop in (loops if c == "fast" else ("asyncio",))]


def clients(case: str, *extra: object) -> list[object]:
    """(anyio_backend, client, *extra) params for every variant, with the marks
    :data:`XFAIL` holds for ``case``."""
    out: list[object] = []
    for client, loop in _variants():
        why = XFAIL.get((client, case))
        marks = [pytest.mark.xfail(strict=True, reason=why)] if why else []
        name = client if loop == "asyncio" else f"{client}-{loop}"
        ident = "-".join([name, case] if extra else [name])
        out.append(pytest.param(loop, client, *extra, id=ident, marks=marks))
    return out


@pytest.fixture
def anyio_backend(request: pytest.FixtureRequest) -> tuple[str, dict[str, bool]]:
    return "asyncio", {"use_uvloop": getattr(request, "param", "asyncio") == "uvloop"}


def variants(case: str) -> pytest.MarkDecorator:
    return pytest.mark.parametrize(
        ("anyio_backend", "client"), clients(case), indirect=["anyio_backend"]
    )


@asynccontextmanager
async def transport(client: str, *, pool: int = 1, limit_s: float = 5) -> AsyncIterator[Transport]:
    t = make_transport(client, pool_size=pool, timeout=limit_s)
    try:
        yield t
    finally:
        await t.aclose()


@pytest.mark.parametrize(
    ("anyio_backend", "client", "case"),
    [p for name, case in CASES.items() for p in clients(name, case)],
    indirect=["anyio_backend"],
)
async def test_answer_is_counted_right_and_the_next_request_gets_its_own(
    client: str, case: Case
) -> None:
    async with scripted_server(case.script) as server, transport(client, limit_s=1) as t:
        with anyio.fail_after(10):
            if isinstance(case.expect, int):
                status, _, body = await t.post(f"{server.url}/case", b"{}")
                assert (status, body) == (case.expect, case.body)
            else:
                with pytest.raises(TransportError) as err:
                    await t.post(f"{server.url}/case", b"{}")
                assert err.value.kind == case.expect, err.value
            assert (await t.post(f"{server.url}/ok", b"{}"))[::2] == (200, b"fine")
    first, then = server.log.requests[0], server.log.requests[-1]
    assert (first.path, then.path) == ("/case", "/ok")
    if case.reuse is not None:
        assert (then.conn == first.conn) is case.reuse


def own_path(tag: bytes = b"") -> Script:
    """A script answering each request with ``tag`` and its own path as the body."""

    def run(peer: Peer, req: Request) -> Action:
        peer.send(response(202, tag + req.path.encode()))
        return "keep"

    return run


@pytest.mark.parametrize("pool", [1, 3])
@variants("origins")
async def test_each_origin_gets_only_its_own_requests(client: str, pool: int) -> None:
    """Issue 7, item 1: an idle connection to one server never carries another's requests."""
    async with (
        scripted_server(own_path(b"A")) as a,
        scripted_server(own_path(b"B")) as b,
        transport(client, pool=pool) as t,
    ):
        with anyio.fail_after(20):
            for i in range(4):
                assert (await t.post(f"{a.url}/a{i}", b"{}"))[::2] == (202, b"A/a%d" % i)
                assert (await t.get(f"{b.url}/b{i}"))[::2] == (202, b"B/b%d" % i)
            replies: dict[str, bytes] = {}

            async def one(url: str, path: str) -> None:
                replies[path] = (await t.get(f"{url}{path}"))[2]

            async with anyio.create_task_group() as tg:
                for i in range(4, 10):
                    tg.start_soon(one, a.url, f"/a{i}")
                    tg.start_soon(one, b.url, f"/b{i}")
            assert replies == {p: p[1].upper().encode() + p.encode() for p in replies}
            with pytest.raises(TransportError) as err:  # nothing listens: never another host
                await t.get(f"http://127.0.0.1:{free_port()}/elsewhere")
            assert err.value.kind == "connect"
        if isinstance(t, FastTransport):
            t.check_invariants()
    assert sorted(a.log.paths()) == sorted(f"/a{i}" for i in range(10))
    assert sorted(b.log.paths()) == sorted(f"/b{i}" for i in range(10))


def answers_twice(peer: Peer, req: Request) -> Action:
    """The right answer and a stray second one, in one write."""
    peer.send(response(202, req.path.encode()) + response(299, b"stray"))
    return "keep"


@variants("answers-twice")
async def test_a_server_answering_twice_never_shifts_answers(client: str) -> None:
    """Issue 7, item 4: every request resolves, with its own answer or an error,
    never the stray one; the pool does not grow past its size."""
    got: dict[str, bytes | str] = {}  # path -> its answer's body, or the error's kind

    async def user(t: Transport, url: str, u: int) -> None:
        for i in range(25):
            path = f"/u{u}-{i}"
            try:
                status, _, body = await t.post(f"{url}{path}", b"{}")
                got[path] = body if status == 202 else f"{status} {body!r}"
            except TransportError as exc:
                got[path] = exc.kind

    async with scripted_server(answers_twice) as server, transport(client, pool=4) as t:
        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                for u in range(8):
                    tg.start_soon(user, t, server.url, u)
        if isinstance(t, FastTransport):
            t.check_invariants()  # at most 4 open, none twice in the pool
    assert len(got) == 200
    wrong = {path: v for path, v in got.items() if v not in (path.encode(), "connect", "other")}
    assert not wrong, wrong
    assert sum(isinstance(v, bytes) for v in got.values()) >= 100, got


def stray_after_idle(sent: threading.Event) -> Script:
    def run(peer: Peer, req: Request) -> Action:
        peer.send(response(202, req.path.encode()))
        if req.conn == 0:  # the first connection gets a stray answer once idle
            peer.sleep(0.1)
            peer.send(response(299, b"stray"))
            sent.set()
        return "keep"

    return run


@variants("stray-on-idle")
async def test_bytes_on_an_idle_connection_close_it(client: str) -> None:
    """Issue 7, item 4: a stray answer on an idle connection is nobody's answer;
    that connection is closed, never handed out twice."""
    sent = threading.Event()
    async with scripted_server(stray_after_idle(sent)) as server, transport(client, pool=2) as t:
        with anyio.fail_after(20):
            assert (await t.post(f"{server.url}/first", b"{}"))[::2] == (202, b"/first")
            assert await anyio.to_thread.run_sync(sent.wait, 10)
            await anyio.sleep(0.1)  # the loop reads the stray bytes
            replies: dict[str, bytes] = {}

            async def one(path: str) -> None:
                replies[path] = (await t.post(f"{server.url}{path}", b"{}"))[2]

            async with anyio.create_task_group() as tg:
                for path in ("/x", "/y"):
                    tg.start_soon(one, path)
            assert replies == {"/x": b"/x", "/y": b"/y"}
    assert all(r.conn != 0 for r in server.log.requests if r.path != "/first")


@variants("restart")
async def test_server_restarted_on_the_same_port(client: str) -> None:
    """Pooled connections to a stopped server are dropped; after the restart,
    requests succeed on new connections."""
    server = ScriptedServer(own_path())
    port = server.port
    try:
        async with transport(client, pool=4) as t:
            with anyio.fail_after(20):
                async with anyio.create_task_group() as tg:
                    for i in range(8):
                        tg.start_soon(t.get, f"{server.url}/before{i}")
                await anyio.to_thread.run_sync(server.stop)
                await anyio.sleep(0.1)  # the loop sees every connection close
                with pytest.raises(TransportError) as err:
                    await t.get(f"{server.url}/down")
                assert err.value.kind == "connect"
                server = ScriptedServer(own_path(), port=port)
                for i in range(8):
                    assert (await t.get(f"{server.url}/after{i}"))[::2] == (202, b"/after%d" % i)
    finally:
        await anyio.to_thread.run_sync(server.stop)
    assert server.log.paths() == [f"/after{i}" for i in range(8)]
