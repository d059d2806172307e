"""The closed-model run: N virtual users looping order -> maybe dispute.

Written on anyio: one task group of VUs inside a cancel scope whose deadline
is the run's duration. At the deadline (or on :meth:`Runner.stop`) every
request in flight is cancelled at once and counted as
``cancelled_at_deadline``, so a hanging target never stretches the run; the
order or dispute it belonged to counts as ``unfinished``.
A reporter task hands a snapshot delta to ``on_snapshot`` every 250 ms.

Pacing does not depend on the service's answers. A VU pauses ``think``
between the steps of a journey (an order, then maybe its dispute). When a
step is rejected (an error status or no response), the journey ends there,
and the VU first waits the think time the journey's remaining steps would
have taken, and at least one think time. Without that, a failed first step
started the next journey at once, and a struggling or down service got many
times the load of a healthy one, exactly when it should get less. With
``--think 0`` (max mode) there is no pause to keep, but the VU still yields
to the event loop after every failed journey: a transport may fail without
ever yielding (aiohttp out of file descriptors), and a loop that never
yields never sees its deadline or Ctrl+C.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass

import anyio

from engine.config import BUILTIN, RunConfig, with_seed
from engine.domain.contracts import CHARGEBACKS_PATH, ORDERS_PATH, Contract, OrderRef, make_contract
from engine.domain.statuses import OrderStatus, Resolution
from engine.metrics.saturation import sample_loop_lag
from engine.metrics.stats import DISPUTES, ORDERS, READS, Snapshot, Stats
from engine.run.builtin_target import builtin_target
from engine.run.preflight import check_reachable
from engine.run.verify import OrderSample, Verification, sample_rng, verify_orders
from engine.scenario.journeys import DisputePlan, Journey, plan_journey, vu_rng
from engine.transports import Transport, TransportError, make_transport

SnapshotSink = Callable[[Snapshot], None]
SNAPSHOT_INTERVAL = 0.25


@dataclass(frozen=True, slots=True)
class Phase:
    """What the run is doing now, for a consumer that shows it (the engine never
    prints): ``load`` once the target is up and load starts, ``verifying`` when
    ``--verify`` reads the sampled orders back after the load."""

    name: str  # "load" | "verifying"
    orders: int = 0  # verifying: how many sampled orders are read back
    wait_s: float = 0.0  # verifying: the longest it waits for them


PhaseSink = Callable[[Phase], None]


@dataclass(frozen=True, slots=True)
class RunResult:
    """The outcome of a run: the merged total of every delta, and how it ended."""

    config: RunConfig  # with the seed the run used, drawn when none was given
    target_url: str
    total: Snapshot
    elapsed: float  # the load's span; when stopped, the time of the stop
    stopped: bool
    verification: Verification | None = None  # with --verify, unless stopped


class Runner:
    """Runs one load test. ``await runner.run()``; ``runner.stop()`` ends it early.

    ``clock`` (seconds, monotonic) times requests and stamps snapshots; tests
    inject a fake one. ``transport_factory`` replaces the HTTP client.
    ``self.config`` is the run's config with its seed: ``config.seed`` when
    given, else one drawn here.

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
    """

    def __init__(
        self,
        config: RunConfig,
        *,
        on_snapshot: SnapshotSink | None = None,
        on_phase: PhaseSink | None = None,
        clock: Callable[[], float] = time.perf_counter,
        cpu_clock: Callable[[], float] = time.process_time,
        transport_factory: Callable[[RunConfig], Transport] | None = None,
        snapshot_interval: float = SNAPSHOT_INTERVAL,
        shard: int = 0,
        epoch: float | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config = with_seed(config)
        self.shard = shard
        self._epoch = epoch
        self._wall_clock = wall_clock
        self._on_snapshot = on_snapshot
        self._on_phase = on_phase
        self._clock = clock
        self._cpu_clock = cpu_clock
        self._cpu_mark = 0.0
        self._transport_factory = transport_factory or self._default_transport
        self._interval = snapshot_interval
        self._scope: anyio.CancelScope | None = None
        self._stop_requested = False
        self._t0 = 0.0
        self._stats = Stats()
        self._total = Snapshot()
        self._contract: Contract = make_contract(config.contract)
        self._transport: Transport | None = None
        self._orders_url = ""
        self._chargebacks_url = ""
        self._read_base = ""
        self._sample = OrderSample(config.verify, sample_rng(config.seed, shard))

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
                url = await stack.enter_async_context(
                    builtin_target(mode=self.config.target_mode, contract=self.config.contract)
                )
            await check_reachable(url)
            self._phase(Phase("load"))
            result = await self._run_against(url)
            if self.config.verify and self._sample.items and not self._stop_requested:
                self._phase(Phase("verifying", len(self._sample.items), self.config.verify_wait))
                result = await self._verify(result)
            return result
        raise AssertionError("unreachable")  # pragma: no cover - keeps mypy calm

    async def _run_against(self, url: str) -> RunResult:
        self._orders_url = url + ORDERS_PATH
        self._chargebacks_url = url + CHARGEBACKS_PATH
        self._read_base = (self.config.read_api or url) + "/orders/"
        transport = self._transport = self._transport_factory(self.config)
        duration = self.config.duration
        offset = await self._await_epoch()
        self._t0 = self._clock() - offset
        self._cpu_mark = self._cpu_clock()
        self._stats = Stats(since=offset, shard=self.shard)
        deadline = anyio.current_time() + duration - offset if duration > 0 else math.inf
        try:
            with anyio.CancelScope(deadline=deadline) as scope:
                self._scope = scope
                if self._stop_requested:
                    scope.cancel()
                async with anyio.create_task_group() as tg:
                    tg.start_soon(self._reporter)
                    tg.start_soon(sample_loop_lag, lambda: self._stats, self._clock)
                    for i in range(self.config.vus):
                        tg.start_soon(self._vu, i)
        finally:
            elapsed = self._clock() - self._t0
            self._emit(self._take(elapsed))
            with anyio.move_on_after(1, shield=True):
                await transport.aclose()
        return RunResult(self.config, url, self._total, elapsed, self._stop_requested)

    async def _await_epoch(self) -> float:
        """Wait for the common epoch if it lies ahead (:meth:`stop` cuts the wait
        short); returns how far past it the load starts (0 without an epoch)."""
        if self._epoch is None:
            return 0.0
        with anyio.CancelScope() as scope:
            self._scope = scope
            if self._stop_requested:
                scope.cancel()
            ahead = self._epoch - self._wall_clock()
            if ahead > 0:
                await anyio.sleep(ahead)
        return max(0.0, self._wall_clock() - self._epoch)

    async def _verify(self, result: RunResult) -> RunResult:
        """Read the sampled orders back; :meth:`stop` cuts the wait short."""
        read_api = self.config.read_api or result.target_url
        with anyio.CancelScope() as scope:
            self._scope = scope
            if self._stop_requested:
                scope.cancel()
            checked = await verify_orders(read_api, self._sample.items, self.config.verify_wait)
            return dataclasses.replace(result, verification=checked)
        return dataclasses.replace(result, stopped=True)

    def _phase(self, phase: Phase) -> None:
        if self._on_phase is not None:
            self._on_phase(phase)

    def _default_transport(self, config: RunConfig) -> Transport:
        return make_transport(
            config.client,
            pool_size=config.vus,
            timeout=config.timeout,
            http2=config.http2,
            clock=self._clock,  # completion stamps on the same clock as send stamps
        )

    def _take(self, now: float) -> Snapshot:
        cpu = self._cpu_clock()
        used, self._cpu_mark = cpu - self._cpu_mark, cpu
        return self._stats.take(now, cpu_s=used)

    def _emit(self, delta: Snapshot) -> None:
        self._total = self._total + delta
        if self._on_snapshot is not None:
            self._on_snapshot(delta)

    async def _reporter(self) -> None:
        tick = 1
        start = anyio.current_time()
        while True:
            await anyio.sleep_until(start + tick * self._interval)
            tick += 1
            self._emit(self._take(self._clock() - self._t0))

    async def _send(self, endpoint: int, url: str, body: bytes | None) -> bool:
        """One request, recorded; True when the service accepted it (< 400)."""
        assert self._transport is not None
        clock = self._clock
        t0 = clock()
        try:
            if body is None:
                status, done, body_head = await self._transport.get(url)
            else:
                status, done, body_head = await self._transport.post(url, body)
        except TransportError as exc:
            # str(exc) is "kind: detail" (or just "kind"); the kind is recorded apart
            detail = str(exc).removeprefix(exc.kind).removeprefix(": ")
            self._stats.record_error(endpoint, exc.kind, detail)
            return False
        except anyio.get_cancelled_exc_class():
            self._stats.record_cancelled()
            raise
        return self._stats.record_response(endpoint, status, int((done - t0) * 1e6), body_head)

    async def _vu(self, index: int) -> None:
        """Journeys back to back; paced after a rejected step (see the module docstring)."""
        cfg = self.config
        rng = vu_rng(cfg.seed, self.shard, index)
        think = cfg.think
        while True:
            journey = plan_journey(
                rng,
                max_updates=cfg.max_updates,
                dispute_ratio=cfg.dispute_ratio,
                read_ratio=cfg.read_ratio,
            )
            thinks_left = await self._journey(journey)
            if thinks_left is not None:
                # also the yield a transport that fails without one never made
                await anyio.sleep(max(1, thinks_left) * think)

    async def _journey(self, journey: Journey) -> int | None:
        """Send one journey. None when every step was accepted; else it ended at a
        rejected step, and this is how many think pauses its remaining steps
        (the dispute's too) would have taken."""
        stats = self._stats
        contract = self._contract
        think = self.config.think
        steps = journey.order
        dispute_thinks = len(journey.dispute.statuses) - 1 if journey.dispute is not None else 0
        order = OrderRef()
        stats.scenario("orders_started")
        try:
            for step, status in enumerate(steps):
                if step and think:
                    await anyio.sleep(think)
                body = contract.order_event(order, status)
                if not await self._send(ORDERS, self._orders_url, body):
                    stats.scenario("orders_aborted")
                    return len(steps) - 1 - step + dispute_thinks
        except anyio.get_cancelled_exc_class():
            stats.scenario("orders_unfinished")  # cut off by the deadline or a stop
            raise
        final = steps[-1]
        stats.scenario("orders_success" if final is OrderStatus.SUCCESS else "orders_failed")
        self._sample.offer(order.order_id, final.value)
        if journey.read_back:
            await self._send(READS, self._read_base + order.order_id, None)
        if journey.dispute is not None:
            return await self._dispute(order, journey.dispute)
        return None

    async def _dispute(self, order: OrderRef, plan: DisputePlan) -> int | None:
        """Like :meth:`_journey`, for the dispute that follows an accepted success."""
        stats = self._stats
        think = self.config.think
        steps = plan.statuses
        stats.scenario("disputes_opened")  # begun; it ends won, lost, aborted or unfinished
        try:
            for step, status in enumerate(steps):
                if step and think:
                    await anyio.sleep(think)
                res = plan.resolution if status == "closed" else None
                body = self._contract.chargeback_event(order, status, res)
                if not await self._send(DISPUTES, self._chargebacks_url, body):
                    stats.scenario("disputes_aborted")
                    return len(steps) - 1 - step
                if status == "updated":
                    stats.scenario("disputes_updated")
        except anyio.get_cancelled_exc_class():
            stats.scenario("disputes_unfinished")
            raise
        stats.scenario("disputes_won" if plan.resolution is Resolution.WON else "disputes_lost")
        return None
