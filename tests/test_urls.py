"""A base URL's path prefix and query (``--target``, ``--read-api``) on the wire.

Many receivers take a token in the query (``http://host/hooks?token=abc``):
the query must follow the joined path, not sit before it.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiohttp import web

from engine.config import RunConfig, build_config
from engine.domain.urls import join_url, split_query
from engine.run.runner import Runner
from engine.scenario.sample import join
from engine.scenario.select import compiled_for


@pytest.mark.parametrize(
    ("base", "path", "joined"),
    [
        ("http://h:1", "/webhooks/x", "http://h:1/webhooks/x"),
        ("http://h:1/hooks", "/webhooks/x", "http://h:1/hooks/webhooks/x"),
        ("http://h:1/hooks/", "/webhooks/x", "http://h:1/hooks/webhooks/x"),
        ("http://h:1/hooks?token=abc", "/webhooks/x", "http://h:1/hooks/webhooks/x?token=abc"),
        ("http://h:1?token=abc", "/orders?limit=10", "http://h:1/orders?limit=10&token=abc"),
        ("http://h:1/p#frag", "/x", "http://h:1/p/x"),
        ("https://h/a%20b?t=%2F", "/x", "https://h/a%20b/x?t=%2F"),
    ],
)
def test_join_url_keeps_the_prefix_and_puts_the_query_last(
    base: str, path: str, joined: str
) -> None:
    assert join_url(base, path) == joined


def test_split_query() -> None:
    assert split_query("http://h/orders/?t=1") == ("http://h/orders/", "?t=1")
    assert split_query("http://h/orders/") == ("http://h/orders/", "")


def test_ingest_urls_with_a_token_in_the_query() -> None:
    """The default run's webhooks, its own read and ``--read-mix api``'s lists."""
    ingest = compiled_for(RunConfig())
    hooks, api = "http://h:1/hooks?token=abc", "http://r:2/api?k=v"
    assert [join(hooks, w.url) for w in ingest.webhooks] == [
        "http://h:1/hooks/webhooks/payments/orders?token=abc",
        "http://h:1/hooks/webhooks/payments/chargebacks?token=abc",
    ]
    read = ingest.flow("order").read
    assert read is not None
    own = read.url({"order_id": "o-1"}, None, random.Random(0))
    assert join(api, own) == "http://r:2/api/orders/o-1?k=v"
    assert tuple(join(api, path) for path in read.lists) == (
        "http://r:2/api/orders?limit=10&k=v",
        "http://r:2/api/orders/events?limit=10&k=v",
    )


@asynccontextmanager
async def recorder() -> AsyncIterator[tuple[str, list[str]]]:
    """A loopback server that accepts anything and records each request's path and query."""
    seen: list[str] = []

    async def any_request(request: web.Request) -> web.Response:
        seen.append(f"{request.method} {request.path_qs}")
        return web.Response(status=202 if request.method == "POST" else 404)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", any_request)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}", seen
    finally:
        await runner.cleanup()


@pytest.mark.anyio
async def test_a_run_sends_the_query_after_the_path() -> None:
    async with recorder() as (url, seen):
        cfg = build_config(
            {
                "target": f"{url}/hooks?token=abc",
                "read_api": f"{url}/api?k=v",
                "vus": "2",
                "duration": "400ms",
                "think": "0",
                "dispute_ratio": "0.5",
                "read_ratio": "0.5",
                "verify": "2",
                "verify_wait": "0",
            }
        )
        await Runner(cfg).run()
    kinds = {line.split("?")[0].rsplit("/", 1)[0] for line in seen}
    assert "POST /hooks/webhooks/payments" in kinds  # orders and chargebacks
    assert "GET /api/orders" in kinds  # reads and --verify's
    for line in seen:
        method, _, path_qs = line.partition(" ")
        want = "token=abc" if method == "POST" else "k=v"
        assert path_qs.endswith(want) and path_qs.count("?") == 1, line
    assert any(line.startswith("POST /hooks/webhooks/payments/chargebacks?") for line in seen)


def test_scenarios_check_shows_the_urls_a_run_sends() -> None:
    assert (
        join("http://h:1/hooks?token=abc", "/webhooks/x") == "http://h:1/hooks/webhooks/x?token=abc"
    )
    assert join("http://h:1?t=1", "https://elsewhere/x") == "https://elsewhere/x"
