"""A scenario file's ``accept.duplicate`` / ``accept.early`` (the FlowWalker's
fault tables) beside issue 19's answer classes: the table says which answers
below 500 are "already seen" / refused; a 5xx and no answer stay errors
whatever it says; without a table (--contract, or a file that leaves the
rule out) 409 is already seen, another 4xx refused (early: any 4xx).
Against a loopback server that answers the status its path names."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from engine.domain.contracts import Event
from engine.domain.shape import INGEST_SHAPE
from engine.metrics.stats import Stats
from engine.scenario.expect import Table
from engine.scenario.faults import Faults
from engine.transports import make_transport

ORDER_EP = INGEST_SHAPE.endpoint_index("orders")  # by the scenario's endpoint name

pytestmark = pytest.mark.anyio


class _Status(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(int(self.path.rsplit("/", 1)[1]))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def status_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Status)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _table(*codes: int) -> Table:
    """A compiled accept list of 2xx and ``codes`` (engine/scenario/compiler.py's form)."""
    return tuple(200 <= s < 300 or s in codes for s in range(600))


EVENT = Event("evt_1", (), b"{}")
ONLY_422 = _table(422)

DUPLICATES = [
    # (table, status, the class key, an error?)
    (None, 409, "duplicates_rejected", False),
    (None, 422, "duplicates_refused", False),
    (ONLY_422, 422, "duplicates_rejected", False),  # the file's "already seen"
    (ONLY_422, 409, "duplicates_refused", False),  # not the file's: a refusal
    (ONLY_422, 202, "duplicates_accepted", False),
    (_table(500), 500, "duplicates_5xx", True),  # a 5xx is never handled
]
EARLIES = [
    (None, 400, "early_refused", False),
    (_table(404), 404, "early_refused", False),
    (_table(404), 400, "early_other", False),  # the file expects 404 only
    (_table(404), 503, "early_5xx", True),
]


async def _deliver(send: str, table: Table | None, status: int) -> tuple[dict[str, int], int]:
    stats = Stats()
    transport = make_transport("fast", pool_size=2, timeout=5.0)
    try:
        faults = Faults(transport, stats, time.perf_counter, None)  # the transport's clock
        with status_server() as base:
            url = f"{base}/s/{status}"
            if send == "again":
                await faults.again(ORDER_EP, url, EVENT, table)
            else:
                await faults.early(ORDER_EP, url, EVENT, table)
    finally:
        await transport.aclose()
    snap = stats.take(1.0)
    return dict(snap.delivery), snap.errors


@pytest.mark.parametrize(("table", "status", "key", "error"), DUPLICATES)
async def test_a_duplicate_is_classed_by_the_files_table(
    table: Table | None, status: int, key: str, error: bool
) -> None:
    delivery, errors = await _deliver("again", table, status)
    assert delivery["duplicates_sent"] == delivery[key] == 1, delivery
    assert delivery[f"dup:{status}"] == 1
    assert errors == int(error)
    handled = key in ("duplicates_accepted", "duplicates_rejected")
    assert delivery.get("duplicates_failed", 0) == int(not handled)


@pytest.mark.parametrize(("table", "status", "key", "error"), EARLIES)
async def test_an_early_event_is_classed_by_the_files_table(
    table: Table | None, status: int, key: str, error: bool
) -> None:
    delivery, errors = await _deliver("early", table, status)
    assert delivery["early_sent"] == delivery[key] == 1, delivery
    assert delivery[f"early:{status}"] == 1
    assert errors == int(error)
    assert delivery.get("early_failed", 0) == int(key != "early_refused")
