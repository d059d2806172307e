"""One conformance suite that every transport passes, against real loopback servers."""

from __future__ import annotations

import ast
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email.utils import formatdate
from pathlib import Path
from typing import Any
from urllib.parse import quote

import anyio
import pytest
from aiohttp import web

import engine.transports.base
from engine.config import CLIENTS, build_config
from engine.run.runner import Runner
from engine.transports import (
    BODY_PREVIEW,
    TRANSPORTS,
    Transport,
    TransportError,
    make_transport,
    retry_after,
    transport_class,
)
from engine.transports.base import replaced
from engine.transports.framing import eof_ends_body
from tests.helpers import free_port, raw_server

pytestmark = pytest.mark.anyio


class Recorder:
    def __init__(self) -> None:
        self.peers: set[object] = set()
        self.bodies: list[tuple[bytes, str]] = []
        self.headers: list[dict[str, str]] = []
        self.raw: list[list[tuple[str, str]]] = []  # every header line, duplicates kept


@asynccontextmanager
async def http_server() -> AsyncIterator[tuple[str, Recorder]]:
    rec = Recorder()

    async def status(request: web.Request) -> web.Response:
        rec.peers.add(request.transport.get_extra_info("peername") if request.transport else None)
        body = await request.read()
        rec.bodies.append((body, request.headers.get("Content-Type", "")))
        rec.headers.append(dict(request.headers))
        rec.raw.append(list(request.headers.items()))
        return web.Response(status=int(request.match_info["code"]), body=b"x" * 10)

    async def slow(_: web.Request) -> web.Response:
        await anyio.sleep(30)
        return web.Response(status=200)

    async def chunked(request: web.Request) -> web.StreamResponse:
        rec.peers.add(request.transport.get_extra_info("peername") if request.transport else None)
        resp = web.StreamResponse(status=207)
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        for part in (b"abc", b"defgh", b"i" * 5000):
            await resp.write(part)
        await resp.write_eof()
        return resp

    async def after(request: web.Request) -> web.Response:
        """The status asked for, with the Retry-After asked for (if any)."""
        await request.read()
        hint = request.query.get("after")
        headers = {"Retry-After": hint} if hint is not None else {}
        return web.Response(status=int(request.match_info["code"]), body=b"wait", headers=headers)

    async def moved(request: web.Request) -> web.Response:
        await request.read()
        raise web.HTTPFound("/status/202")

    app = web.Application()
    app.router.add_route("*", "/moved", moved)
    app.router.add_route("*", "/status/{code}", status)
    app.router.add_route("*", "/after/{code}", after)
    app.router.add_route("*", "/slow", slow)
    app.router.add_get("/chunked", chunked)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}", rec
    finally:
        await runner.cleanup()


@asynccontextmanager
async def transport(client: str, *, pool: int = 4, limit_s: float = 5) -> AsyncIterator[Transport]:
    t = make_transport(client, pool_size=pool, timeout=limit_s)
    try:
        yield t
    finally:
        await t.aclose()


