"""Flow counters (engine/domain/outcomes.py): keys named by the scenario's own
flows and states, and ingest's older names derived from them."""

from __future__ import annotations

from engine.domain.outcomes import (
    LEGACY_KEYS,
    FlowKeys,
    ScenarioKey,
    flow_aborted,
    flow_counts,
    flow_ended,
    flow_started,
    flow_unfinished,
    flow_visited,
    has_legacy_names,
    scenario_counts,
)
from engine.domain.shape import INGEST_SHAPE, PLAN_SHAPE, FlowShape, Shape

INTENT = FlowShape(
    "payment_intent",
    "Payment intents",
    ("created", "processing", "succeeded", "payment_failed"),
    ("succeeded", "payment_failed"),
)
STRIPE_LIKE = Shape("stripe", ("stripe", "reads"), (INTENT,))


def test_the_keys_are_the_flows_and_states_names() -> None:
    assert flow_started("order") == "order.started"
    assert flow_aborted("order") == "order.aborted"
    assert flow_unfinished("order") == "order.unfinished"
    assert flow_ended("dispute", "won") == "dispute.ended.won"
    assert flow_visited("dispute", "updated") == "dispute.visited.updated"
    keys = FlowKeys.for_flow(INTENT)
    assert keys.started == "payment_intent.started"
    assert dict(keys.ended) == {
        "succeeded": "payment_intent.ended.succeeded",
        "payment_failed": "payment_intent.ended.payment_failed",
    }
    assert keys.visited["processing"] == "payment_intent.visited.processing"
    assert all(type(k) is str for k in (keys.started, *keys.ended.values()))


def test_ingests_older_names_are_flow_counters() -> None:
    assert tuple(LEGACY_KEYS) == tuple(k.value for k in ScenarioKey)
    assert LEGACY_KEYS["orders_failed"] == "order.ended.failed"
    assert LEGACY_KEYS["disputes_opened"] == "dispute.started"
    assert LEGACY_KEYS["disputes_updated"] == "dispute.visited.updated"
    assert has_legacy_names(INGEST_SHAPE) and has_legacy_names(PLAN_SHAPE)
    assert not has_legacy_names(STRIPE_LIKE)
    counters = {"order.started": 3, "order.ended.success": 2, "order.aborted": 1}
    named = scenario_counts(INGEST_SHAPE, counters)
    assert list(named) == [k.value for k in ScenarioKey]
    assert (named["orders_started"], named["orders_success"], named["orders_aborted"]) == (3, 2, 1)
    assert named["disputes_won"] == 0


def test_another_scenario_is_counted_by_its_own_names() -> None:
    counters = {
        "payment_intent.started": 5,
        "payment_intent.ended.succeeded": 3,
        "payment_intent.ended.payment_failed": 1,
        "payment_intent.unfinished": 1,
        "payment_intent.visited.processing": 2,
    }
    assert scenario_counts(STRIPE_LIKE, counters) == {
        "payment_intent.started": 5,
        "payment_intent.ended.succeeded": 3,
        "payment_intent.ended.payment_failed": 1,
        "payment_intent.aborted": 0,
        "payment_intent.unfinished": 1,
        "payment_intent.visited.processing": 2,
    }
    c = flow_counts(INTENT, counters)
    assert c == {
        "label": "Payment intents",
        "started": 5,
        "ended": {"succeeded": 3, "payment_failed": 1},
        "aborted": 0,
        "unfinished": 1,
        "visited": {"processing": 2},
    }
    assert c["started"] == sum(c["ended"].values()) + c["aborted"] + c["unfinished"]
