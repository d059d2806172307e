"""What the app runs: anything with ``run()`` and ``stop()``, made by a factory
from the run's config and the app's snapshot sink (tests pass scripted ones)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from engine.config import RunConfig
from engine.run.runner import RunResult, SnapshotSink
from engine.run.sinks import CallbackSink
from engine.shards.runners import make_runner
from engine.shards.worker import ProcessRunner


class RunnerLike(Protocol):
    async def run(self) -> RunResult: ...

    def stop(self) -> None: ...


RunnerFactory = Callable[[RunConfig, SnapshotSink], RunnerLike]


def default_runner(config: RunConfig, sink: SnapshotSink) -> RunnerLike:
    """The engine in its own process: repaints never stall the generator
    (with --workers N, N of them under a coordinator that merges them here)."""
    if config.workers > 1 or config.backend != "process":
        return make_runner(config, [CallbackSink(sink)])
    return ProcessRunner(config, sinks=[CallbackSink(sink)])
