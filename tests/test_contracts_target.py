"""Both payload contracts (the built-in ``ingest`` and ``plan`` files' events),
field by field, and the reference target's rules."""

from __future__ import annotations

import copy
import dataclasses
import re
from datetime import datetime, timedelta

import orjson
import pytest

from engine.domain.contracts import Event
from engine.domain.ids import new_uuid
from target.store import Reject, Store, parse_chargeback, parse_order
from tests.events import ScenarioEvents, any_order

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def rfc3339(s: str) -> datetime:
    assert s.endswith("Z")
    return datetime.fromisoformat(s)


def test_uuids_are_v4_and_unique() -> None:
    ids = {new_uuid() for _ in range(10000)}
    assert len(ids) == 10000
    assert all(UUID.match(i) for i in ids)


def test_ingest_order_payload_fields() -> None:
    c = ScenarioEvents()
    order = c.new_order()
    first = orjson.loads(c.order_event(order, "created").body)
    second = orjson.loads(c.order_event(order, "success").body)
    assert set(first) == {
        "provider_event_id",
        "order_id",
        "user_id",
        "status",
        "created_at",
        "updated_at",
    }
    assert first["order_id"] == second["order_id"] == order.order_id
    assert first["user_id"] == second["user_id"] == order.user_id
    assert first["provider_event_id"] != second["provider_event_id"]
    assert UUID.match(first["provider_event_id"]) and UUID.match(first["order_id"])
    assert (first["status"], second["status"]) == ("created", "success")
    assert second["created_at"] == first["created_at"]
    rfc3339(first["created_at"]), rfc3339(second["updated_at"])


@pytest.mark.parametrize("contract", ["ingest", "plan"])
def test_builders_return_events_and_change_nothing(contract: str) -> None:
    """An event is its id, headers and body; building one changes nothing it was
    given (before, the first ingest event set ``order.created_at`` and the first
    plan chargeback ``order.dispute_id``), so building again gives the same
    order fields: an event can be re-delivered or reordered without the builder."""
    c = ScenarioEvents(contract)
    order = c.new_order()
    before = copy.deepcopy(order)
    events = [
        c.order_event(order, "created"),
        c.chargeback_event(order, "opened", None),
        c.chargeback_event(order, "closed", "won"),
        c.order_event(order, "success"),
    ]
    assert order == before
    with pytest.raises(dataclasses.FrozenInstanceError):
        order.vars = {}  # type: ignore[misc]
    id_field = "provider_event_id" if c.name == "ingest" else "event_id"
    for ev in events:
        assert isinstance(ev, Event) and UUID.match(ev.event_id)
        assert orjson.loads(ev.body)[id_field] == ev.event_id
        assert ev.headers == (("X-Correlation-ID", ev.event_id),)
    assert len({ev.event_id for ev in events}) == 4
    again = orjson.loads(c.chargeback_event(order, "opened", None).body)
    first = orjson.loads(events[1].body)
    same = "order_id" if c.name == "ingest" else "chargeback_id"
    assert again[same] == first[same] and again[id_field] != first[id_field]
    if c.name == "ingest":
        created = orjson.loads(events[0].body)["created_at"]
        assert created == order.created_at == orjson.loads(events[3].body)["created_at"]


def test_ingest_chargeback_payload_fields() -> None:
    c = ScenarioEvents()
    order = c.new_order()
    opened = orjson.loads(c.chargeback_event(order, "opened", None).body)
    updated = orjson.loads(c.chargeback_event(order, "updated", None).body)
    closed = orjson.loads(c.chargeback_event(order, "closed", "won").body)
    assert set(opened) == {
        "provider_event_id",
        "order_id",
        "user_id",
        "status",
        "reason",
        "amount",
        "currency",
        "occurred_at",
        "evidence_due_at",
    }
    assert (opened["reason"], opened["amount"], opened["currency"]) == ("fraudulent", 99.99, "USD")
    occurred = rfc3339(opened["occurred_at"])
    assert rfc3339(opened["evidence_due_at"]) - occurred == timedelta(days=14)
    assert rfc3339(updated["evidence_due_at"]) - rfc3339(updated["occurred_at"]) == timedelta(
        days=7
    )
    assert "evidence_due_at" not in closed and closed["meta"] == {"resolution": "won"}
    assert "meta" not in opened
    assert (
        len(
            {opened["provider_event_id"], updated["provider_event_id"], closed["provider_event_id"]}
        )
        == 3
    )


