"""``--profile strict|public``: every row of CONTRACT.md's edge-case table, both
columns (public as measured, issue 19; its bodies: test_public_measured.py),
against the reference target as a process; the read API's shapes; the
correlation id; and what ``/stats`` counts for a load test's accounting."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest

from engine.domain.statuses import DisputeStatus as D
from engine.domain.statuses import OrderStatus as O
from engine.domain.statuses import Verdict, judge_dispute_event, judge_order_event
from target.server import IngestService, TargetConfig
from tests.events import ScenarioEvents
from tests.helpers import get_json, post, target_process
from tests.target_http import send

UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def test_domain_verdicts() -> None:
    assert judge_order_event(None, O.CREATED) is Verdict.APPLY
    assert judge_order_event(None, O.UPDATED) is Verdict.NOT_FOUND
    assert judge_order_event(O.UPDATED, O.CREATED) is Verdict.ALREADY_EXISTS
    assert judge_order_event(O.SUCCESS, O.FAILED) is Verdict.INVALID
    assert judge_order_event(O.UPDATED, O.UPDATED) is Verdict.APPLY
    assert judge_dispute_event(None, D.OPENED) is Verdict.APPLY
    assert judge_dispute_event(None, D.CLOSED) is Verdict.NOT_FOUND
    assert judge_dispute_event(D.CLOSED, D.OPENED) is Verdict.ALREADY_EXISTS
    assert judge_dispute_event(D.CLOSED, D.UPDATED) is Verdict.INVALID
    assert judge_dispute_event(D.UPDATED, D.CLOSED) is Verdict.APPLY


class Driver:
    """One fresh order on one target, and the webhooks a test sends for it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.contract = ScenarioEvents()
        self.order = self.contract.new_order()

    def order_body(self, status: str) -> dict[str, Any]:
        body: dict[str, Any] = orjson.loads(self.contract.order_event(self.order, status).body)
        return body

    def cb_body(self, status: str, resolution: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = orjson.loads(
            self.contract.chargeback_event(self.order, status, resolution).body
        )
        return body

    def post_order(self, body: dict[str, Any] | bytes) -> int:
        raw = body if isinstance(body, bytes) else orjson.dumps(body)
        return post(self.url + "/webhooks/payments/orders", raw)[0]

    def post_cb(self, body: dict[str, Any]) -> int:
        return post(self.url + "/webhooks/payments/chargebacks", orjson.dumps(body))[0]

    def step(self, status: str) -> None:
        assert self.post_order(self.order_body(status)) == 202

    def cb_step(self, status: str, resolution: str | None = None) -> None:
        assert self.post_cb(self.cb_body(status, resolution)) == 202

    def paid(self) -> Driver:
        self.step("created")
        self.step("success")
        return self

    def replay(self, body: dict[str, Any], *, chargeback: bool = False) -> int:
        """Deliver ``body`` (accepted), then the very same event again."""
        send_ = self.post_cb if chargeback else self.post_order
        assert send_(body) == 202
        return send_(body)

    def created_with(self, **fields: Any) -> int:
        return self.post_order({**self.order_body("created"), **fields})

    def created_without(self, key: str) -> int:
        return self.post_order(_without(self.order_body("created"), key))

    def opened_without(self, key: str) -> int:
        return self.post_cb(_without(self.cb_body("opened"), key))


def _without(body: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != key}


def replay_order_event(d: Driver) -> int:
    d.step("created")
    return d.replay(d.order_body("updated"))


def replay_on_terminal_order(d: Driver) -> int:
    d.step("created")
    return d.replay(d.order_body("success"))


def second_created(d: Driver) -> int:
    d.step("created")
    return d.post_order(d.order_body("created"))


def chargeback_unknown_order(d: Driver) -> int:
    return d.post_cb(d.cb_body("opened"))


def updated_no_dispute(d: Driver) -> int:
    return d.paid().post_cb(d.cb_body("updated"))


def closed_no_dispute(d: Driver) -> int:
    return d.paid().post_cb(d.cb_body("closed", "won"))


def second_opened(d: Driver) -> int:
    d.paid().cb_step("opened")
    return d.post_cb(d.cb_body("opened"))


def _opened(d: Driver) -> Driver:
    d.paid().cb_step("opened")
    return d


def _closed(d: Driver) -> Driver:
    _opened(d).cb_step("closed", "won")
    return d


def second_status(d: Driver, status: str) -> int:
    d.step("created")
    return d.post_order(d.order_body(status))


def updated_after_closed(d: Driver) -> int:
    return _closed(d).post_cb(d.cb_body("updated"))


def opened_after_closed(d: Driver) -> int:
    return _closed(d).post_cb(d.cb_body("opened"))


def replay_chargeback(d: Driver) -> int:
    return d.paid().replay(d.cb_body("opened"), chargeback=True)


def full_lifecycle(d: Driver) -> int:
    d.paid().cb_step("opened")
    d.cb_step("updated")
    return d.post_cb(d.cb_body("closed", "lost"))


Case = Callable[[Driver], int]

ROWS: list[tuple[str, Case, int, int]] = [
    # (case, what its last webhook gets from: the public service, a strict receiver)
    # measured (issue 19): a replay the lifecycle would apply rolls back, 500
    ("replay of an order event", replay_order_event, 500, 409),
    ("replay on a terminal order", replay_on_terminal_order, 422, 409),
    ("second created", second_created, 500, 409),
    ("chargeback on an unknown order", chargeback_unknown_order, 500, 404),
    ("updated with no dispute", updated_no_dispute, 500, 404),
    ("closed with no dispute", closed_no_dispute, 500, 404),
    ("second opened", second_opened, 202, 409),
    ("updated after closed", updated_after_closed, 202, 422),
    ("opened after closed", opened_after_closed, 202, 409),
    ("replay of a chargeback", replay_chargeback, 500, 409),
    ("missing order_id", lambda d: d.created_without("order_id"), 500, 400),
    ("missing user_id", lambda d: d.created_without("user_id"), 500, 400),
    ("missing created_at", lambda d: d.created_without("created_at"), 202, 400),
    ("missing event id", lambda d: d.created_without("provider_event_id"), 202, 400),
    ("chargeback missing order_id", lambda d: d.paid().opened_without("order_id"), 500, 400),
    ("chargeback missing occurred_at", lambda d: d.paid().opened_without("occurred_at"), 202, 400),
    ("time without offset", lambda d: d.created_with(created_at="2026-01-02T03:04:05"), 400, 202),
    ("date only", lambda d: d.created_with(created_at="2026-01-02"), 400, 202),
    ("time with a space", lambda d: d.created_with(created_at="2026-01-02 03:04:05Z"), 400, 202),
    ("closed without a resolution", lambda d: _opened(d).post_cb(d.cb_body("closed")), 202, 422),
    ("unknown chargeback status", lambda d: _opened(d).post_cb(d.cb_body("lost")), 500, 422),
    ("unknown status, unknown order", lambda d: d.post_order(d.order_body("shipped")), 404, 422),
    (
        "reason of the wrong type",
        lambda d: d.paid().post_cb({**d.cb_body("opened"), "reason": 1}),
        400,
        202,
    ),
    # where both agree
    ("unknown status, known order", lambda d: second_status(d, "shipped"), 422, 422),
    ("not a time at all", lambda d: d.created_with(created_at="yesterday"), 400, 400),
    ("status of the wrong type", lambda d: d.created_with(status=5), 400, 400),
    ("not JSON", lambda d: d.post_order(b"{not json"), 400, 400),
    ("a full lifecycle", full_lifecycle, 202, 202),
]


@pytest.fixture(scope="module")
def targets() -> Iterator[dict[str, str]]:
    """Both profiles, each in its own process (the public one without its 500 delay)."""
    with (
        target_process("--profile", "public", "--error-delay", "0") as public,
        target_process("--profile", "strict") as strict,
    ):
        yield {"public": public, "strict": strict}


@pytest.mark.parametrize(("case", "fn", "public", "strict"), ROWS, ids=[r[0] for r in ROWS])
def test_edge_case_table(
    targets: dict[str, str], case: str, fn: Case, public: int, strict: int
) -> None:
    assert (fn(Driver(targets["public"])), fn(Driver(targets["strict"]))) == (public, strict)


def _dispute(url: str, order_id: str, shape: str) -> dict[str, Any]:
    listing = get_json(url + "/disputes")
    items = listing if shape == "public" else listing["disputes"]
    found: list[dict[str, Any]] = [x for x in items if x["order_id"] == order_id]
    assert len(found) == 1
    return found[0]


def test_public_state_after_edge_cases(targets: dict[str, str]) -> None:
    url = targets["public"]
    d = Driver(url).paid()
    d.cb_step("opened")
    d.cb_step("closed", "won")
    d.cb_step("closed", "lost")  # overwrites
    assert _dispute(url, d.order.order_id, "public")["status"] == "lost"
    d.cb_step("updated")  # no state check, and `updated` never moves the status
    assert _dispute(url, d.order.order_id, "public")["status"] == "lost"
    d.cb_step("opened")  # reopens
    dispute = _dispute(url, d.order.order_id, "public")
    assert dispute["status"] == "open" and "closed_at" in dispute
    assert {"dispute_id", "reason", "amount", "currency", "opened_at"} <= set(dispute)
    assert (dispute["reason"], dispute["amount"], dispute["currency"]) == (
        "fraudulent",
        99.99,
        "USD",
    )
    # a replayed order event is refused 500 (measured), and the order keeps its status
    e = Driver(url)
    e.step("created")
    assert e.replay(e.order_body("updated")) == 500
    assert get_json(f"{url}/orders/{e.order.order_id}")["status"] == "updated"
    # the strict receiver kept the first resolution
    s = Driver(targets["strict"]).paid()
    s.cb_step("opened")
    s.cb_step("closed", "won")
    assert s.post_cb(s.cb_body("closed", "lost")) == 422
    assert _dispute(targets["strict"], s.order.order_id, "strict")["status"] == "won"


def test_public_read_shapes(targets: dict[str, str]) -> None:
    url = targets["public"]
    d = Driver(url)
    bodies = [d.order_body("created"), d.order_body("updated"), d.order_body("updated")]
    for body in bodies:
        assert d.post_order(body) == 202
    assert d.post_order(bodies[-1]) == 500  # a replay rolls back (measured): logged once
    Driver(url).step("created")
    orders = get_json(url + "/orders?limit=1")
    assert isinstance(orders, list) and len(orders) >= 2  # a bare array; limit ignored
    page = get_json(f"{url}/orders/events?limit=3")
    assert set(page) == {"items", "next_cursor", "has_more"}
    assert page["has_more"] is True and page["next_cursor"]
    ours = [item for item in page["items"] if item["order_id"] == d.order.order_id]
    newest_first = [b["provider_event_id"] for b in reversed(bodies)][:2]
    assert [item["provider_event_id"] for item in ours] == newest_first
    assert all(item["kind"] == "webhook_received" for item in page["items"])
    rest = get_json(f"{url}/orders/events?limit=1&cursor={page['next_cursor']}")
    assert [item["provider_event_id"] for item in rest["items"]] == [bodies[0]["provider_event_id"]]
    assert post(url + "/orders/events?limit=x", b"")[0] == 405
    assert send(url + "/orders/events?limit=x").code == 400


def test_strict_read_shapes_are_unchanged(targets: dict[str, str]) -> None:
    url = targets["strict"]
    for _ in range(2):
        Driver(url).step("created")
    assert len(get_json(url + "/orders?limit=1")["orders"]) == 1
    assert len(get_json(url + "/orders/events?limit=2")["events"]) == 2
    assert isinstance(get_json(url + "/disputes")["disputes"], list)


@pytest.mark.parametrize("profile", ["public", "strict"])
def test_correlation_id_is_echoed_or_given(targets: dict[str, str], profile: str) -> None:
    url = targets[profile]
    d = Driver(url)
    mine = {"X-Correlation-ID": "load-test-run-7/event-42"}
    body = orjson.dumps(d.order_body("created"))
    for answer in (
        send(url + "/webhooks/payments/orders", body, mine),  # 202
        send(url + "/webhooks/payments/orders", b"{", mine),  # 400
        send(url + "/health/live", None, mine),
        send(url + "/no/such/path", None, mine),  # 404 from the router
    ):
        assert answer.headers["X-Correlation-ID"] == "load-test-run-7/event-42"
    given = [send(url + "/health/live").headers["X-Correlation-ID"] for _ in range(2)]
    assert all(UUID4.fullmatch(g) for g in given) and given[0] != given[1]


@pytest.mark.parametrize(
    ("profile", "orders", "chargebacks"),
    [
        ("strict", {"202": 5, "404": 1, "409": 2}, {"202": 1, "404": 2, "409": 1}),
        # measured (issue 19): both order replays and the chargeback replay are 500s
        ("public", {"202": 5, "404": 1, "500": 2}, {"202": 1, "500": 3}),
    ],
)
def test_stats_count_duplicates_and_early_events(
    profile: str, orders: dict[str, int], chargebacks: dict[str, int]
) -> None:
    with target_process("--profile", profile, "--error-delay", "0") as url:
        a, b, c = Driver(url), Driver(url), Driver(url)
        a1, a2 = a.order_body("created"), a.order_body("updated")
        for body in (a1, a1, a2, a2):  # each sent twice: two duplicates
            a.post_order(body)
        b2 = b.order_body("updated")
        assert b.post_order(b2) == 404  # early: the order is not there yet
        b.step("created")
        assert b.post_order(b2) == 202  # delivered again once it can apply: not a duplicate
        c.post_cb(c.cb_body("opened"))  # early: no such order
        a.step("success")
        opened = a.cb_body("opened")
        a.post_cb(opened)
        a.post_cb(opened)  # a duplicate chargeback
        b.post_cb(b.cb_body("updated"))  # early: no dispute yet
        stats = get_json(url + "/stats")
    assert stats["profile"] == profile and stats["signing"] == "off"
    assert stats["received"] == {"orders": orders, "chargebacks": chargebacks}
    assert stats["duplicates"] == {"orders": 2, "chargebacks": 1}
    assert stats["early"] == {"orders": 1, "chargebacks": 2}


def test_public_profile_answers_500_after_the_ingest_retries() -> None:
    """The public ingest retries its API 3 times (100 ms, 200 ms) before a 500."""
    assert IngestService(TargetConfig(profile="public")).error_delay == 0.3
    assert IngestService(TargetConfig(profile="public", error_delay=0.0)).error_delay == 0.0
    assert IngestService(TargetConfig()).error_delay == 0.0
