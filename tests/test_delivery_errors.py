"""Issue 19: a 5xx or no answer to a duplicate or an early event is an error,
with a sample failure; another 4xx on a duplicate is a refusal counted apart;
the Delivery line splits by answer class and says what it means. Every count
is checked against what a real loopback target received."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from engine.metrics.stats import Snapshot, Stats
from engine.outputs.delivery import delivery_lines
from tests.helpers import get_json, target_process


def _run(url: str, json_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            *(sys.executable, "-m", "tui.cli", "--no-ui", "--target", url, "--seed", "11"),
            *("--duration", "1500ms", "--vus", "2", "--think", "0", "--json", str(json_path)),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env={k: v for k, v in os.environ.items() if k != "WEBHOOKLOAD_SECRET"},
    )


def _replay_target(answer: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("WEBHOOKLOAD_TEST_REPLAY_ANSWER", answer)
    return target_process("--error-delay", "0", module="tests.replay_answer_target")


def _received(stats: dict[str, Any], code: str) -> int:
    return sum(codes.get(code, 0) for codes in stats["received"].values())


def test_a_500_on_every_replay_is_an_error_with_samples(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "s.json"
    with _replay_target("500", monkeypatch) as url:
        res = _run(
            *(url, out, "--duplicate-rate", "0.3", "--reorder-rate", "0.3"),
            *("--threshold", "errors<1%,duplicates_5xx<1,early_5xx<1"),
        )
        stats = get_json(url + "/stats")
    doc = orjson.loads(out.read_bytes())
    d, req = doc["delivery"], doc["requests"]
    cut = doc["cancelled_at_deadline"]
    assert d["duplicates_sent"] > 20, d
    # the target answered 500 to replays only: each one the tool heard is an error
    got_500 = _received(stats, "500")
    assert 0 <= got_500 - d["duplicates_5xx"] <= cut, (stats, d)
    assert d["duplicates_5xx"] == d["duplicates_sent"] == d["duplicates_failed"]
    assert d["duplicates_accepted"] == d["duplicates_rejected"] == 0
    assert req["errors"] == d["duplicates_5xx"] == doc["errors_by_kind"]["http_5xx"]
    assert req["success"] + req["errors"] == req["total"]
    assert doc["status_codes"]["500"] == d["duplicates_5xx"]
    assert sum(e["errors"] for e in doc["endpoints"].values()) == req["errors"]
    assert doc["delivery_answers"]["duplicates"] == {"500": d["duplicates_5xx"]}
    # strict: an early event is refused 404, as expected, never an error
    assert d["early_sent"] > 0 and d["early_refused"] == d["early_sent"]
    assert doc["delivery_answers"]["early"] == {"404": d["early_sent"]}
    samples = doc["sample_failures"]
    assert samples and all(s["status"] == 500 for s in samples), samples
    assert "replay refused by the test target" in samples[0]["detail"]
    assert samples[0]["correlation_id"]  # the replayed event's id
    assert res.returncode == 99, res.stdout  # the errors fail errors<1%
    verdicts = {t["threshold"]: (t["passed"], t["measured"]) for t in doc["thresholds"]}
    assert verdicts == {
        "errors<1%": (False, pytest.approx(100 * req["errors"] / req["total"], abs=0.001)),
        "duplicates_5xx<1": (False, d["duplicates_5xx"]),  # thresholds name the counts
        "early_5xx<1": (True, 0),
    }, verdicts
    text = res.stdout
    assert re.search(rf"^Errors:\s+{req['errors']} ", text, re.M), text
    assert (
        f"Redeliveries: {d['duplicates_sent']} sent, 0 handled (2xx or 409 already seen):"
        f" {d['duplicates_5xx']} answered 500 — this service does not accept a redelivered"
        " webhook" in text
    ), text
    assert f"{d['duplicates_5xx']} counted as errors (5xx or no answer)" in text
    assert "Sample failures:" in text


def test_a_422_on_every_replay_is_a_refusal_counted_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "s.json"
    with _replay_target("422", monkeypatch) as url:
        res = _run(url, out, "--duplicate-rate", "0.3")
        stats = get_json(url + "/stats")
    assert res.returncode == 0, res.stdout + res.stderr
    doc = orjson.loads(out.read_bytes())
    d = doc["delivery"]
    assert d["duplicates_sent"] > 20, d
    assert 0 <= _received(stats, "422") - d["duplicates_refused"] <= doc["cancelled_at_deadline"]
    assert d["duplicates_refused"] == d["duplicates_sent"] and doc["requests"]["errors"] == 0
    assert (
        f"{d['duplicates_refused']} refused with a 4xx: no error here, but a provider"
        " retries a refused webhook for days" in res.stdout
    ), res.stdout


def test_a_replay_without_an_answer_is_a_transport_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "s.json"
    with _replay_target("hang", monkeypatch) as url:
        res = _run(url, out, "--duplicate-rate", "1", "--timeout", "200ms")
        stats = get_json(url + "/stats")
    doc = orjson.loads(out.read_bytes())
    d = doc["delivery"]
    assert d["duplicates_transport"] > 0, d
    # each hung replay the tool gave up on is a timeout error; the last ones may be cut
    assert 0 <= _received(stats, "0") - d["duplicates_transport"] <= doc["cancelled_at_deadline"]
    assert (
        doc["requests"]["errors"] == doc["errors_by_kind"]["timeout"] == d["duplicates_transport"]
    )
    assert doc["delivery_answers"]["duplicates"] == {"timeout": d["duplicates_transport"]}
    assert f"{d['duplicates_transport']} got no answer (timeout)" in res.stdout, res.stdout
    assert any(s["kind"] == "timeout" for s in doc["sample_failures"])


def test_the_public_profile_answers_early_dispute_events_500_and_those_are_errors(
    tmp_path: Path,
) -> None:
    out = tmp_path / "s.json"
    with target_process("--profile", "public", "--error-delay", "0") as url:
        res = _run(url, out, "--reorder-rate", "1", "--dispute-ratio", "1")
        stats = get_json(url + "/stats")
    doc = orjson.loads(out.read_bytes())
    d = doc["delivery"]
    assert d["early_5xx"] > 0, d
    assert d["early_sent"] == d["early_refused"] + d["early_accepted"] + d["early_failed"]
    # first deliveries all apply; the only 500s the target sent were to early events
    cut = doc["cancelled_at_deadline"]
    assert 0 <= stats["received"]["chargebacks"].get("500", 0) - d["early_5xx"] <= cut
    assert doc["requests"]["errors"] == d["early_5xx"], doc["sample_failures"]
    assert f", {d['early_5xx']} errors: {d['early_5xx']} answered 500" in res.stdout


def test_delivery_counters_are_threshold_metrics() -> None:
    from engine.domain.thresholds import COUNT_METRICS
    from engine.metrics.stats import DELIVERY_KEYS
    from engine.outputs.thresholds import parse_threshold

    assert COUNT_METRICS == DELIVERY_KEYS
    t = parse_threshold("duplicates_refused <= 0")
    assert (t.metric, t.op, t.limit, t.name) == (
        "duplicates_refused",
        "<=",
        0,
        "duplicates_refused<=0",
    )
    # no duplicate sent: nothing measured, so the gate does not pass
    nothing = t.evaluate(Snapshot(delivery={"early_sent": 3}))
    assert nothing.measured is None and not nothing.passed
    two = t.evaluate(Snapshot(delivery={"duplicates_sent": 5, "duplicates_refused": 2}))
    assert (two.measured, two.passed, two.unit, two.measured_text()) == (2, False, "count", "2")


def test_the_words_for_a_mixed_run() -> None:
    st = Stats()
    for key, n in {
        "duplicates_sent": 10,
        "duplicates_accepted": 4,
        "dup:202": 4,
        "duplicates_rejected": 2,
        "dup:409": 2,
        "duplicates_failed": 4,
        "duplicates_5xx": 3,
        "dup:503": 3,
        "duplicates_refused": 1,
        "dup:422": 1,
    }.items():
        st.delivered(key, n)
    lines = delivery_lines(st.take(1.0) + Snapshot())
    assert lines[0].startswith(
        "Delivery: duplicates=10 (2xx=4 already-seen=2 4xx=1 5xx=3 no-answer=0)"
    ), lines
    assert lines[1] == (
        "Redeliveries: 10 sent, 6 handled (2xx or 409 already seen): 3 answered 503,"
        " 1 answered 422 — some redelivered webhooks were not accepted"
    )
    assert lines[2] == "  3 counted as errors (5xx or no answer), see Sample failures"
    assert lines[3].startswith("  1 refused with a 4xx")


def test_retried_answers_say_when_the_deadline_left_retries_unsent() -> None:
    """A newcomer saw ``Retried answers: 500=136`` beside ``retries=134`` with no
    word why: a retry waiting out its backoff at the deadline is never sent."""
    from engine.metrics.stats import Snapshot
    from engine.outputs.delivery import retried_lines
    from engine.scenario.retry import RETRIED_STATUS

    cut = Snapshot(delivery={f"{RETRIED_STATUS}500": 136, "retries": 134})
    assert retried_lines(cut) == [
        "Retried answers: 500=136  (sent again by --retries; 2 not sent again, the deadline"
        " came first; not in Status codes)"
    ]
    whole = Snapshot(delivery={f"{RETRIED_STATUS}500": 134, "retries": 134})
    assert retried_lines(whole) == [
        "Retried answers: 500=134  (sent again by --retries; not in Status codes)"
    ]
