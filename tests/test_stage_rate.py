"""With --stages, the arrivals' ``rate`` is the stages' mean rate over the run:
what ``achieved_rate`` is compared with (``--rate`` alone is only the ramp's start)."""

from __future__ import annotations

import dataclasses

from engine.config import build_config
from engine.domain.stages import mean_rate, parse_stages
from engine.metrics.stats import Snapshot
from engine.outputs.summary import arrival_lines, arrivals_json
from engine.run.runner import RunResult


def test_mean_rate_is_the_integral_over_the_duration() -> None:
    assert mean_rate(parse_stages("2s:200,2s:0"), 100) == (300 + 200) / 4
    assert mean_rate(parse_stages("1s:10"), 10) == 10
    assert mean_rate(parse_stages("3s:6"), 0) == 3


def test_staged_arrivals_report_the_mean_rate_achieved_against_it() -> None:
    cfg = build_config({"rate": "100", "stages": "2s:200,2s:0", "think": "0"})
    total = dataclasses.replace(Snapshot(), arrivals=500)
    result = RunResult(cfg, "http://127.0.0.1:1", total, 4.0, False)
    doc = arrivals_json(result)
    assert doc is not None and doc["rate"] == 125.0 and doc["achieved_rate"] == 125.0
    (line,) = arrival_lines(result)
    assert "rate=125/s" in line and "mean of --stages" in line
