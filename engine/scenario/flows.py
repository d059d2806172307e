"""Walking a compiled scenario file's flows through a transport (``--scenario``).

Every run's walker (``--contract ingest|plan`` and the default are the
built-in files of those names): the load models drive it
(:meth:`FlowWalker.plan` draws a journey from a VU's RNG, :meth:`FlowWalker.walk`
sends it), the same sender judges and records each request
(engine/scenario/send.py), the same faults go out (engine/scenario/faults.py),
with the same think time, latency correction and retries.

A journey is a root flow (drawn by the roots' weights) run from an initial
state along weighted transitions to a terminal state, no state entered more
than its ``max_repeats``; every child a state names is drawn with its
probability. Every choice is drawn up front (:meth:`FlowWalker.plan`), so
``--seed`` repeats the journeys whatever the service answers. Values (ids,
amounts) are drawn as the events are built.

A child flow starts once its parent has ended with every step accepted (a
dispute after an accepted ``success``), with no think time before its first
step, children in the order their states were visited. A rejected step ends
its flow there (``aborted``) and the journey with it; a cut-off one is
``unfinished``; each flow that ran to a terminal state counts
``ended.<terminal>``, so per flow started = ended + aborted + unfinished
(INTERFACES §3). A state's accepted events are counted as ``visited`` when
the flow's ``outcome_labels`` name the state (what the outputs show).

Faults: ``--duplicate-rate`` delivers an accepted webhook again, judged by
its webhook's ``accept.duplicate``; ``--reorder-rate`` sends a flow's second
event before its first (both webhooks), judged by ``accept.early``; an early
event that was accepted is, in its turn, a duplicate. Per request, all of
this is precomputed: URLs, endpoint ids, accept tables, counter keys.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable

import anyio

from engine.domain.contracts import Event
from engine.domain.policies import Policy
from engine.metrics.stats import Stats
from engine.scenario.api_step import call_api
from engine.scenario.compiled import CompiledScenario, Vars, pick
from engine.scenario.delivery import Dressing
from engine.scenario.drain import Drain, park
from engine.scenario.expect import ACCEPTS, Expect
from engine.scenario.faults import Faults
from engine.scenario.flow_tables import (
    FlowJourney,
    FlowRun,
    FlowTables,
    Step,
    allowed,
    choose,
    tables,
)
from engine.scenario.retry import Retry, RetryPlan
from engine.scenario.sample import MAX_STEPS, join
from engine.scenario.send import Sender
from engine.transports import Transport, TransportError
from engine.transports.api_client import ApiClient

_READ = ACCEPTS[Expect.READ]
_READ_BACK = ACCEPTS[Expect.READ_BACK]  # its own object: a 404 is "not yet visible"

OnEnd = Callable[[str, str, Vars, Vars | None, str], None]
"""``on_end(flow, shows, vars, parent_vars, event_id)``: a flow run ended with
every step accepted in a terminal state whose read-back shows ``shows`` (the
``--verify`` sample; ``event_id``: its last event's)."""


class FlowWalker(Sender):
    """Sends a compiled scenario's journeys for every virtual user of a run.

    ``now`` times requests (the transport stamps completion on the same
    clock); ``sleep`` pauses the think time; ``dressing`` adds the ``--header``
    pairs and the signature to every webhook; ``on_end`` hears of each flow run
    that ended accepted (``--verify``, ``--visibility``). With the compiled
    scenario, the target and read API bases, and the rates the plan draws
    faults and read-backs by."""

    __slots__ = (
        "_api",
        "_api_base",
        "_faults",
        "_flows",
        "_lists",
        "_on_end",
        "_reads",
        "_reads_done",
        "_retries",
        "_retry_plan",
        "_roots",
        "_think",
        "answers_wait",
        "duplicate_rate",
        "read_ratio",
        "reorder_rate",
    )

    def __init__(
        self,
        *,
        transport: Transport,
        stats: Stats,
        scenario: CompiledScenario,
        target: str,
        read_api: str | None = None,
        read_mix: str = "id",
        think: float,
        now: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
        dressing: Dressing | None = None,
        retries: int = 0,
        read_ratio: float = 0.0,
        duplicate_rate: float = 0.0,
        reorder_rate: float = 0.0,
        drain: Drain | None = None,
        api_client: ApiClient | None = None,
        on_end: OnEnd | None = None,
        policy: Policy | None = None,
        retry_speed: float = 1.0,
    ) -> None:
        self._transport = transport
        self._stats = stats
        self._now = now
        self._sleep = sleep
        self._dress = dressing.headers if dressing is not None and dressing.needed else None
        self._drain = drain if drain is not None else Drain()
        self._faults = Faults(transport, stats, now, self._dress, self._drain)
        self._think = think
        self._retries = retries
        # issue 22: the scenario's delivery policy times answers and plays retries
        self._slow = None if policy is None else policy.timeout
        self._retry_plan = (
            RetryPlan.of(policy, retries, retry_speed) if policy and retries else None
        )
        self.read_ratio = read_ratio
        self.duplicate_rate = duplicate_rate
        self.reorder_rate = reorder_rate
        base = read_api or target
        self._api = api_client
        self._on_end = on_end
        self._api_base = base
        if scenario.api and api_client is None:
            raise ValueError("a scenario with API steps needs an api_client")
        success = None if policy is None else policy.success_table()
        self._flows = tuple(tables(scenario, f, target, base, success) for f in scenario.flows)
        self._roots = (scenario.roots, scenario.root_weights)
        self._reads = len(scenario.endpoints) - 1  # "reads" is the last endpoint
        self._reads_done = 0
        self._lists = read_mix == "api"
        # every journey walked accepted has waited for the loop: the closed model
        # then yields no extra turn after it (engine/load/closed.py)
        self.answers_wait: bool = getattr(transport, "answers_wait", False)

    # -- planning: every choice drawn up front --------------------------------------

    def plan(self, rng: random.Random) -> FlowJourney:
        """Draw every choice of one journey from ``rng`` (a VU's stream)."""
        roots, weights = self._roots
        root = self._flows[roots[0] if len(roots) == 1 else pick(rng, roots, weights)]
        run = self._plan(root, rng, True)
        return FlowJourney(run, rng, rng.getrandbits(32) if self._retries else 0)

    def _plan(self, flow: FlowTables, rng: random.Random, root: bool) -> FlowRun:
        cf = flow.flow
        states = cf.states
        steps: list[Step] = []
        entered = [0] * len(states) if flow.bounded else []
        full = 0  # states entered as often as their bound allows: only then a filter
        step = flow.steps[choose(rng, cf.initial, flow.initial_cum)]
        while len(steps) < MAX_STEPS:
            steps.append(step)
            state = step.state
            if state.terminal:
                break
            if flow.bounded:
                i = state.index
                entered[i] += 1
                if entered[i] == state.max_repeats:
                    full += 1
            if full:
                nxt, weights = allowed(state, states, entered)
                step = flow.steps[pick(rng, nxt, weights)]
            else:
                step = flow.steps[choose(rng, state.next, step.cum)]
        children: list[FlowRun] = []
        for step in steps:
            for child, probability in step.state.children:
                if rng.random() < probability:
                    children.append(self._plan(self._flows[child], rng, False))
        duplicates = 0
        if self.duplicate_rate:
            for i in range(len(steps)):
                if rng.random() < self.duplicate_rate:
                    duplicates |= 1 << i
        early = False
        if self.reorder_rate:
            early = (
                rng.random() < self.reorder_rate
                and len(steps) > 1
                and steps[0].state.build is not None
                and steps[1].state.build is not None
            )
        read_back = bool(root and flow.read_url and self.read_ratio) and (
            rng.random() < self.read_ratio
        )
        rest = sum(len(c.steps) - 1 + c.rest for c in children)
        return FlowRun(flow, tuple(steps), tuple(children), duplicates, early, read_back, rest)

    # -- sending ---------------------------------------------------------------------

    async def walk(self, journey: FlowJourney, intended: float | None = None) -> float | None:
        """Send one journey. None when every step was accepted; else the think time
        its remaining steps (its children's too) would have taken, so the load
        model keeps a failing service's load no higher than a healthy one's.
        ``intended``: when it was meant to start (the open model); latencies
        are then corrected: each request's latency counts from its step's
        place in the provider's schedule (``intended + i * think``), its
        service time from its actual send, as wrk2 and oha's
        ``--latency-correction`` do."""
        retry = (
            Retry(journey.retry_seed, self._retries, self._retry_plan) if self._retries else None
        )
        rest, _ = await self._run(journey.root, None, journey.rng, retry, intended)
        return rest

    async def _run(
        self,
        run: FlowRun,
        parent: Vars | None,
        rng: random.Random,
        retry: Retry | None,
        intended: float | None,
    ) -> tuple[float | None, float | None]:
        """One flow run, then its read-back and children: (what :meth:`walk`
        returns, the intended time of its last step)."""
        stats = self._stats
        think = self._think
        faults = self._faults
        drain = self._drain
        now = self._now
        flow = run.flow
        keys = flow.keys
        steps = run.steps
        dups = run.duplicates
        v = flow.flow.start(parent, rng)
        ahead: Event | None = None  # sent early; delivered again in its turn
        first: Event | None = None
        ahead_ok = False
        event: Event | None = None
        last_i = len(steps) - 1
        all_in = False  # the last step was accepted: only its re-delivery may follow
        if self._drain.draining:  # the deadline came: no flow begins in the grace
            await park()
        stats.scenario(keys.started)
        try:
            if run.early:
                s0, s1 = steps[0], steps[1]
                assert s0.state.build is not None and s1.state.build is not None
                first = s0.state.build(v, parent, rng)
                ahead = s1.state.build(v, parent, rng)
                ahead_ok = await faults.early(s1.endpoint, s1.url, ahead, s1.early)
                if ahead_ok and s1.visited is not None:  # accepted now, whatever cuts the rest
                    stats.scenario(s1.visited)
            for i, step in enumerate(steps):
                if i and think:
                    await self._sleep(think)
                build = step.state.build
                if build is None:  # an API step: its answer binds values into v
                    api = step.state.api
                    assert api is not None and self._api is not None
                    due = None if intended is None else intended + i * think
                    if not await call_api(
                        self._api,
                        stats,
                        self._now,
                        step.endpoint,
                        self._api_base,
                        api,
                        v,
                        parent,
                        rng,
                        due,
                        self._drain,
                    ):
                        stats.scenario(keys.aborted)
                        return (len(steps) - 1 - i + run.rest) * think, None
                    if step.visited is not None:
                        stats.scenario(step.visited)
                    continue
                if ahead is not None and i < 2:
                    event = first if i == 0 else ahead
                    assert event is not None
                    if i == 1 and ahead_ok:  # it applied early (counted): now a re-delivery
                        all_in = i == last_i
                        await faults.again(step.endpoint, step.url, event, step.duplicate)
                        continue
                else:
                    event = build(v, parent, rng)
                due = None if intended is None else intended + i * think
                if retry is None and not drain.draining:
                    # Sender._send's one attempt, inlined: no coroutine of its own
                    # per request (docs/PERFORMANCE.md, section 9)
                    drain.inflight += 1
                    t0 = now()
                    try:
                        reply = await self._post(step.url, event)
                    except TransportError as exc:
                        drain.left(stats)
                        ok = self._failed(step.endpoint, exc, event)
                    except anyio.get_cancelled_exc_class():
                        drain.inflight -= 1
                        stats.record_cancelled()
                        raise
                    else:
                        drain.left(stats)
                        if self._slow is not None:  # a delivery policy times it (issue 22)
                            self._timed(reply[1] - t0)
                        ok = self._record(step.endpoint, reply, t0, due, event, step.first)
                else:
                    ok = await self._send(step.endpoint, step.url, event, step.first, retry, due)
                if not ok:
                    stats.scenario(keys.aborted)
                    return (len(steps) - 1 - i + run.rest) * think, None
                # counted once accepted, before its duplicate: a deadline that cuts
                # the duplicate must not lose an event the receiver applied
                if step.visited is not None:
                    stats.scenario(step.visited)
                all_in = i == last_i
                if dups and (dups >> i) & 1:
                    await faults.again(step.endpoint, step.url, event, step.duplicate)
        except anyio.get_cancelled_exc_class():
            # cut off by the deadline or a stop; a flow whose last event was
            # accepted has ended though its re-delivery was cut
            ended = steps[-1].ended if all_in else keys.unfinished
            if ended is not None:
                stats.scenario(ended)
            raise
        ended = steps[-1].ended
        if ended is not None:
            stats.scenario(ended)
            on_end = self._on_end
            if on_end is not None and (shows := flow.shows.get(steps[-1].state.name)):
                on_end(flow.flow.name, shows, v, parent, "" if event is None else event.event_id)
        # the read-back and the children follow the last step without a think
        last = None if intended is None else intended + (len(steps) - 1) * think
        if run.read_back:
            url, own = self._read_url(flow, v, parent, rng)
            if own:  # issue 19: accepted but not readable yet is no error
                await self._send(self._reads, url, None, _READ_BACK, None, None, 404)
            else:
                await self._send(self._reads, url, None, _READ)
        for child in run.children:
            rest, child_last = await self._run(child, v, rng, retry, last)
            if rest is not None:
                return rest, None
            last = child_last
        return None, last

    def _read_url(
        self, flow: FlowTables, v: Vars, parent: Vars | None, rng: random.Random
    ) -> tuple[str, bool]:
        """The flow's read URL, and whether it reads the flow's own object (else
        a list: with ``--read-mix api``, the lists take turns with it)."""
        read = flow.flow.read
        assert read is not None
        if self._lists and read.lists:
            turn = self._reads_done % (len(read.lists) + 1)
            self._reads_done += 1
            if turn:
                return join(flow.read_url, read.lists[turn - 1]), False
        return join(flow.read_url, read.url(v, parent, rng)), True
