"""``--workers N``: N shards of one run, merged into one runner.

The coordinator starts what the shards share (the builtin target, once, and
the reachability check, once), shares out the totals with
:func:`engine.shards.plan.split` (VUs, and the ``--verify`` sample: each shard
verifies its own share of orders and the counts add), gives every shard the
same seed (their random streams differ by shard index) and one common start
(``epoch``, a wall time a moment ahead, so that slow-starting processes do not
skew the start). Ramp stages are split stage by stage
(:func:`engine.shards.plan.split_stages`), so the shards' ramps add up to the
asked one from that common start. Every shard's deltas go straight to the coordinator's sinks:
snapshots add (histograms too, so percentiles stay exact), and shards' deltas
share one time base, so the summary, JSON, TUI and thresholds see one run.

A shard is anything with ``run()``, ``stop()`` and a ``where`` (a process,
:class:`~engine.shards.worker.ProcessRunner`; a Ray actor). When one fails,
the others are stopped and the run ends with :class:`ShardLost`, which names
the shard and carries what was measured so far.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from typing import Protocol

import anyio

from engine.config import BUILTIN, RunConfig, with_seed
from engine.domain.stages import LoadShare
from engine.errors import EXIT_SHARD_LOST, WebhookloadError
from engine.metrics.stats import Snapshot
from engine.run.builtin_target import builtin_target
from engine.run.preflight import check_reachable
from engine.run.runner import RunResult
from engine.run.sinks import Phase, PhaseSink, Sink
from engine.run.verify import Verification, merge
from engine.shards.plan import split, split_stages
from engine.shards.worker import ProcessRunner, WorkerError

START_DELAY_S = 1.5
"""How far ahead of now the common start lies: long enough for every shard's
process to start and import the engine, so all begin together."""


class ShardLike(Protocol):
    @property
    def where(self) -> str:
        """Where the shard runs, for a message (``pid 1234``)."""
        ...

    async def run(self) -> RunResult: ...

    def stop(self) -> None: ...


ShardFactory = Callable[[RunConfig, int, float, Sequence[Sink]], ShardLike]
"""(shard's config, shard index, epoch, sinks) -> a shard, not yet started."""


def process_shard(config: RunConfig, shard: int, epoch: float, sinks: Sequence[Sink]) -> ShardLike:
    """A shard in its own spawned process (``python -m engine.shards.worker``)."""
    return ProcessRunner(config, sinks=sinks, shard=shard, epoch=epoch)


def load_share(cfg: RunConfig) -> LoadShare:
    """The whole run's load model, of which every shard runs its part at every
    moment: --stages VU counts that add up at all times, and one arrival schedule
    interleaved among the shards (see :mod:`engine.domain.stages`)."""
    return LoadShare(cfg.workers, cfg.rate or float(cfg.vus), cfg.stages)


class ShardLost(WebhookloadError):
    """A shard died or failed mid-run (exit 6): ``str()`` names it (index, where,
    what it printed); ``partial`` is what all shards measured until then."""

    default_exit_code = EXIT_SHARD_LOST

    def __init__(self, message: str, partial: RunResult | None = None) -> None:
        super().__init__(message)
        self.partial = partial


class _Merge:
    """Every shard's sink: deltas and phases on to the coordinator's sinks."""

    def __init__(self, coordinator: Coordinator) -> None:
        self._c = coordinator

    def on_snapshot(self, delta: Snapshot) -> None:
        self._c._on_delta(delta)

    def on_phase(self, phase: Phase) -> None:
        self._c._on_phase(phase)


class Coordinator:
    """One run of ``config.workers`` shards, with a :class:`Runner`'s interface:
    ``sinks``, ``await run()``, ``stop()`` and ``config`` (with the run's seed)."""

    def __init__(
        self,
        config: RunConfig,
        *,
        sinks: Sequence[Sink] = (),
        shard_factory: ShardFactory = process_shard,
        preflight: Callable[[str], Awaitable[None]] = check_reachable,
        start_delay: float = START_DELAY_S,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = with_seed(config)
        self._sinks = tuple(sinks)
        self._phase_sinks = tuple(s for s in sinks if isinstance(s, PhaseSink))
        self._factory = shard_factory
        self._preflight = preflight
        self._start_delay = start_delay
        self._wall_clock = wall_clock
        self._shards: list[ShardLike] = []
        self._stop_requested = False
        self._phases: set[str] = set()
        self.total = Snapshot()
        """Every delta received so far, of all shards (the partial result)."""

    @property
    def shards(self) -> Sequence[ShardLike]:
        """The running shards, shard 0 first (empty until the shards start)."""
        return tuple(self._shards)

    def stop(self) -> None:
        """Stop every shard; each still sends what it measured."""
        self._stop_requested = True
        for shard in self._shards:
            shard.stop()

    def _on_delta(self, delta: Snapshot) -> None:
        self.total = self.total + delta
        for sink in self._sinks:
            sink.on_snapshot(delta)

    def _on_phase(self, phase: Phase) -> None:
        if phase.name in self._phases:  # every shard says it; consumers hear it once
            return
        self._phases.add(phase.name)
        if phase.name == "verifying":
            phase = dataclasses.replace(phase, orders=self.config.verify)
        for sink in self._phase_sinks:
            sink.on_phase(phase)

    def shard_configs(self, url: str) -> list[RunConfig]:
        """Each shard's settings: the run's, with the totals split and the target resolved."""
        cfg = self.config
        n = cfg.workers
        vus, verify = split(cfg.vus, n), split(cfg.verify, n)
        # the open model: the arrival rate and the in-flight cap are totals too
        rate = split(cfg.rate, n) if cfg.rate else [0.0] * n
        inflight = split(cfg.max_inflight, n) if cfg.rate else [cfg.max_inflight] * n
        # ramp stages: each stage's target split too, from the shard's share of the start
        stages = split_stages(cfg.stages, n, whole=not cfg.rate) if cfg.stages else [""] * n
        return [
            dataclasses.replace(
                cfg,
                target=url,
                vus=vus[i],
                verify=verify[i],
                rate=rate[i],
                max_inflight=max(1, inflight[i]),
                stages=stages[i],
                workers=1,
            )
            for i in range(n)
        ]

    async def run(self) -> RunResult:
        """Start the shared target if asked, preflight once, run every shard, merge."""
        cfg = self.config
        async with AsyncExitStack() as stack:
            url = self.config.target
            if url == BUILTIN:
                url = await stack.enter_async_context(
                    builtin_target(
                        mode=self.config.target_mode,
                        contract=self.config.contract,
                        signing=(cfg.sign, cfg.secret, cfg.signature_header) if cfg.sign else None,
                    )
                )
            await self._preflight(url)
            return await self._run_shards(url)
        raise AssertionError("unreachable")  # pragma: no cover - keeps mypy calm

    async def _run_shards(self, url: str) -> RunResult:
        epoch = self._wall_clock() + self._start_delay
        merge = [_Merge(self)]
        self._shards = [
            self._factory(c, i, epoch, merge) for i, c in enumerate(self.shard_configs(url))
        ]
        part = load_share(self.config)
        for shard in self._shards:
            if hasattr(shard, "load_share"):  # ours take the whole schedule's share
                shard.load_share = part
        if self._stop_requested:
            self.stop()
        results: dict[int, RunResult] = {}
        failures: list[tuple[int, Exception]] = []

        async def one(i: int, shard: ShardLike) -> None:
            try:
                results[i] = await shard.run()
            except Exception as exc:  # this shard is lost: stop the others
                failures.append((i, exc))
                self.stop()

        async with anyio.create_task_group() as tg:
            for i, shard in enumerate(self._shards):
                tg.start_soon(one, i, shard)
        elapsed = max((r.elapsed for r in results.values()), default=0.0)
        places = tuple(shard.where for shard in self._shards)
        if failures:
            i, exc = failures[0]
            partial = RunResult(self.config, url, self.total, elapsed, stopped=True, where=places)
            if isinstance(exc, WorkerError) or not isinstance(exc, WebhookloadError):
                n, where = len(self._shards), self._shards[i].where
                raise ShardLost(f"shard {i} of {n} ({where}) failed: {exc}", partial) from exc
            raise exc
        return RunResult(
            self.config,
            url,
            self.total,
            elapsed,
            stopped=self._stop_requested or any(r.stopped for r in results.values()),
            verification=merge_verifications([r.verification for r in results.values()]),
            verify_interrupted=any(r.verify_interrupted for r in results.values()),
            where=places,
        )


def merge_verifications(parts: Sequence[Verification | None]) -> Verification | None:
    """The shards' ``--verify`` checks as one: counts add, the wait is the longest
    (:func:`engine.run.verify.merge`)."""
    return merge(parts)
