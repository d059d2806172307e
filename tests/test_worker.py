"""The engine in its own process (what the TUI uses): deltas, result, stop, errors."""

from __future__ import annotations

import time

import anyio
import pytest

from engine.config import build_config
from engine.metrics.stats import Snapshot
from engine.run.preflight import TargetUnreachable
from engine.run.sinks import CallbackSink
from engine.shards.worker import ProcessRunner, WorkerError
from tests.helpers import free_port, get_json, target_process

pytestmark = pytest.mark.anyio


async def test_deltas_stream_and_add_up_to_the_result() -> None:
    with target_process() as url:
        deltas: list[Snapshot] = []
        cfg = build_config({"target": url, "vus": "3", "duration": "1500ms", "think": "0"})
        result = await ProcessRunner(cfg, sinks=[CallbackSink(deltas.append)]).run()
        stats = get_json(url + "/stats")
    assert len(deltas) >= 4 and result.total.total > 0
    assert sum(d.total for d in deltas) == result.total.total
    assert result.total.errors == 0 and not result.stopped
    assert result.total.cpu_s > 0 and sum(result.total.loop_lag.values()) > 0
    got = sum(stats["received"]["orders"].values()) + sum(stats["received"]["chargebacks"].values())
    assert result.total.total <= got <= result.total.total + result.total.cancelled


async def test_stop_ends_an_unbounded_run_with_a_result() -> None:
    with target_process() as url:
        runner = ProcessRunner(build_config({"target": url, "vus": "2", "duration": "0"}))
        started = time.monotonic()
        async with anyio.create_task_group() as tg:

            async def stop_later() -> None:
                await anyio.sleep(1.5)
                runner.stop()

            tg.start_soon(stop_later)
            result = await runner.run()
        assert time.monotonic() - started < 15
    assert result.stopped and result.total.total > 0


async def test_unreachable_target_is_raised_in_the_parent() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(TargetUnreachable) as err:
        await ProcessRunner(build_config({"target": url})).run()
    assert err.value.target == url


async def test_a_crashing_worker_says_why() -> None:
    cfg = build_config({"target": "builtin", "duration": "1s"})
    object.__setattr__(cfg, "client", "no-such-client")  # bypass validation on purpose
    with pytest.raises(WorkerError) as err:
        await ProcessRunner(cfg).run()
    assert "unknown client" in str(err.value)
