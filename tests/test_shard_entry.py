"""A shard process's stderr holds only what went wrong in it, no start-up noise."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

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


SCRIPT = """
import os, signal, sys, anyio
from engine.config import build_config
from engine.shards.worker import ProcessRunner

signal.signal(signal.SIGINT, lambda *_: None)  # a handler: reset to the default at exec

async def main() -> None:
    runner = ProcessRunner(build_config({"target": sys.argv[1], "vus": "1", "duration": "0"}))

    async def interrupt() -> None:
        while runner.pid is None:
            await anyio.sleep(0.001)
        os.killpg(0, signal.SIGINT)  # a terminal's Ctrl+C, while the shard starts up
        await anyio.sleep(0.5)
        runner.stop()

    async with anyio.create_task_group() as tg:
        tg.start_soon(interrupt)
        result = await runner.run()
    print("stopped" if result.stopped else "ran")

anyio.run(main)
"""


def test_a_terminal_ctrl_c_does_not_kill_a_starting_shard() -> None:
    """The shard ignores SIGINT once it runs, but Ctrl+C during its start-up
    (imports) killed it: 'the engine process ended without a result'. It runs in
    a session of its own; its parent stops it."""
    with target_process() as url:
        res = subprocess.run(
            [sys.executable, "-c", SCRIPT, url],
            capture_output=True,
            text=True,
            timeout=60,
            start_new_session=True,
        )
    assert res.returncode == 0 and res.stdout.strip() == "stopped", res.stderr
