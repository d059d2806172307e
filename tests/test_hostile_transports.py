"""A hostile target cannot take a client's memory or time (issue 21): every
``--client`` bounds the head, the interim answers, the body and the request's
duration, and a violation is an error of a named kind, never a success.

Real loopback servers (tests/misbehaving.py) send an endless head, endless
1xx answers, a 1 GiB body, an endless chunked body and a gzip bomb; memory
is this process's resident size sampled while the request runs (a generous
bound: without the bounds each grows by gigabytes)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from engine.config import CLIENTS
from engine.transports import Transport, TransportError, make_transport
from engine.transports.base import BODY_PREVIEW, HEAD_MAX, INTERIM_MAX
from engine.transports.head_guard import HeadScanner
from tests.misbehaving import (
    BOMB,
    Action,
    PeakRss,
    Peer,
    Request,
    Script,
    endless_body,
    endless_chunked_body,
    endless_head,
    endless_interims,
    gzip_bomb,
    scripted_server,
)

pytestmark = pytest.mark.anyio

MB = 1024 * 1024
GREW_MAX = 100 * MB


@pytest.fixture(params=CLIENTS)
def client(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@asynccontextmanager
async def transport(client: str, *, limit_s: float = 8) -> AsyncIterator[Transport]:
    t = make_transport(client, pool_size=2, timeout=limit_s)
    try:
        yield t
    finally:
        await t.aclose()


async def failure(client: str, script: Script) -> tuple[TransportError, int]:
    """The error one POST ends in against ``script``, and how much memory grew."""
    async with scripted_server(script) as srv, transport(client) as t:
        with PeakRss() as rss, pytest.raises(TransportError) as err:
            await t.post(srv.url + "/webhook", b"{}")
    return err.value, rss.grew


async def test_an_endless_head_is_oversized(client: str) -> None:
    err, grew = await failure(client, endless_head)
    assert err.kind == "oversized", err
    assert grew < GREW_MAX


async def test_endless_interim_answers_end_the_request(client: str) -> None:
    # fast, aiohttp and httpx count them (over INTERIM_MAX is oversized);
    # pyreqwest (hyper) skips them with no count and offers no hook, so its
    # total deadline ends the request (docs/HOSTILE.md)
    async with scripted_server(endless_interims) as srv, transport(client, limit_s=2) as t:
        with PeakRss() as rss, pytest.raises(TransportError) as err:
            await t.post(srv.url + "/webhook", b"{}")
    if client == "pyreqwest":
        assert err.value.kind == "timeout", err.value
    else:
        assert err.value.kind == "oversized", err.value
        assert "interim" in str(err.value)
    assert rss.grew < GREW_MAX


@pytest.mark.parametrize("script", [endless_body, endless_chunked_body])
async def test_a_huge_or_endless_body_is_oversized(client: str, script: Script) -> None:
    err, grew = await failure(client, script)
    assert err.kind == "oversized", err
    assert "body" in str(err)
    assert grew < GREW_MAX


async def test_a_gzip_bomb_is_never_inflated(client: str) -> None:
    async with scripted_server(gzip_bomb) as srv, transport(client) as t:
        with PeakRss() as rss:
            status, _, body = await t.post(srv.url + "/webhook", b"{}")
    assert status == 500
    assert body == BOMB[:BODY_PREVIEW]  # as sent: compressed
    assert rss.grew < GREW_MAX


def trickle(peer: Peer, _: Request) -> Action:
    """A head, then one byte of body a second: alive, never done."""
    peer.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
    for _i in range(30):
        peer.send(b"x")
        peer.sleep(1.0)
    return "close"


async def test_the_timeout_is_a_deadline_for_head_and_body(client: str) -> None:
    async with scripted_server(trickle) as srv, transport(client, limit_s=1.5) as t:
        with pytest.raises(TransportError) as err:
            await t.post(srv.url + "/webhook", b"{}")
    assert err.value.kind == "timeout", err.value


def test_the_httpx_head_guard_counts_heads_split_anywhere() -> None:
    """The scanner under httpx (engine/transports/head_guard.py): heads split
    at any byte still count, the final head ends the scan (its body is never
    read as a head), and one interim more than the bound is ``oversized``."""
    interim = b"HTTP/1.1 100 Continue\r\n\r\n"
    final = b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n" + b"\n\n" * 4
    ok = HeadScanner()
    ok.start()
    for byte in interim * INTERIM_MAX + final + interim * 100:
        ok.feed(bytes([byte]))  # never raises: the body and what follows are not heads
    over = HeadScanner()
    over.start()
    with pytest.raises(TransportError, match="interim") as err:
        over.feed(interim * (INTERIM_MAX + 1))
    assert err.value.kind == "oversized"
    long = HeadScanner()
    long.start()
    with pytest.raises(TransportError, match="head") as err:
        long.feed(b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * (HEAD_MAX // 6))
    assert err.value.kind == "oversized"
