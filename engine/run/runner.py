"""One load test, composed: target, preflight, transport, load model, reporter, verify.

Written on anyio: the load model (:mod:`engine.load`, *when* journeys start)
drives a :class:`~engine.scenario.flows.FlowWalker` (*what* they send: the
scenario file's flows, ``--contract``'s built-in file by default) inside a
cancel scope that ends at the run's duration. At the deadline nothing new is
sent, and the requests in flight get ``--grace`` (1 s by default) to finish,
as a provider would never abandon a delivery mid-flight
(engine/scenario/drain.py); those still in flight then (or at once on
:meth:`Runner.stop`) are cancelled and counted as ``cancelled_at_deadline``,
so a hanging target stretches the run by the grace at most; the flow run it
belonged to counts as ``unfinished``.
A reporter task hands a snapshot delta to every sink (:mod:`engine.run.sinks`)
every 250 ms. Which load model runs (engine/run/load_choice.py) and what
``--verify`` samples (engine/run/verify_samples.py) are decided apart.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass

import anyio

from engine.config import BUILTIN, RunConfig, with_seed
from engine.domain.outcomes import has_legacy_names
from engine.domain.stages import LoadShare
from engine.load.clock import SYSTEM_CLOCK, Clock
from engine.metrics.saturation import sample_loop_lag
from engine.metrics.stats import Snapshot, Stats
from engine.run.builtin_target import builtin_target
from engine.run.load_choice import load_model, transport_pool
from engine.run.preflight import TargetUnreachable, check_reachable
from engine.run.sinks import Phase, PhaseSink, Sink, SnapshotSink
from engine.run.verify import Verification
from engine.run.verify_samples import VerifySamples
from engine.scenario.compiled import CompiledScenario
from engine.scenario.delivery import dressing_for
from engine.scenario.drain import Drain
from engine.scenario.flows import FlowWalker
from engine.scenario.select import compiled_for, header_names
from engine.scenario.visibility import Visibility
from engine.transports import Transport, make_transport
from engine.transports.api_client import ApiClient
from engine.transports.base import replaced

__all__ = ["Phase", "RunResult", "Runner", "Sink", "SnapshotSink"]

SNAPSHOT_INTERVAL = 0.25


@dataclass(frozen=True, slots=True)
class RunResult:
    """The outcome of a run: the merged total of every delta, and how it ended."""

    config: RunConfig  # with the seed the run used, drawn when none was given
    target_url: str
    total: Snapshot
    elapsed: float  # the load's span; when stopped, the time of the stop
    stopped: bool
    verification: Verification | None = None  # with --verify, unless stopped
    # stopped while --verify waited: the load itself ran its full time
    verify_interrupted: bool = False
    # where each shard ran (``pid 1234``, a Ray actor's host, node and pid),
    # shard 0 first: set by the coordinator of a sharded run, () for one runner
    where: tuple[str, ...] = ()


class Runner:
    """Runs one load test. ``await runner.run()``; ``runner.stop()`` ends it early.

    ``sinks`` hear every snapshot delta (and phases, those that take them).
    ``clock`` times requests, stamps snapshots, paces the load and sets the
    deadline; tests inject a :class:`~engine.load.clock.FakeClock`.
    ``transport_factory`` replaces the HTTP client (a
    :class:`~engine.transports.fake.FakeTransport` in tests), ``preflight``
    the reachability check. ``self.config`` is the run's config with its
    seed: ``config.seed`` when given, else one drawn here.

    ``shard`` is this runner's index among the run's shards (0 alone): its
    random streams derive from (seed, shard, VU), and its deltas carry its
    health under that index. ``epoch`` is the run's common zero as a
    ``wall_clock()`` (``time.time()``) value, given by the coordinator to every
    shard: snapshots are then stamped from that zero, not from this shard's own
    start, because merged windows and timelines add deltas of all shards by
    their ``[start, end)`` and need one time base. A wall time, since shards on
    other machines share no monotonic clock; it is read once, at the start, and
    turned into an offset on ``clock``, so a wall-clock step during the run moves
    nothing. The load starts at the epoch (waiting for it if it lies ahead) and
    ends at epoch + duration; without an epoch, the zero is this runner's start.
    ``ready``, given instead of an epoch, is the start handshake of a shard
    (:mod:`engine.shards.gate`): awaited once this runner could send (target
    checked, transport made), it returns the epoch the coordinator picked when
    every shard was ready, so no shard's slow start-up costs it the run's start.
    """

    def __init__(
        self,
        config: RunConfig,
        *,
        sinks: Sequence[Sink] = (),
        clock: Clock = SYSTEM_CLOCK,
        cpu_clock: Callable[[], float] = time.process_time,
        transport_factory: Callable[[RunConfig], Transport] | None = None,
        preflight: Callable[[str], Awaitable[None]] = check_reachable,
        snapshot_interval: float = SNAPSHOT_INTERVAL,
        shard: int = 0,
        epoch: float | None = None,
        wall_clock: Callable[[], float] = time.time,
        load_share: LoadShare | None = None,
        ready: Callable[[], Awaitable[float]] | None = None,
    ) -> None:
        self.config = config = with_seed(config)
        self._ready = ready
        self._load_share = load_share
        self.shard = shard
        self._epoch = epoch
        self._wall_clock = wall_clock
        self._sinks = tuple(sinks)
        self._phase_sinks = tuple(s for s in sinks if isinstance(s, PhaseSink))
        self._clock = clock
        self._now = clock.now
        self._cpu_clock = cpu_clock
        self._cpu_mark = 0.0
        self._transport_factory = transport_factory or self._default_transport
        self._preflight = preflight
        self._interval = snapshot_interval
        self._scope: anyio.CancelScope | None = None
        self._api: ApiClient | None = None  # a scenario's API steps' client
        self._visibility: Visibility | None = None  # --visibility's followers
        self._stop_requested = False
        self._deadline_at: float | None = None
        self._t0 = 0.0
        self._stats = Stats(endpoints=config.shape.endpoints, cleaner=config.cleaner())
        self._total = Snapshot()
        self._samples = VerifySamples(config, shard)  # --verify (engine/run/verify_samples.py)

    def stop(self) -> None:
        """End the run now: in-flight requests are cancelled, the summary stays."""
        self._stop_requested = True
        if self._scope is not None:
            self._scope.cancel()

    @property
    def stop_requested(self) -> bool:
        return self._stop_requested

    async def run(self) -> RunResult:
        """Start the builtin target if asked, preflight, run, and return the total.

        Raises :class:`~engine.run.preflight.TargetUnreachable` before any load when
        the target cannot be reached.
        """
        async with AsyncExitStack() as stack:
            url = self.config.target
            if url == BUILTIN:
                cfg = self.config
                url = await stack.enter_async_context(
                    builtin_target(
                        mode=cfg.target_mode,
                        contract=cfg.contract,
                        signing=(cfg.sign, cfg.secret, cfg.signature_header) if cfg.sign else None,
                        scenario=(cfg.scenario, cfg.scenario_text),
                    )
                )
            await self._preflight(url)
            await self._preflight_read_api(url)
            self._phase(Phase("load", target_url=url))
            result = await self._run_against(url)
            sampled, what = self._samples.sampled, self._samples.what
            if self.config.verify and sampled and not self._stop_requested:
                self._phase(Phase("verifying", sampled, self.config.verify_wait, what=what))
                result = await self._verify(result)
            return result
        raise AssertionError("unreachable")  # pragma: no cover - keeps mypy calm

    def _walker(
        self,
        scenario: CompiledScenario,
        url: str,
        transport: Transport,
        drain: Drain | None = None,
        visibility: Visibility | None = None,
    ) -> FlowWalker:
        """What each journey sends, recorded into this run's stats: the scenario
        file's flows (``--scenario``, else the built-in file ``--contract`` names)."""
        cfg = self.config
        read_api = cfg.read_api or url
        if cfg.verify and not has_legacy_names(cfg.shape):
            self._samples.sample_flows(scenario, read_api)
        if scenario.api:  # whole answers, for capture (engine/transports/api_client.py)
            self._api = ApiClient(
                pool_size=transport_pool(cfg), timeout=cfg.timeout, clock=self._now
            )
        return FlowWalker(
            transport=transport,
            stats=self._stats,
            scenario=scenario,
            target=url,
            read_api=cfg.read_api or None,
            read_mix=cfg.read_mix,
            think=cfg.think,
            now=self._now,
            sleep=self._clock.sleep,
            dressing=dressing_for(cfg),
            retries=cfg.retries,
            read_ratio=cfg.read_ratio,
            duplicate_rate=cfg.duplicate_rate,
            reorder_rate=cfg.reorder_rate,
            drain=drain,
            api_client=self._api,
            on_end=self._ended if cfg.verify or visibility is not None else None,
            policy=cfg.policy,
            retry_speed=cfg.retry_speed,
        )

    def _ended(
        self,
        flow: str,
        shows: str,
        v: dict[str, object],
        parent: dict[str, object] | None,
        eid: str,
    ) -> None:
        """A scenario file's flow run ended accepted: ``--verify`` samples it
        (engine/run/verify_samples.py); ``--visibility`` follows it."""
        if self._visibility is not None:
            self._visibility.offer(flow, shows, v, parent)
        if self.config.verify:
            self._samples.offer(flow, shows, v, parent, eid)

    async def _run_against(self, url: str) -> RunResult:
        cfg = self.config
        transport = self._transport_factory(cfg)
        duration = cfg.duration
        offset = await self._await_epoch()
        self._t0 = self._now() - offset
        self._cpu_mark = self._cpu_clock()
        self._stats = Stats(
            since=offset, shard=self.shard, endpoints=cfg.shape.endpoints, cleaner=cfg.cleaner()
        )
        drain = Drain()
        scenario = compiled_for(cfg)
        visibility = self._visibility = self._follower(scenario, url, transport)
        walker = self._walker(scenario, url, transport, drain, visibility)
        model = load_model(cfg, self.shard, self._load_share, self._stats)
        try:
            with anyio.CancelScope() as scope:
                self._scope = scope
                if self._stop_requested:
                    scope.cancel()
                async with anyio.create_task_group() as tg:
                    tg.start_soon(self._reporter)
                    tg.start_soon(sample_loop_lag, lambda: self._stats, time.perf_counter)
                    tg.start_soon(model.drive, walker, self._clock)
                    if visibility is not None:
                        tg.start_soon(visibility.serve)
                    if duration > 0:
                        tg.start_soon(self._end_at, duration - offset, drain, scope)
        finally:
            # the load's duration: the grace after the deadline is not in it (its
            # requests are in the totals, counted apart as finished_in_grace)
            end = self._deadline_at if self._deadline_at is not None else self._now()
            elapsed = end - self._t0
            self._emit(self._take(elapsed))
            with anyio.move_on_after(1, shield=True):
                await transport.aclose()
                if self._api is not None:
                    await self._api.aclose()
        return RunResult(self.config, url, self._total, elapsed, self._stop_requested)

    def _follower(
        self, scenario: CompiledScenario, url: str, transport: Transport
    ) -> Visibility | None:
        """--visibility: followers of accepted flow runs, reading where reads go."""
        cfg = self.config
        if not cfg.visibility:
            return None
        return Visibility(
            cfg.visibility,
            transport,
            scenario,
            cfg.read_api or url,
            lambda: self._stats,
            self._now,
            self._clock.sleep,
        )

    async def _end_at(self, seconds: float, drain: Drain, scope: anyio.CancelScope) -> None:
        """The deadline: drain (nothing new is sent), wait up to ``--grace`` for
        the requests in flight, then end the run (engine/scenario/drain.py)."""
        if seconds > 0:
            await self._clock.sleep(seconds)
        self._deadline_at = self._now()
        idle = drain.start()
        grace = self.config.grace
        if grace > 0 and not idle.is_set():
            with self._clock.deadline(grace) as waiting:
                await idle.wait()
            waiting.cancel()  # done: its timer is stale (a FakeClock then drops it)
        scope.cancel()

    async def _preflight_read_api(self, url: str) -> None:
        """A read API of its own (``--read-api``) that ``--verify`` or reads use is
        checked before any load too: a typo must not cost the whole run first."""
        cfg = self.config
        read_api = cfg.read_api
        if not read_api or read_api == url or not (cfg.verify or cfg.read_ratio):
            return
        try:
            await self._preflight(read_api)
        except TargetUnreachable as exc:
            raise TargetUnreachable(
                read_api, exc.reason, what="the read API (--read-api)", hint=exc.hint
            ) from None

    async def _await_epoch(self) -> float:
        """Say ready and wait for the go if a handshake is given, then wait for the
        common epoch if it lies ahead (:meth:`stop` cuts either wait short);
        returns how far past it the load starts (0 without an epoch)."""
        if self._epoch is None and self._ready is None:
            return 0.0
        with anyio.CancelScope() as scope:
            self._scope = scope
            if self._stop_requested:
                scope.cancel()
            if self._ready is not None:
                self._epoch = await self._ready()
            assert self._epoch is not None
            ahead = self._epoch - self._wall_clock()
            if ahead > 0:
                await self._clock.sleep(ahead)
        if self._epoch is None:  # stopped before the go: the zero is now
            self._epoch = self._wall_clock()
        return max(0.0, self._wall_clock() - self._epoch)

    async def _verify(self, result: RunResult) -> RunResult:
        """Read the sampled orders and disputes back; :meth:`stop` cuts the wait short."""
        read_api = self.config.read_api or result.target_url
        with anyio.CancelScope() as scope:
            self._scope = scope
            if self._stop_requested:
                scope.cancel()
            checked = await self._samples.check(read_api)
            return dataclasses.replace(result, verification=checked)
        return dataclasses.replace(result, stopped=True, verify_interrupted=not result.stopped)

    def _phase(self, phase: Phase) -> None:
        for sink in self._phase_sinks:
            sink.on_phase(phase)

    def _default_transport(self, config: RunConfig) -> Transport:
        return make_transport(
            config.client,
            pool_size=transport_pool(config),
            timeout=config.timeout,
            http2=config.http2,
            clock=self._now,  # completion stamps on the same clock as send stamps
            replace=replaced((*(name for name, _ in config.header_pairs()), *header_names(config))),
        )

    def _take(self, now: float) -> Snapshot:
        cpu = self._cpu_clock()
        used, self._cpu_mark = cpu - self._cpu_mark, cpu
        return self._stats.take(now, cpu_s=used)

    def _emit(self, delta: Snapshot) -> None:
        self._total = self._total + delta
        for sink in self._sinks:
            sink.on_snapshot(delta)

    async def _reporter(self) -> None:
        tick = 1
        start = anyio.current_time()
        while True:
            await anyio.sleep_until(start + tick * self._interval)
            tick += 1
            self._emit(self._take(self._now() - self._t0))
