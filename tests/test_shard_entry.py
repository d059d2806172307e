"""A shard process's stderr holds only what went wrong in it, no start-up noise."""

from __future__ import annotations

import os
import signal

import anyio
import pytest

from engine.config import build_config
from engine.metrics.stats import Snapshot
from engine.run.sinks import CallbackSink
from engine.shards.worker import ProcessRunner, WorkerError
from tests.helpers import target_process

pytestmark = pytest.mark.anyio


async def test_a_killed_shard_is_named_without_a_runpy_warning() -> None:
    """Its message is the exit status and its stderr: runpy's 'found in
    sys.modules' warning, printed at every start, ended it before."""
    with target_process() as url:
        started = anyio.Event()

        def on_delta(_: Snapshot) -> None:
            started.set()

        cfg = build_config({"target": url, "vus": "1", "duration": "0"})
        runner = ProcessRunner(cfg, sinks=[CallbackSink(on_delta)])

        async def kill_when_running() -> None:
            await started.wait()
            assert runner.pid is not None
            os.kill(runner.pid, signal.SIGKILL)

        async with anyio.create_task_group() as tg:
            tg.start_soon(kill_when_running)
            with pytest.raises(WorkerError) as err:
                await runner.run()
    message = str(err.value)
    assert "killed by SIGKILL" in message
    assert "RuntimeWarning" not in message and "runpy" not in message, message
