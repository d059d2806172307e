"""Every sink names what it shows by the run's Shape: a scenario with its own
webhooks and flows (not ingest's orders/disputes) gets its own words."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from prometheus_client import CollectorRegistry, generate_latest

from engine.config import ConfigError, build_config
from engine.domain.outcomes import LEGACY_KEYS, FlowKeys
from engine.domain.shape import INGEST_SHAPE, FlowShape, Shape
from engine.domain.thresholds import ThresholdSyntaxError, parse_spec
from engine.metrics.stats import Snapshot, Stats
from engine.outputs.docparts import endpoint_lines, endpoints_json
from engine.outputs.html_report import render
from engine.outputs.prometheus import LiveMetrics
from engine.outputs.summary import flow_lines, summary_json, summary_lines
from engine.outputs.thresholds import evaluate, parse_thresholds
from engine.outputs.timeline import COLUMNS, TimelineWriter, columns, read_timeline

INTENT = FlowShape(
    "payment_intent",
    "Payment intents",
    ("created", "processing", "succeeded", "payment_failed"),
    ("succeeded", "payment_failed"),
)
DISPUTE = FlowShape("dispute", "Disputes", ("created", "closed"), ("closed",))
STRIPE = Shape("stripe", ("stripe", "reads"), (INTENT, DISPUTE))


def stripe_run() -> Snapshot:
    st = Stats(endpoints=STRIPE.endpoints)
    keys = FlowKeys.for_flow(INTENT)
    for i in range(10):
        st.record_response(0, 200 if i < 9 else 500, 1000 + 100 * i)
        st.scenario(keys.started)
    for _ in range(7):
        st.scenario(keys.ended["succeeded"])
    st.scenario(keys.ended["payment_failed"])
    st.scenario(keys.aborted)
    st.scenario(keys.unfinished)
    st.scenario(keys.visited["processing"])
    st.record_response(1, 200, 500)
    return st.take(2.0)


def test_the_text_summary_speaks_the_scenarios_words() -> None:
    total = stripe_run()
    block = summary_lines(total, 2.0, STRIPE)
    assert "  Stripe:    10" in block and "  Reads:     1" in block
    assert not any("Orders" in line or "Disputes:" in line for line in block)
    assert flow_lines(total, STRIPE) == [
        "Payment intents: started=10  processing=1  succeeded=7  payment_failed=1"
        "  aborted=1  unfinished=1",
        "Disputes: started=0  closed=0  aborted=0  unfinished=0",
    ]
    lines = endpoint_lines(total, 2.0, STRIPE)
    assert [line.split()[0] for line in lines[1:]] == ["stripe", "reads"]


def test_the_json_has_the_shape_flows_and_endpoints_by_name() -> None:
    total = stripe_run()
    doc = orjson.loads(orjson.dumps(summary_json(total, 2.0, {}, shape=STRIPE)))
    assert doc["requests"]["stripe"] == 10 and doc["requests"]["reads"] == 1
    assert "orders" not in doc["requests"] and "disputes" not in doc["requests"]
    assert Shape.from_json(doc["shape"]) == STRIPE
    intent = doc["flows"]["payment_intent"]
    assert intent["started"] == 10 and intent["ended"] == {"succeeded": 7, "payment_failed": 1}
    assert doc["scenarios"]["payment_intent.ended.succeeded"] == 7
    assert list(endpoints_json(total, 2.0, STRIPE)) == ["stripe", "reads"]


def test_thresholds_take_the_scenarios_endpoints_with_a_did_you_mean() -> None:
    assert parse_spec("p99{endpoint=stripe}<1s", STRIPE).endpoint == "stripe"
    with pytest.raises(ThresholdSyntaxError) as err:
        parse_spec("p99{endpoint=strpe}<1s", STRIPE)
    assert err.value.expected == "{endpoint=stripe} or {endpoint=reads} (did you mean 'stripe'?)"
    with pytest.raises(ThresholdSyntaxError, match="did you mean 'chargebacks'"):
        parse_spec("p99{endpoint=chargeback}<1s", INGEST_SHAPE)
    assert parse_spec("p99{endpoint=anything}<1s", None).endpoint == "anything"
    total = stripe_run()
    (result,) = evaluate(parse_thresholds(["errors{endpoint=stripe}<5%"], STRIPE), total)
    assert result.measured == pytest.approx(10.0) and not result.passed


def test_build_config_checks_threshold_endpoints_by_the_runs_shape() -> None:
    with pytest.raises(ConfigError) as err:
        build_config({"thresholds": ["p99{endpoint=chargebak}<1s"]})
    assert str(err.value) == (
        "--threshold must be {endpoint=orders}, {endpoint=chargebacks} or {endpoint=reads}"
        " (did you mean 'chargebacks'?), got 'p99{endpoint=chargebak}<1s'"
    )
    cfg = build_config({"thresholds": ["p99{endpoint=CHARGEBACKS}<1s"]})
    assert cfg.thresholds == ("p99{endpoint=CHARGEBACKS}<1s",)


def test_prometheus_labels_are_the_scenarios_endpoints_and_outcomes() -> None:
    metrics = LiveMetrics(shape=STRIPE)
    metrics.on_snapshot(stripe_run())
    registry = CollectorRegistry()
    registry.register(metrics)
    text = generate_latest(registry).decode()
    assert 'webhookload_requests_total{code="200",endpoint="stripe"} 9.0' in text
    assert 'endpoint="orders"' not in text
    assert 'webhookload_scenarios_total{outcome="payment_intent.ended.succeeded"} 7.0' in text


def test_the_timeline_has_a_column_per_endpoint(tmp_path: Path) -> None:
    assert columns(INGEST_SHAPE.endpoints) == COLUMNS
    path = tmp_path / "t.csv"
    with TimelineWriter(path, shape=STRIPE) as tl:
        tl.on_snapshot(stripe_run())
    header = path.read_text().splitlines()[0].split(",")
    assert header == list(columns(STRIPE.endpoints))
    assert "stripe_p99_ms" in header and "orders" not in header
    (row,) = read_timeline(path)[-1:]
    assert row["stripe"] == 10 and row["stripe_errors"] == 1


def test_the_report_names_endpoints_from_the_json() -> None:
    total = stripe_run()
    doc = summary_json(total, 2.0, {}, shape=STRIPE)
    doc["endpoints"] = endpoints_json(total, 2.0, STRIPE)
    page = render(json.loads(json.dumps(doc)), [])
    assert "<td>stripe</td>" in page and "disputes (chargebacks)" not in page
    assert "payment_intent.ended.succeeded" in page


def test_an_orders_failed_is_named_as_its_payments_outcome() -> None:
    """Issue 18, papercut 7: ``failed=`` beside ``Errors: 0`` read as errors."""
    st = Stats()
    for key, n in (("orders_started", 3), ("orders_success", 2), ("orders_failed", 1)):
        for _ in range(n):
            st.scenario(LEGACY_KEYS[key])
    total = st.take(1.0)
    assert flow_lines(total)[0] == (
        "Orders:   started=3  payment_success=2  payment_failed=1  aborted=0  unfinished=0"
    )
    doc = summary_json(total, 1.0, {})
    assert doc["flows"]["order"]["ended"] == {"payment_success": 2, "payment_failed": 1}
    assert doc["scenarios"]["orders_failed"] == 1  # the older key stays for scripts
