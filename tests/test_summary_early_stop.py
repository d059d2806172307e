"""A run stopped right after it started: the summary's lines agree with each other."""

from __future__ import annotations

import pytest

from engine.config import build_config
from engine.metrics.health import ShardHealth
from engine.metrics.histogram import bucket_index
from engine.metrics.stats import Snapshot
from engine.outputs.html_report import render
from engine.outputs.summary import detail_lines, outcome_lines, result_json
from engine.run.runner import RunResult


def result_of(stopped: bool, lag: dict[int, int], elapsed: float = 0.002) -> RunResult:
    """Ten requests cancelled, none completed; a shard busy with its start-up."""
    span_us = round(elapsed * 1e6)
    health = ShardHealth(lag, cpu_us=span_us, span_us=span_us)  # 100 % of a core
    total = Snapshot(start=0, end=elapsed, cancelled=10, health={0: health})
    config = build_config({"target": "http://127.0.0.1:1", "duration": "20s"})
    return RunResult(config, config.target, total, elapsed, stopped)


@pytest.mark.parametrize(("stopped", "when"), [(True, "when stopped"), (False, "at the deadline")])
def test_no_success_line_names_what_cancelled_the_requests(stopped: bool, when: str) -> None:
    result = result_of(stopped, {})
    lines = outcome_lines(result)
    assert lines[-1] == f"No request succeeded: 0 failed, 10 cancelled {when}"
    assert result_json(result)["cancelled_at"] == ("stop" if stopped else "deadline")


def test_a_run_without_a_loop_lag_sample_is_not_judged_saturated() -> None:
    result = result_of(True, {})
    generator = detail_lines(result.total, result.stopped)[-1]
    assert "SATURATED" not in generator and "not judged" in generator, generator
    doc = result_json(result)
    assert doc["generator_saturated"] is None  # the key stays: null = not judged
    assert "generator" in doc


def test_a_busy_run_with_lag_samples_is_still_judged() -> None:
    """The same CPU over a span that did sample its loop is saturation."""
    result = result_of(False, {bucket_index(200): 50}, elapsed=1.0)
    assert detail_lines(result.total)[-1].endswith(
        "(SATURATED: latencies include the generator's own queueing)"
    )
    assert result_json(result)["generator_saturated"] is True


def test_the_html_report_says_not_judged() -> None:
    doc = result_json(result_of(True, {}))
    assert "<span>generator</span><b>not judged</b>" in render(doc, [])