def test_plan_payload_fields() -> None:
    c = ScenarioEvents("plan")
    order = c.new_order()
    o = orjson.loads(c.order_event(order, "created").body)
    assert set(o) == {
        "provider_order_id",
        "status",
        "user_id",
        "amount",
        "currency",
        "occurred_at",
        "event_id",
    }
    assert o["provider_order_id"] == order.order_id
    cb1 = orjson.loads(c.chargeback_event(order, "opened", None).body)
    cb2 = orjson.loads(c.chargeback_event(order, "closed", "lost").body)
    assert set(cb1) == {
        "chargeback_id",
        "provider_order_id",
        "status",
        "reason",
        "amount",
        "currency",
        "occurred_at",
        "event_id",
    }
    assert cb1["chargeback_id"] == cb2["chargeback_id"]
    assert cb2["meta"] == {"resolution": "lost"}


@pytest.mark.parametrize("contract", ["ingest", "plan"])
def test_target_accepts_a_full_lifecycle_and_enforces_rules(contract: str) -> None:
    c = ScenarioEvents(contract)
    name = c.name
    store = Store()
    order = c.new_order()

    def order_ev(status: str) -> None:
        store.apply_order(parse_order(orjson.loads(c.order_event(order, status).body), name))

    def cb_ev(status: str, res: str | None = None) -> None:
        store.apply_chargeback(
            parse_chargeback(orjson.loads(c.chargeback_event(order, status, res).body), name)
        )

    def code(fn: object, *args: str) -> int:
        with pytest.raises(Reject) as err:
            fn(*args)  # type: ignore[operator]
        return err.value.code

    assert code(cb_ev, "opened") == 404  # no order yet
    assert code(order_ev, "updated") == 404  # unknown order
    order_ev("created")
    assert code(order_ev, "created") == 409  # already exists
    order_ev("updated")
    order_ev("updated")
    assert code(cb_ev, "updated") == 404  # no open dispute
    order_ev("success")
    assert code(order_ev, "failed") == 422  # terminal
    assert code(order_ev, "shipped") == 422  # unknown status
    cb_ev("opened")
    assert store.orders[order.order_id].on_hold
    assert code(cb_ev, "opened") == 409
    cb_ev("updated")
    assert code(cb_ev, "closed", "maybe") == 422
    cb_ev("closed", "lost")
    assert not store.orders[order.order_id].on_hold
    assert code(cb_ev, "updated") == 422  # after closed
    assert store.disputes[order.order_id].status == "lost"
    assert dict(store.orders_by_status) == {"created": 0, "updated": 0, "success": 1}


def test_idempotency_on_event_id() -> None:
    c = ScenarioEvents()
    store = Store()
    body = orjson.loads(c.order_event(c.new_order(), "created").body)
    store.apply_order(parse_order(body, "ingest"))
    with pytest.raises(Reject) as err:
        store.apply_order(parse_order(body, "ingest"))
    assert err.value.code == 409


@pytest.mark.parametrize(
    "mutate",
    [
        lambda b: b.pop("order_id"),
        lambda b: b.update(order_id="not-a-uuid"),
        lambda b: b.update(created_at="yesterday"),
        lambda b: b.update(status=5),
    ],
)
def test_unbindable_bodies_are_400(mutate: object) -> None:
    body = orjson.loads(ScenarioEvents().order_event(any_order(), "created").body)
    mutate(body)  # type: ignore[operator]
    with pytest.raises(Reject) as err:
        parse_order(body, "ingest")
    assert err.value.code == 400
    with pytest.raises(Reject):
        parse_order([1, 2], "ingest")
