"""A redirect is never followed, by any client, and never a success (issue 21):
a signed webhook must not go to a host nobody chose, and a 3xx delivered
nothing (Stripe and Svix count it a failed delivery)."""

from __future__ import annotations

import pytest

from engine.config import CLIENTS, build_config
from engine.run.runner import Runner
from engine.run.verify import verify_orders
from tests.misbehaving import Action, Log, Peer, Request, Script, response, scripted_server

pytestmark = pytest.mark.anyio


def applied(peer: Peer, _: Request) -> Action:
    """The other host: it would verify and apply whatever reached it."""
    peer.send(response(202, b'{"status": "success"}'))
    return "keep"


def redirect_to(url: str, status: int = 307) -> Script:
    def script(peer: Peer, _: Request) -> Action:
        peer.send(response(status, b"moved", headers=(f"Location: {url}/webhook",)))
        return "keep"

    return script


@pytest.mark.parametrize("status", [307, 308, 301])
@pytest.mark.parametrize("client", CLIENTS)
async def test_no_client_follows_a_redirect_and_it_is_a_failed_delivery(
    client: str, status: int
) -> None:
    elsewhere = Log()
    async with (
        scripted_server(applied, log=elsewhere) as other,
        scripted_server(redirect_to(other.url, status)) as target,
    ):
        cfg = build_config(
            {"target": target.url, "vus": "2", "duration": "1s", "think": "0", "client": client}
        )
        result = await Runner(cfg).run()
    t = result.total
    assert elsewhere.requests == [] and elsewhere.connections == 0
    assert t.success == 0 and t.total > 0
    assert t.errors == t.errors_by_kind["redirect"] == t.status_codes[status]
    sample = t.sample_failures[0]
    assert sample.kind == "redirect" and sample.status == status
    assert sample.detail == f"redirect to {other.url}/webhook"


async def test_the_read_api_is_never_followed_either() -> None:
    elsewhere = Log()
    async with (
        scripted_server(applied, log=elsewhere) as other,
        scripted_server(redirect_to(other.url)) as read_api,
    ):
        found = await verify_orders(read_api.url, [("o1", "success")], 0.3)
    assert elsewhere.requests == [] and elsewhere.connections == 0
    assert found.tally("orders").applied == 0 and found.tally("orders").errors == 1


def invalid_location(peer: Peer, _: Request) -> Action:
    peer.send(response(302, b"", headers=("Location: javascript:alert(1)",)))
    return "keep"


@pytest.mark.parametrize("client", CLIENTS)
async def test_a_location_no_client_can_parse_is_still_just_a_redirect(client: str) -> None:
    async with scripted_server(invalid_location) as target:
        cfg = build_config(
            {"target": target.url, "vus": "1", "duration": "500ms", "client": client}
        )
        result = await Runner(cfg).run()
    assert result.total.errors_by_kind["redirect"] > 0 and result.total.success == 0