@pytest.fixture(params=CLIENTS)
def client(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_status_codes_and_body_delivery(client: str) -> None:
    async with http_server() as (url, rec), transport(client) as t:
        for code in (202, 404, 409, 422, 500, 503):
            reply = await t.post(f"{url}/status/{code}", b'{"n": %d}' % code)
            assert reply[::2] == (code, b"x" * 10)
        assert (await t.get(f"{url}/status/200"))[::2] == (200, b"x" * 10)
    assert rec.bodies[0] == (b'{"n": 202}', "application/json")
    assert rec.bodies[-1][0] == b""


async def test_retry_after_is_surfaced_on_429_and_5xx_only(client: str) -> None:
    """Both forms (delta-seconds and an HTTP-date) on a 429 or any 5xx; a 2xx's
    is not read (the hot path), and a hint never sticks to the next answer on
    the same kept-alive connection."""
    soon = formatdate(time.time() + 120, usegmt=True)
    async with http_server() as (url, _), transport(client, pool=1) as t:
        reply = await t.post(f"{url}/after/429?after=7", b"{}")
        assert (reply[0], reply[2], retry_after(reply)) == (429, b"wait", 7.0)
        assert retry_after(await t.post(f"{url}/after/500?after=3", b"{}")) == 3.0
        dated = retry_after(await t.post(f"{url}/after/503?after={quote(soon)}", b"{}"))
        assert dated is not None and 100.0 < dated <= 121.0, dated
        assert retry_after(await t.post(f"{url}/after/503", b"{}")) is None
        assert retry_after(await t.get(f"{url}/after/503?after=bogus")) is None
        ok = await t.post(f"{url}/after/202?after=9", b"{}")
        assert ok[::2] == (202, b"wait") and retry_after(ok) is None
        assert type(ok) is tuple  # a plain Reply: nothing was made for it


async def test_extra_headers_arrive_only_with_their_request(client: str) -> None:
    """An event's headers (its correlation id, later a signature) reach the
    server as given, after the transport's own; a request without them carries
    none (the fast client appends them to its cached head per request)."""
    extra = (("X-Correlation-ID", "evt-1f2e"), ("X-Webhook-Try", "2"))
    async with http_server() as (url, rec), transport(client, pool=1) as t:
        assert (await t.post(f"{url}/status/202", b"{}", extra))[0] == 202
        assert (await t.post(f"{url}/status/202", b"{}"))[0] == 202
        assert (await t.post(f"{url}/status/202", b"{}", extra[:1]))[0] == 202
    with_two, without, with_one = rec.headers
    assert (with_two["X-Correlation-ID"], with_two["X-Webhook-Try"]) == ("evt-1f2e", "2")
    assert with_two["Content-Type"] == "application/json"
    assert "X-Correlation-ID" not in without and "X-Webhook-Try" not in without
    assert with_one["X-Correlation-ID"] == "evt-1f2e" and "X-Webhook-Try" not in with_one
    assert [b for b, _ in rec.bodies] == [b"{}"] * 3


async def test_a_header_of_the_clients_own_name_replaces_the_clients(client: str) -> None:
    """Issue 18: ``--header 'User-Agent: …'`` or ``'content-type: …'`` goes once, with
    the user's value (any case), not beside the client's own."""
    mine = (("user-agent", "acme-hooks/2.1"), ("Content-Type", "application/cloudevents+json"))
    own = replaced(name for name, _ in mine)
    assert own == {"user-agent", "content-type"}
    async with http_server() as (url, rec):
        t = make_transport(client, pool_size=1, timeout=5, replace=own)
        try:
            assert (await t.post(f"{url}/status/202", b"{}", mine))[0] == 202
        finally:
            await t.aclose()
        async with transport(client, pool=1) as plain:
            assert (await plain.post(f"{url}/status/202", b"{}"))[0] == 202
    replaced_run, plain_run = rec.raw
    for name, value in mine:
        assert [v for k, v in replaced_run if k.lower() == name.lower()] == [value]
    assert [v for k, v in plain_run if k.lower() == "user-agent"] == ["webhookload"]
    assert [v for k, v in plain_run if k.lower() == "content-type"] == ["application/json"]


async def test_the_runs_header_names_reach_its_transport() -> None:
    cfg = build_config({"headers": ["user-agent: mine", "X-Tenant: acme"], "client": "fast"})
    t = Runner(cfg)._default_transport(cfg)
    try:
        assert t._own == b"Accept: */*\r\n"  # type: ignore[attr-defined]
    finally:
        await t.aclose()


async def test_a_redirect_is_the_answer_never_followed(client: str) -> None:
    """A 302 comes back as 302 (a webhook delivery then counts it an error:
    engine/scenario/expect.py); the client never sends the request elsewhere."""
    async with http_server() as (url, rec), transport(client, pool=1) as t:
        assert (await t.post(f"{url}/moved", b"{}"))[0] == 302
        assert (await t.get(f"{url}/moved"))[0] == 302
        assert (await t.post(f"{url}/status/202", b"{}"))[0] == 202  # the connection is fine
    assert len(rec.headers) == 1  # only the last request reached /status


async def test_keep_alive_reuses_one_connection(client: str) -> None:
    async with http_server() as (url, rec), transport(client, pool=1) as t:
        for _ in range(20):
            assert (await t.post(f"{url}/status/202", b"{}"))[0] == 202
    assert len(rec.peers) == 1


async def test_pool_is_bounded_under_concurrency(client: str) -> None:
    async with http_server() as (url, rec), transport(client, pool=3) as t:
        for _ in range(4):
            async with anyio.create_task_group() as tg:
                for _ in range(6):
                    tg.start_soon(t.post, f"{url}/status/202", b"{}")
    assert 1 <= len(rec.peers) <= 3


async def test_chunked_body_then_reuse(client: str) -> None:
    async with http_server() as (url, rec), transport(client, pool=1) as t:
        for _ in range(2):
            status, _, body = await t.get(f"{url}/chunked")
            assert (status, body) == (207, (b"abcdefgh" + b"i" * 5000)[:BODY_PREVIEW])
    assert len(rec.peers) == 1


async def test_body_ending_at_close(client: str) -> None:
    async with raw_server("eof-body") as url, transport(client) as t:
        assert (await t.get(f"{url}/"))[::2] == (200, b"hello")


async def test_timeout_is_kind_timeout_and_transport_recovers(client: str) -> None:
    async with http_server() as (url, _), transport(client, limit_s=0.3) as t:
        with pytest.raises(TransportError) as err:
            await t.post(f"{url}/slow", b"{}")
        assert err.value.kind == "timeout"
        assert (await t.post(f"{url}/status/202", b"{}"))[0] == 202


async def test_cancellation_propagates_and_transport_recovers(client: str) -> None:
    async with http_server() as (url, _), transport(client, pool=1) as t:
        with anyio.move_on_after(0.2) as scope:
            await t.post(f"{url}/slow", b"{}")
        assert scope.cancelled_caught
        assert (await t.post(f"{url}/status/202", b"{}"))[0] == 202


async def test_connection_refused_is_kind_connect(client: str) -> None:
    async with transport(client) as t:
        with pytest.raises(TransportError) as err:
            await t.post(f"http://127.0.0.1:{free_port()}/x", b"{}")
    assert err.value.kind == "connect"


async def test_connection_reset_is_an_error_not_a_crash(client: str) -> None:
    async with raw_server("reset") as url, transport(client) as t:
        with pytest.raises(TransportError) as err:
            await t.post(f"{url}/x", b"{}")
    assert err.value.kind in ("connect", "other")


async def test_http2_with_httpx_is_http2_on_the_wire() -> None:
    """``--http2`` on an ``http://`` target speaks HTTP/2 (h2c, prior knowledge),
    not a silent HTTP/1.1; one connection carries concurrent streams."""
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    seen: list[tuple[str, bytes]] = []
    peers: set[object] = set()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            msg = await receive()
            body += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        seen.append((scope["http_version"], body))
        peers.add(tuple(scope["client"]))
        await send({"type": "http.response.start", "status": 202, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    port = free_port()
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = config.errorlog = None
    stop = anyio.Event()
    async with anyio.create_task_group() as tg:
        tg.start_soon(lambda: serve(app, config, shutdown_trigger=stop.wait))  # type: ignore[arg-type]
        t = make_transport("httpx", pool_size=1, timeout=5, http2=True)
        try:
            for _ in range(400):  # until the server listens (up to ~20 s on a busy machine)
                try:
                    await t.get(f"http://127.0.0.1:{port}/")
                    break
                except TransportError:
                    await anyio.sleep(0.05)
            async with anyio.create_task_group() as burst:
                for i in range(8):
                    burst.start_soon(t.post, f"http://127.0.0.1:{port}/o", b'{"i": %d}' % i)
        finally:
            await t.aclose()
            stop.set()
    assert {v for v, _ in seen} == {"2"}
    assert sorted(b for _, b in seen[-8:]) == sorted(b'{"i": %d}' % i for i in range(8))
    assert len(peers) == 1  # one connection, many streams


async def test_http2_against_an_http1_only_target_fails_loudly() -> None:
    async with http_server() as (url, _), transport_h2() as t:
        with pytest.raises(TransportError):
            await t.post(f"{url}/status/202", b"{}")


@asynccontextmanager
async def transport_h2() -> AsyncIterator[Transport]:
    t = make_transport("httpx", pool_size=1, timeout=2, http2=True)
    try:
        yield t
    finally:
        await t.aclose()


@pytest.mark.parametrize(
    ("head", "ends"),
    [
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nbody", True),
        (b"HTTP/1.0 200 OK\r\n\r\n", True),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nConnection: close\r\n\r\n", True),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\nConnection: close\r\n\r\nbo", False),
        (
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, Chunked\r\nConnection: close\r\n\r\n",
            False,
        ),
        (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", True),
        (b"HTTP/1.1 100 Continue\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\n\r\n", True),
        (b"HTTP/1.1 200 OK\r\nConnection: cl", False),  # no complete head: doubt is an error
        (b"garbage\r\n\r\n", False),
    ],
)
def test_eof_ends_only_an_unframed_body(head: bytes, ends: bool) -> None:
    """``fast`` asks this only for responses that close the connection."""
    assert eof_ends_body(head) is ends


def test_the_registry_lists_the_clients_and_base_imports_none_of_them() -> None:
    """``--client``'s choices (config, below the transports) are the registry's
    names; and the interface module imports no implementation, so there is no
    cycle between them (base.py used to import each inside make_transport)."""
    assert tuple(TRANSPORTS) == CLIENTS
    for name in CLIENTS:
        cls = transport_class(name)
        assert cls.__module__.startswith("engine.transports."), cls
    base = Path(engine.transports.base.__file__).read_text()
    imported = {
        node.module
        for node in ast.walk(ast.parse(base))
        if isinstance(node, ast.ImportFrom) and node.module
    } | {
        alias.name
        for node in ast.walk(ast.parse(base))
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert not {m for m in imported if m.startswith("engine.transports")}, imported
    with pytest.raises(ValueError, match="unknown client 'curl'"):
        transport_class("curl")
