"""The outputs follow the load model: VUs in the closed model, the arrival rate
(and its ramp) in the open one, dropped arrivals in the metrics."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from engine.config import build_config
from engine.metrics.stats import Snapshot
from engine.outputs.extras import LoadGauges


def test_gauges_follow_the_model_and_the_ramp() -> None:
    closed = LoadGauges(build_config({"vus": "7"}))
    assert (closed.vus(), closed.arrival_rate()) == (7.0, None)
    ramp = LoadGauges(build_config({"rate": "10", "stages": "2s:30"}))
    assert (ramp.vus(), ramp.arrival_rate()) == (None, 10.0)
    ramp.on_snapshot(Snapshot(start=0.75, end=1.0))
    assert ramp.arrival_rate() == 20.0  # halfway up from 10 to 30


def test_an_open_model_timeline_carries_the_arrival_rate(tmp_path: Path) -> None:
    out = tmp_path / "t.ndjson"
    res = subprocess.run(
        [
            *(sys.executable, "-m", "tui.cli", "--no-ui", "--target", "builtin"),
            *("--rate", "20", "--duration", "2s", "--timeline", str(out)),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert res.returncode == 0, res.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows and all(r["arrival_rate"] == 20.0 and r["vus"] is None for r in rows)
