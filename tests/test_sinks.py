"""Outputs attach as a list of sinks: each hears every delta, the ones with
``on_phase`` hear the phases too, on the in-process runner and the worker alike."""

from __future__ import annotations

from typing import Protocol

import pytest

from engine.config import RunConfig, build_config
from engine.metrics.stats import Snapshot
from engine.run.runner import Phase, Runner, RunResult
from engine.run.sinks import CallbackSink, Sink
from engine.shards.worker import ProcessRunner
from tests.helpers import target_process

pytestmark = pytest.mark.anyio


class Recorder:
    def __init__(self) -> None:
        self.deltas: list[Snapshot] = []
        self.phases: list[Phase] = []

    def on_snapshot(self, delta: Snapshot) -> None:
        self.deltas.append(delta)

    def on_phase(self, phase: Phase) -> None:
        self.phases.append(phase)


class _Runs(Protocol):
    async def run(self) -> RunResult: ...


def _make(kind: str, cfg: RunConfig, sinks: list[Sink]) -> _Runs:
    if kind == "process":
        return ProcessRunner(cfg, sinks=sinks)
    return Runner(cfg, sinks=sinks)


@pytest.mark.parametrize("kind", ["in-process", "process"])
async def test_every_sink_hears_every_delta_and_phase_sinks_the_phases(kind: str) -> None:
    with target_process() as url:
        cfg = build_config(
            {"target": url, "vus": "2", "duration": "1s", "think": "5ms", "verify": "3"}
        )
        full, other = Recorder(), Recorder()
        plain: list[Snapshot] = []
        result = await _make(kind, cfg, [full, CallbackSink(plain.append), other]).run()
    assert result.verification is not None and result.verification.ok
    assert len(full.deltas) >= 3 and full.deltas == other.deltas == plain
    assert sum(d.total for d in plain) == result.total.total > 0
    assert (
        full.phases
        == other.phases
        == [
            Phase("load", target_url=url),  # where the load goes (--target builtin's port)
            Phase("verifying", 3, cfg.verify_wait),
        ]
    )
