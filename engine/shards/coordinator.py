"""``--workers N``: N shards of one run, merged into one runner.

The coordinator starts what the shards share (the builtin target, once, and
the reachability check, once), shares out the totals with
:func:`engine.shards.plan.split` (VUs, and the ``--verify`` sample: each shard
verifies its own share of orders and the counts add), gives every shard the
same seed (their random streams differ by shard index) and one common start
(``epoch``, a wall time picked once every shard is ready to send, a moment
ahead: :mod:`engine.shards.gate`; so a slow-starting shard delays the start
rather than losing its first seconds). Ramp stages are split stage by stage
(:func:`engine.shards.plan.split_stages`), so the shards' ramps add up to the
asked one from that common start. Every shard's deltas go straight to the coordinator's sinks:
snapshots add (histograms too, so percentiles stay exact), and shards' deltas
share one time base, so the summary, JSON, TUI and thresholds see one run.

A shard is anything with ``run()``, ``stop()`` and a ``where`` (a process,
:class:`~engine.shards.worker.ProcessRunner`; a Ray actor). When one fails,
the others are stopped and the run ends with :class:`ShardLost`, which names
the shard and carries what was measured so far; so does a shard not ready
within :data:`READY_TIMEOUT_S`.
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
from engine.shards.gate import StartGate
from engine.shards.plan import split, split_stages
from engine.shards.worker import ProcessRunner, WorkerError

GO_MARGIN_S = 0.2
"""How far ahead of the moment every shard is ready the common start lies: the
go must cross a pipe to every process and wake its loop (well under 10 ms when
idle; a busy 2-core machine with many processes, tens of ms). A shard whose go
comes later still starts at once, counting from the epoch."""
READY_TIMEOUT_S = 60.0
"""How long the coordinator waits for every shard to be ready before it gives a
shard up as lost: a process starts and imports the engine in well under a
second alone, a few seconds when 64 share 2 cores; a minute is a hung shard."""


class ShardLike(Protocol):
    """A shard's driver side. ``run()`` starts it; once it is ready to send it
    awaits ``gate.ready(index)`` and passes the epoch on (or stops, on None)."""

    @property
    def where(self) -> str:
        """Where the shard runs, for a message (``pid 1234``)."""
        ...

    async def run(self) -> RunResult: ...

    def stop(self) -> None: ...


ShardFactory = Callable[[RunConfig, int, StartGate, Sequence[Sink]], ShardLike]
"""(shard's config, shard index, the run's start gate, sinks) -> a shard, not yet started."""


def process_shard(
    config: RunConfig, shard: int, gate: StartGate, sinks: Sequence[Sink]
) -> ShardLike:
    """A shard in its own spawned process (``python -m engine.shards.worker``)."""
    return ProcessRunner(config, sinks=sinks, shard=shard, gate=gate)


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


class _NotReady(Exception):
    """A shard not ready to send within the coordinator's limit."""

    def __init__(self, timeout: float) -> None:
        super().__init__(f"was not ready after {timeout:g} s")


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
        go_margin: float = GO_MARGIN_S,
        ready_timeout: float = READY_TIMEOUT_S,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = with_seed(config)
        self._sinks = tuple(sinks)
        self._phase_sinks = tuple(s for s in sinks if isinstance(s, PhaseSink))
        self._factory = shard_factory
        self._preflight = preflight
        self._go_margin = go_margin
        self._ready_timeout = ready_timeout
        self._wall_clock = wall_clock
        self.gate: StartGate | None = None
        """The run's common start, once the shards are made."""
        self._shards: list[ShardLike] = []
        self._stop_requested = False
        self._stopped_before_start = False
        self._phases: set[str] = set()
        self.total = Snapshot()
        """Every delta received so far, of all shards (the partial result)."""

    @property
    def shards(self) -> Sequence[ShardLike]:
        """The running shards, shard 0 first (empty until the shards start)."""
        return tuple(self._shards)

    def stop(self) -> None:
        """Stop every shard; each still sends what it measured. Before the common
        start, a shard that then fails is not lost: the run was interrupted (a
        terminal's Ctrl+C reaches a shard process spawned at that very moment,
        before it leaves the terminal's process group, and kills it)."""
        if self.gate is None or self.gate.epoch is None:
            self._stopped_before_start = True
        self._stop_shards()

    def _stop_shards(self) -> None:
        self._stop_requested = True
        if self.gate is not None:
            self.gate.call_off()
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
            phase = dataclasses.replace(phase, sampled=self.config.verify)
        for sink in self._phase_sinks:
            sink.on_phase(phase)

    def shard_configs(self, url: str) -> list[RunConfig]:
        """Each shard's settings: the run's, with the totals split and the target resolved."""
        cfg = self.config
        n = cfg.workers
        vus, verify = split(cfg.vus, n), split(cfg.verify, n)
        visibility = split(cfg.visibility, n)  # the flow runs followed, a total too
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
                visibility=visibility[i],
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
                        scenario=(cfg.scenario, cfg.scenario_text),
                    )
                )
            await self._preflight(url)
            return await self._run_shards(url)
        raise AssertionError("unreachable")  # pragma: no cover - keeps mypy calm

    async def _run_shards(self, url: str) -> RunResult:
        configs = self.shard_configs(url)
        gate = StartGate(len(configs), margin=self._go_margin, wall_clock=self._wall_clock)
        self.gate = gate
        merge = [_Merge(self)]
        self._shards = [self._factory(c, i, gate, merge) for i, c in enumerate(configs)]
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
                self._stop_shards()
            finally:
                gate.done(i)

        async def watch_start() -> None:
            """A shard not ready in time is lost: the others are stopped."""
            with anyio.move_on_after(self._ready_timeout):
                await gate.wait()
                return
            if gate.not_ready and not self._stop_requested:
                failures.insert(0, (gate.not_ready[0], _NotReady(self._ready_timeout)))
                self._stop_shards()

        async with anyio.create_task_group() as tg:
            tg.start_soon(watch_start)
            for i, shard in enumerate(self._shards):
                tg.start_soon(one, i, shard)
        elapsed = max((r.elapsed for r in results.values()), default=0.0)
        places = tuple(shard.where for shard in self._shards)
        if failures and not self._stopped_before_start:
            i, exc = failures[0]
            partial = RunResult(self.config, url, self.total, elapsed, stopped=True, where=places)
            n, where = len(self._shards), self._shards[i].where
            if isinstance(exc, _NotReady):
                raise ShardLost(f"shard {i} of {n} ({where}) {exc}", partial)
            if isinstance(exc, WorkerError) or not isinstance(exc, WebhookloadError):
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
