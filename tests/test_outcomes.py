"""Scenario outcomes add up exactly, however the run ends: what was begun and
cut off by the deadline or a stop counts as ``unfinished``."""

from __future__ import annotations

from collections.abc import Mapping

import anyio
import pytest

from engine.config import build_config
from engine.domain.outcomes import flow_counts
from engine.domain.shape import INGEST_SHAPE
from engine.outputs.summary import detail_lines, outcome_lines, result_json
from engine.run.runner import Runner
from tests.helpers import legacy, target_process

pytestmark = pytest.mark.anyio


def assert_flows_add_up(counters: Mapping[str, int]) -> None:
    """Per flow of the scenario, by its own keys: started = ended + aborted + unfinished."""
    for flow in INGEST_SHAPE.flows:
        c = flow_counts(flow, counters)
        assert c["started"] == sum(c["ended"].values()) + c["aborted"] + c["unfinished"], c


def assert_partitions(sc: Mapping[str, int]) -> None:
    orders = ("orders_success", "orders_failed", "orders_aborted", "orders_unfinished")
    assert sc["orders_started"] == sum(sc.get(k, 0) for k in orders), dict(sc)
    disputes = ("disputes_won", "disputes_lost", "disputes_aborted", "disputes_unfinished")
    assert sc.get("disputes_opened", 0) == sum(sc.get(k, 0) for k in disputes), dict(sc)


async def test_orders_cut_off_by_the_deadline_are_unfinished() -> None:
    """A long think time: at the deadline most VUs are inside an order or a dispute."""
    with target_process() as url:
        cfg = build_config(
            {
                "target": url,
                "vus": "10",
                "duration": "1s",
                "think": "150ms",
                "dispute_ratio": "1",
            }
        )
        result = await Runner(cfg).run()
    assert_flows_add_up(result.total.scenarios)
    sc = legacy(result.total.scenarios)
    assert sc.get("orders_unfinished", 0) > 0, dict(sc)
    assert sc.get("disputes_opened", 0) > 0, dict(sc)
    assert_partitions(sc)
    assert result_json(result)["scenarios"]["orders_unfinished"] == sc["orders_unfinished"]
    assert f"unfinished={sc['orders_unfinished']}" in detail_lines(result.total)[3]


async def test_a_stopped_run_adds_up_and_says_when_it_stopped() -> None:
    with target_process("--fail-rate", "0.3") as url:
        cfg = build_config(
            {
                "target": url,
                "vus": "6",
                "duration": "20s",
                "think": "100ms",
                "dispute_ratio": "1",
            }
        )
        runner = Runner(cfg)
        async with anyio.create_task_group() as tg:

            async def stop_soon() -> None:
                await anyio.sleep(1.0)
                runner.stop()

            tg.start_soon(stop_soon)
            result = await runner.run()
    assert result.stopped
    assert_flows_add_up(result.total.scenarios)
    sc = legacy(result.total.scenarios)
    assert sc.get("orders_aborted", 0) > 0  # 503s end journeys too
    assert_partitions(sc)
    doc = result_json(result)
    assert doc["stopped_early"] is True and doc["stopped_at_s"] == round(result.elapsed, 3)
    assert doc["stopped_at_s"] < 20
    assert outcome_lines(result)[0].startswith("Stopped early at ")
    assert outcome_lines(result)[0].endswith(" of 20s")
