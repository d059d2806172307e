"""Which runner a run gets: in this process, processes, or Ray actors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from engine.config import RunConfig
from engine.run.runner import Runner, RunResult
from engine.run.sinks import Sink
from engine.shards.coordinator import Coordinator


class RunnerLike(Protocol):
    config: RunConfig

    async def run(self) -> RunResult: ...

    def stop(self) -> None: ...


def make_runner(config: RunConfig, sinks: Sequence[Sink] = ()) -> RunnerLike:
    """One shard runs in this process (as always); several, under a coordinator;
    with ``--backend ray``, Ray actors under one (Ray is imported only then)."""
    if config.backend == "ray":
        from engine.shards.ray_backend import RayCoordinator

        return RayCoordinator(config, sinks=sinks)
    if config.workers <= 1:
        return Runner(config, sinks=sinks)
    return Coordinator(config, sinks=sinks)
