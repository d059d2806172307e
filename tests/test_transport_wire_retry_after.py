"""Retry-After off the wire (#10): every transport reads the final answer's
header however the head arrives (after a 100 Continue, split mid-header,
close-delimited), and only on 429/5xx. The scripts and the client matrix are
the wire suite's (tests/test_transport_wire.py)."""

from __future__ import annotations

import anyio
import pytest

from engine.transports import retry_after
from tests.misbehaving import Script, response, scripted_server
from tests.test_transport_wire import clients, sends, transport

pytestmark = pytest.mark.anyio


RETRY_AFTER: dict[str, tuple[Script, float]] = {
    # the final answer's Retry-After, not an interim one's
    "after-100-continue": (
        sends(
            b"HTTP/1.1 100 Continue\r\nRetry-After: 99\r\n\r\n"
            + response(503, b"busy", headers=("Retry-After: 4",))
        ),
        4.0,
    ),
    "split-inside-the-header": (
        sends(b"HTTP/1.1 429 X\r\nRetry-", b"After: 6\r\nContent-Length: 0\r\n\r\n", pause=0.02),
        6.0,
    ),
    "close-delimited-body": (
        sends(response(503, b"x", headers=("Retry-After: 2",), length=-1), then="close"),
        2.0,
    ),
}


@pytest.mark.parametrize(
    ("anyio_backend", "client", "script", "after"),
    [p for name, (script, after) in RETRY_AFTER.items() for p in clients(name, script, after)],
    indirect=["anyio_backend"],
)
async def test_retry_after_read_off_the_final_head(
    client: str, script: Script, after: float
) -> None:
    """#10: Retry-After on a 429/503 however the head arrives; the next answer
    on the connection carries none of it."""
    async with scripted_server(script) as server, transport(client, limit_s=1) as t:
        with anyio.fail_after(10):
            assert retry_after(await t.post(f"{server.url}/case", b"{}")) == after
            assert retry_after(await t.post(f"{server.url}/ok", b"{}")) is None
