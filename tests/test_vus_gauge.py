"""The timeline's ``vus`` column is the VUs running (whole steps), not the
ramp's fractional line (``1.875``)."""

from __future__ import annotations

import dataclasses

from engine.config import build_config
from engine.metrics.stats import Snapshot
from engine.outputs.extras import LoadGauges


def test_the_vus_gauge_shows_whole_running_vus_along_a_ramp() -> None:
    gauges = LoadGauges(build_config({"stages": "3s:4,1s:4,2s:1"}))
    seen = []
    for end in (0.5, 1.0, 2.0, 2.9, 3.5, 4.5, 5.9, 7.0):
        gauges.on_snapshot(dataclasses.replace(Snapshot(), end=end))
        seen.append(gauges.vus())
    # up: a VU starts when the line reaches it; down: it parks when the line does
    assert seen == [0, 1, 2, 3, 4, 4, 2, 1]
    assert gauges.arrival_rate() is None


def test_without_stages_the_gauge_is_the_vus() -> None:
    assert LoadGauges(build_config({"vus": "7"})).vus() == 7
