"""Error kinds and scenario keys are StrEnums whose values are the names every
report already prints: the JSON document and the text summary stay identical."""

from __future__ import annotations

import orjson

from engine.domain.outcomes import LEGACY_KEYS, ErrorKind, ScenarioKey
from engine.domain.shape import INGEST_SHAPE
from engine.metrics.stats import ERROR_KINDS, SCENARIO_KEYS, Stats
from engine.outputs.summary import detail_lines, summary_json

ORDER_EP = INGEST_SHAPE.endpoint_index("orders")  # by the scenario's endpoint name


def test_the_names_are_unchanged_and_plain() -> None:
    # issue 21 added oversized and redirect, last: the old names keep their place
    assert ERROR_KINDS == (
        "connect",
        "timeout",
        "http_4xx",
        "http_5xx",
        "other",
        "oversized",
        "redirect",
    )
    keys = "orders_started orders_success orders_failed orders_aborted orders_unfinished"
    keys += " disputes_opened disputes_updated disputes_won disputes_lost disputes_aborted"
    keys += " disputes_unfinished"
    assert keys.split() == list(SCENARIO_KEYS)
    # plain str, not members: orjson refuses a str subclass as a dict key
    assert {type(k) for k in (*ERROR_KINDS, *SCENARIO_KEYS)} == {str}
    assert str(ErrorKind.HTTP_5XX) == "http_5xx" and f"{ScenarioKey.DISPUTES_WON}" == "disputes_won"


def test_counters_keyed_by_members_report_as_before() -> None:
    st = Stats()
    # the walker counts flow keys; the JSON names them as ingest always has
    st.scenario(LEGACY_KEYS[ScenarioKey.ORDERS_STARTED])
    st.scenario(LEGACY_KEYS[ScenarioKey.ORDERS_ABORTED])
    st.record_error(ORDER_EP, ErrorKind.TIMEOUT, "no response within 1s")
    st.record_response(ORDER_EP, 503, 900)
    snap = st.take(1.0)
    doc = orjson.loads(orjson.dumps(summary_json(snap, 1.0, {})))
    assert doc["errors_by_kind"] == {
        "connect": 0,
        "timeout": 1,
        "http_4xx": 0,
        "http_5xx": 1,
        "other": 0,
        "oversized": 0,
        "redirect": 0,
    }
    assert doc["scenarios"]["orders_aborted"] == 1
    assert [f["kind"] for f in doc["sample_failures"]] == ["timeout", "http_5xx"]
    assert "timeout=1  http_5xx=1" in "\n".join(detail_lines(snap))
