"""The engine against the reference target on a free loopback port: real sockets.

The run's own counts must agree with what the target received, with no 4xx:
the traffic is valid for the contract.
"""

from __future__ import annotations

from collections.abc import Callable

import anyio
import pytest

from engine.config import CLIENTS, RunConfig, build_config
from engine.metrics.stats import Snapshot
from engine.run.runner import Runner, RunResult
from engine.run.sinks import CallbackSink
from tests.helpers import get_json, legacy, raw_server, target_process

pytestmark = pytest.mark.anyio


def assert_counts_agree(total: Snapshot, stats: dict[str, object]) -> None:
    received = stats["received"]
    assert isinstance(received, dict)
    got_orders = sum(received["orders"].values())
    got_cbs = sum(received["chargebacks"].values())
    # A request cancelled at the deadline may or may not have reached the target.
    assert total.count("orders") <= got_orders <= total.count("orders") + total.cancelled
    assert total.count("disputes") <= got_cbs <= total.count("disputes") + total.cancelled
    assert set(received["orders"]) <= {"202"} and set(received["chargebacks"]) <= {"202"}


@pytest.mark.parametrize("contract", ["ingest", "plan"])
@pytest.mark.parametrize("client", CLIENTS)
async def test_counts_agree_and_no_4xx(contract: str, client: str) -> None:
    with target_process("--contract", contract) as url:
        cfg = build_config(
            {
                "target": url,
                "vus": "8",
                "duration": "1500ms",
                "think": "0",
                "contract": contract,
                "client": client,
                "dispute_ratio": "0.5",
            }
        )
        deltas: list[Snapshot] = []
        result = await Runner(cfg, sinks=[CallbackSink(deltas.append)]).run()
        stats = get_json(url + "/stats")
    total = result.total
    assert total.total > 50
    assert total.errors == 0 and set(total.status_codes) == {202}
    assert total.count("disputes") > 0
    assert_counts_agree(total, stats)
    sc = legacy(total.scenarios)
    assert sc["orders_success"] > 0 and sc["orders_failed"] > 0
    assert sc["disputes_opened"] >= sc.get("disputes_won", 0) + sc.get("disputes_lost", 0)
    # the deltas add up to the total, and came several per second
    assert sum(d.total for d in deltas) == total.total
    assert len(deltas) >= 4
    succeeded_there = stats["orders_by_status"].get("success", 0)
    assert sc["orders_success"] <= succeeded_there <= sc["orders_success"] + total.cancelled


async def test_queue_mode_applies_everything_without_dead_letters() -> None:
    with target_process("--mode", "queue", "--lag", "20ms") as url:
        cfg = build_config({"target": url, "vus": "4", "duration": "1s", "think": "0"})
        result = await Runner(cfg).run()
        for _ in range(100):  # the consumer applies after the lag
            stats = get_json(url + "/stats")
            if stats["pending"] == 0:
                break
            await anyio.sleep(0.1)
    assert result.total.errors == 0
    assert stats["dead_letters"] == 0
    assert stats["applied"] == stats["received_total"]


async def test_verify_reads_back_what_queue_mode_applied() -> None:
    with target_process("--mode", "queue", "--lag", "100ms") as url:
        cfg = build_config(
            {"target": url, "vus": "4", "duration": "1s", "think": "0", "verify": "30"}
        )
        result = await Runner(cfg).run()
    v = result.verification
    assert v is not None and v.ok, v
    o = v.tally("orders")
    assert o.sampled == 30 and o.applied == 30 and v.read_api == url


async def test_verify_finds_what_a_kafka_mode_service_dead_lettered() -> None:
    """The plan's field names get 202 from a queue-mode ingest target (the body
    parses) and are all dead-lettered by its consumer: no 4xx, nothing applied."""
    with target_process("--mode", "queue", "--lag", "20ms") as url:
        cfg = build_config(
            {
                "target": url,
                "vus": "2",
                "duration": "700ms",
                "contract": "plan",
                "verify": "10",
                "verify_wait": "500ms",
            }
        )
        result = await Runner(cfg).run()
    assert result.total.errors == 0 and result.total.success > 0
    v = result.verification
    assert v is not None and not v.ok
    o = v.tally("orders")
    assert o.sampled == 10 and o.applied == 0 and o.missing == 10


async def test_read_back_counts_reads() -> None:
    with target_process() as url:
        cfg = build_config(
            {"target": url, "vus": "2", "duration": "1s", "think": "0", "read_ratio": "1"}
        )
        result = await Runner(cfg).run()
    total = result.total
    assert total.reads > 0 and total.errors == 0
    assert total.total == total.count("orders") + total.count("disputes") + total.reads
    assert total.status_codes.get(200, 0) == total.reads


async def test_builtin_target_starts_and_stops() -> None:
    cfg = build_config({"target": "builtin", "vus": "2", "duration": "700ms"})
    result = await Runner(cfg).run()
    assert result.target_url.startswith("http://127.0.0.1:")
    assert result.total.total > 0 and result.total.errors == 0


async def test_stop_ends_an_unbounded_run_and_says_so() -> None:
    """Against the real target: ``stop()`` ends a run that has no deadline, and
    the result is marked stopped and holds what ran."""
    with target_process() as url:
        cfg = build_config({"target": url, "vus": "3", "duration": "0", "think": "0"})
        result, deltas = await _stop_once(cfg, lambda ds: sum(d.total for d in ds) > 0)
    assert result.stopped
    assert result.total.total > 0 and result.total.errors == 0
    assert sum(d.total for d in deltas) == result.total.total


async def test_stop_cancels_the_requests_in_flight() -> None:
    """Against a target that never answers, every VU is waiting on a request
    (with a 60 s timeout) when ``stop()`` comes: each one is cancelled and
    counted, none completes, and the run ends anyway."""
    async with raw_server("hang") as url:
        cfg = build_config({"target": url, "vus": "3", "duration": "0", "timeout": "60s"})
        # after the first delta the run is going and each VU waits on its request
        result, _ = await _stop_once(cfg, bool)
    assert result.stopped
    assert result.total.cancelled == 3
    assert result.total.total == 0 and result.total.errors == 0


async def _stop_once(
    cfg: RunConfig, ready: Callable[[list[Snapshot]], bool]
) -> tuple[RunResult, list[Snapshot]]:
    """Run until ``ready(deltas so far)``, call ``stop()``; the result and the
    deltas. The run has no deadline, so it only returns if the stop works; the
    bound turns a stop that does nothing into a failure instead of a hang."""
    deltas: list[Snapshot] = []
    results: list[RunResult] = []
    go = anyio.Event()

    def sink(delta: Snapshot) -> None:
        deltas.append(delta)
        if ready(deltas):
            go.set()

    runner = Runner(cfg, sinks=[CallbackSink(sink)])

    async def run() -> None:
        results.append(await runner.run())

    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg:
            tg.start_soon(run)
            await go.wait()
            runner.stop()
    assert len(results) == 1
    return results[0], deltas
