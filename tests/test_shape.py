"""engine/domain/shape.py: a scenario as downstream sees it, through pickle and JSON."""

from __future__ import annotations

import pickle

import orjson
import pytest

from engine.domain.shape import INGEST_SHAPE, PLAN_SHAPE, FlowShape, Shape, shape_for_contract


def test_ingest_shape_is_todays_orders_and_disputes() -> None:
    assert INGEST_SHAPE.endpoints == ("orders", "disputes", "reads")
    assert INGEST_SHAPE.endpoint_name("chargebacks") == "disputes"
    assert INGEST_SHAPE.endpoint_name("Orders") == "orders"
    assert [f.name for f in INGEST_SHAPE.flows] == ["order", "dispute"]
    assert INGEST_SHAPE.flow("order").terminals == ("success", "failed")
    assert INGEST_SHAPE.flow("dispute").terminals == ("won", "lost")
    assert shape_for_contract("plan") is PLAN_SHAPE
    assert PLAN_SHAPE.endpoints == INGEST_SHAPE.endpoints


def test_an_orders_failed_reads_as_its_payments_outcome() -> None:
    order = INGEST_SHAPE.flow("order")
    assert order.outcome_label("failed") == "payment_failed"
    assert order.outcome_label("success") == "payment_success"


def test_counters_may_be_renamed_for_display() -> None:
    dispute = INGEST_SHAPE.flow("dispute")
    assert dispute.outcome_label("started") == "opened"
    assert dispute.outcome_label("won") == "won"


@pytest.mark.parametrize("shape", [INGEST_SHAPE, PLAN_SHAPE])
def test_a_shape_survives_pickle_and_json(shape: Shape) -> None:
    assert pickle.loads(pickle.dumps(shape)) == shape
    again = Shape.from_json(orjson.loads(orjson.dumps(shape.as_json())))
    assert again == shape
    assert again.flow("dispute").outcome_label("started") == "opened"
    assert again.flow("order").outcome_label("failed") == "payment_failed"


def test_a_flow_without_labels_shows_its_terminals() -> None:
    flow = FlowShape("payment_intent", "Payment intents", ("created", "succeeded"), ("succeeded",))
    assert flow.outcome_label("succeeded") == "succeeded"
    assert pickle.loads(pickle.dumps(flow)) == flow
    assert hash(flow) == hash(pickle.loads(pickle.dumps(flow)))


def test_an_unknown_name_gets_a_did_you_mean() -> None:
    assert INGEST_SHAPE.endpoint_index("chargebacks") == 1
    with pytest.raises(
        ValueError, match=r"unknown endpoint 'chargeback' \(did you mean 'chargebacks'\?\)"
    ):
        INGEST_SHAPE.endpoint_index("chargeback")
    with pytest.raises(ValueError, match=r"unknown flow 'zzz' \(one of order, dispute\)"):
        INGEST_SHAPE.flow("zzz")
