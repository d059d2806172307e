"""The ``public`` profile answers every case of docs/CONTRACT.md's measured
table as the public service did (issue 19 §2): code and body, one webhook per
case, against the reference target as a process. The strict column is
tests/test_target_profiles.py's."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from tests.events import ScenarioEvents
from tests.helpers import get_json, post, target_process

ROLLBACK = "failed to commit transaction: commit unexpectedly resulted in rollback"


def api(inner: str) -> str:
    """The measured body's message when the API answered 500, spelled out."""
    escaped = inner.replace('"', '\\"')
    return (
        'api service unavailable: status 500, body: {"success":false,"message":"' + escaped + '"}'
    )


class Order:
    """One fresh order (and its dispute) on the public target."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.contract = ScenarioEvents()
        self.order = self.contract.new_order()

    def body(self, status: str) -> dict[str, Any]:
        out: dict[str, Any] = orjson.loads(self.contract.order_event(self.order, status).body)
        return out

    def cb(self, status: str, resolution: str | None = None) -> dict[str, Any]:
        event = self.contract.chargeback_event(self.order, status, resolution)
        out: dict[str, Any] = orjson.loads(event.body)
        return out

    def send(self, body: dict[str, Any] | bytes, *, chargeback: bool = False) -> tuple[int, str]:
        raw = body if isinstance(body, bytes) else orjson.dumps(body)
        path = "/webhooks/payments/chargebacks" if chargeback else "/webhooks/payments/orders"
        code, answer = post(self.url + path, raw)
        return code, (orjson.loads(answer)["message"] if answer else "")

    def ok(self, body: dict[str, Any], *, chargeback: bool = False) -> None:
        assert self.send(body, chargeback=chargeback) == (202, "")

    def paid(self) -> Order:
        self.ok(self.body("created"))
        self.ok(self.body("success"))
        return self

    def disputed(self) -> Order:
        self.paid().ok(self.cb("opened"), chargeback=True)
        return self


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with target_process("--profile", "public", "--error-delay", "0") as u:
        yield u


def test_order_cases_as_measured(url: str) -> None:
    o = Order(url)
    created = o.body("created")
    assert o.send(created) == (202, "")
    exists = (500, api("create order from event: order already exists"))
    assert o.send(created) == exists  # a replay of created
    assert o.send(o.body("created")) == exists  # a second created, new event id
    updated = o.body("updated")
    o.ok(updated)
    assert o.send(updated) == (500, api(ROLLBACK))  # a replay of updated
    assert get_json(f"{url}/orders/{o.order.order_id}")["status"] == "updated"  # rolled back
    success = o.body("success")
    o.ok(success)
    assert o.send(success) == (422, "invalid status transition: success -> success")
    assert o.send(o.body("updated")) == (422, "invalid status transition: success -> updated")
    f = Order(url)
    f.ok(f.body("created"))
    failed = f.body("failed")
    f.ok(failed)
    assert f.send(failed)[0] == 422  # a replay of failed
    early = Order(url)
    assert early.send(early.body("updated")) == (404, "resource not found")
    known = Order(url)
    known.ok(known.body("created"))
    code, message = known.send({**known.body("updated"), "status": "shipped"})
    assert code == 422 and message.startswith("invalid status transition: ")
    blank = Order(url)
    assert blank.send({**blank.body("created"), "order_id": ""}) == (
        500,
        api('invalid input syntax for type uuid: "" (SQLSTATE 22P02)'),
    )
    late = Order(url)
    assert late.send({**late.body("created"), "created_at": "2026-01-02"}) == (
        400,
        "Missing order_id",
    )
    assert late.send(b"{not json") == (400, "Missing order_id")


def test_chargeback_cases_as_measured(url: str) -> None:
    o = Order(url).paid()
    opened = o.cb("opened")
    o.ok(opened, chargeback=True)
    replay = (500, api("process chargeback: " + ROLLBACK))
    assert o.send(opened, chargeback=True) == replay
    o.ok(o.cb("opened"), chargeback=True)  # a second opened, new event id: 202
    upd = o.cb("updated")
    o.ok(upd, chargeback=True)
    assert o.send(upd, chargeback=True) == replay
    closed = o.cb("closed", "won")
    o.ok(closed, chargeback=True)
    assert o.send(closed, chargeback=True) == replay
    o.ok(o.cb("updated"), chargeback=True)  # updated after closed: 202, stays won
    disputes = [d for d in get_json(url + "/disputes") if d["order_id"] == o.order.order_id]
    assert [d["status"] for d in disputes] == ["won"]
    stranger = Order(url)
    assert stranger.send(stranger.cb("opened"), chargeback=True) == (
        500,
        api('violates foreign key constraint "fk_dispute_order" (SQLSTATE 23503)'),
    )
    for status in ("updated", "closed"):
        early = Order(url).paid()
        oid = early.order.order_id
        assert early.send(
            early.cb(status, "won" if status == "closed" else None), chargeback=True
        ) == (
            500,
            api(f"process chargeback: dispute not found for order_id: {oid}"),
        )


def test_a_500_comes_after_the_ingests_retries() -> None:
    """Measured: 0.26-0.36 s before any 500 (ingest calls its API three times)."""
    with target_process("--profile", "public") as u:
        o = Order(u)
        created = o.body("created")
        o.ok(created)
        began = time.monotonic()
        assert o.send(created)[0] == 500
        assert time.monotonic() - began >= 0.26
