"""Issue 19: the latency of accepted answers apart from the errors' (k6's
expected_response:true), so a service that fails slowly does not hide its
accepted webhooks' latency in p95/p99, nor they its slow failures."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from engine.domain.shape import INGEST_SHAPE
from engine.metrics.histogram import bucket_index
from engine.metrics.stats import Snapshot, Stats
from tests.helpers import get_json, target_process

ORDER_EP = INGEST_SHAPE.endpoint_index("orders")  # by the scenario's endpoint name


def test_the_accepted_view_leaves_out_the_errors_latencies() -> None:
    st = Stats()
    for us in (100, 200, 300):
        st.record_response(ORDER_EP, 202, us)
    st.record_response(ORDER_EP, 500, 300_000)
    st.record_response(ORDER_EP, 500, 200, b"", False)  # an error in an accepted bucket
    total = st.take(1.0) + st.take(2.0) + Snapshot()
    acc = total.accepted
    assert sum(acc.latency.values()) == total.success == 3
    assert acc.latency == {bucket_index(us): 1 for us in (100, 200, 300)}
    # the slowest answer was an error: the max is its bucket's edge (within 0.4 %)
    assert acc.latency_sum_us == 600 and acc.max_s == pytest.approx(300e-6, rel=0.004)
    assert total.max_s == 0.3 and total.percentiles_s(99)[99] == pytest.approx(0.3, rel=0.01)
    assert acc.percentiles_s(99)[99] == pytest.approx(300e-6, rel=0.004)
    # no error timed: the same snapshot
    ok = Stats()
    ok.record_response(ORDER_EP, 202, 5)
    snap = ok.take(1.0)
    assert snap.accepted is snap


def test_slow_500s_to_replays_stay_out_of_the_accepted_latency(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The replay target answers replays 500 after 250 ms (as the public ingest
    does after its three API attempts), every first delivery at once."""
    monkeypatch.setenv("WEBHOOKLOAD_TEST_REPLAY_ANSWER", "500")
    out = tmp_path / "s.json"
    with target_process("--error-delay", "250ms", module="tests.replay_answer_target") as url:
        res = subprocess.run(
            [
                *(sys.executable, "-m", "tui.cli", "--no-ui", "--target", url, "--seed", "3"),
                *("--duration", "2s", "--vus", "4", "--think", "0", "--json", str(out)),
                *("--duplicate-rate", "0.3"),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
        stats = get_json(url + "/stats")
    doc = orjson.loads(out.read_bytes())
    req, d = doc["requests"], doc["delivery"]
    # the target's 500s are the replays the tool counted as errors
    got_500 = sum(c.get("500", 0) for c in stats["received"].values())
    assert 0 <= got_500 - req["errors"] <= doc["cancelled_at_deadline"]
    assert req["errors"] == d["duplicates_5xx"] > 0, d
    assert req["errors"] / req["total"] > 0.01  # enough to move p99
    everything, accepted = doc["latency_ms"], doc["latency_accepted_ms"]
    assert everything["p99"] >= 250 and everything["max"] >= 250
    assert accepted["max"] < 250 and accepted["p99"] < 100, accepted
    line = next(x for x in res.stdout.splitlines() if x.startswith("Accepted:"))
    assert re.search(r"p99=\d+(\.\d+)?(µs|ms)", line) and "not errors" in line, line


def test_the_report_shows_the_accepted_latency_when_errors_were_timed() -> None:
    from engine.outputs.html_report import render
    from engine.outputs.summary import summary_json

    st = Stats()
    for _ in range(97):
        st.record_response(ORDER_EP, 202, 1_000)
    for _ in range(3):
        st.record_response(ORDER_EP, 500, 300_000)
    doc = summary_json(st.take(1.0), 1.0, {})
    assert doc["latency_ms"]["p99"] == pytest.approx(300, rel=0.01)
    assert doc["latency_accepted_ms"]["p99"] == pytest.approx(1.0, rel=0.004)
    page = render(doc, []).split("</script></head>", 1)[1]
    assert "<span>accepted p99</span><b>1.00ms</b>" in page, page[:3000]
    assert "<span>p99</span><b>300ms</b>" in page
    clean = Stats()
    clean.record_response(ORDER_EP, 202, 1_000)
    page = render(summary_json(clean.take(1.0), 1.0, {}), []).split("</script></head>", 1)[1]
    assert "accepted p99" not in page  # the same numbers as the headline: not shown twice
