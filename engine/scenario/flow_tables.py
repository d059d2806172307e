"""A compiled flow's run-time tables, and the runs a journey plans from them.

Built once per run (:func:`tables`): every state as the walker sends it
(:class:`Step`: its URL, endpoint id, accept tables, counter keys and
transition weights looked up once), and the planned runs
(:class:`FlowRun`, :class:`FlowJourney`) that engine/scenario/flows.py's
walker draws up front and then sends. Apart from the walker so that each
file reads in one sitting; nothing here sends or awaits.
"""

from __future__ import annotations

import dataclasses
import random
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from engine.domain.outcomes import FlowKeys
from engine.scenario.compiled import CompiledFlow, CompiledScenario, CompiledState
from engine.scenario.expect import ACCEPTS, Expect, Table
from engine.scenario.sample import join


@dataclass(frozen=True, slots=True)
class Step:
    """One state as the walker sends it: everything looked up once."""

    state: CompiledState
    endpoint: int  # stats endpoint id
    url: str  # absolute
    first: Table
    duplicate: Table | None  # None: the default rule (409 = already seen)
    early: Table | None  # None: the default rule (404/422 = refused)
    visited: str | None  # the flow counter of an accepted event, when counted
    ended: str | None  # the flow counter of ending here (terminal states)
    cum: tuple[float, ...] = ()  # the transitions' cumulative weights


def cumulative(weights: tuple[float, ...]) -> tuple[float, ...]:
    """Running sums, added in :func:`~engine.scenario.compiled.pick`'s order."""
    acc = 0.0
    out = []
    for w in weights:
        acc += w
        out.append(acc)
    return tuple(out)


def choose(rng: random.Random, items: tuple[int, ...], cum: tuple[float, ...]) -> int:
    """What :func:`~engine.scenario.compiled.pick` picks from the same draw, by
    bisection over precomputed running sums (planning runs per journey)."""
    i = bisect_right(cum, rng.random() * cum[-1])
    return items[i] if i < len(items) else items[-1]


@dataclass(frozen=True, slots=True)
class FlowTables:
    """One flow's run-time tables: its steps by state index and its counters."""

    flow: CompiledFlow
    steps: tuple[Step, ...]
    keys: FlowKeys
    bounded: bool  # any state with a max_repeats (else transitions need no filter)
    initial_cum: tuple[float, ...]
    shows: Mapping[str, str]  # terminal state -> what its read-back shows (--verify)
    read_url: str  # the read API's base for the read-back ("" without a read)


class FlowRun(NamedTuple):
    """One planned run of a flow: its states in order, the faults drawn for it,
    and the child flows that follow it once it has ended accepted.

    (A NamedTuple, immutable as a frozen dataclass and built in a third of its
    time: one or more per journey; docs/PERFORMANCE.md, section 9.)"""

    flow: FlowTables
    steps: tuple[Step, ...]
    children: tuple[FlowRun, ...]
    duplicates: int = 0  # bit i: step i is delivered again once accepted
    early: bool = False  # step 1 goes before step 0
    read_back: bool = False
    rest: int = 0  # think times of the children's steps (pacing after a rejection)


class FlowJourney(NamedTuple):
    """One VU iteration of a scenario file: a root flow run (and its children)."""

    root: FlowRun
    rng: random.Random  # draws the events' values (amounts, choices) as they are built
    retry_seed: int = 0


def allowed(
    state: CompiledState, states: tuple[CompiledState, ...], entered: list[int]
) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """The transitions out of ``state`` whose target is still under its bound."""
    nxt: list[int] = []
    weights: list[float] = []
    for s, w in zip(state.next, state.weights, strict=True):
        bound = states[s].max_repeats
        if bound is None or entered[s] < bound:
            nxt.append(s)
            weights.append(w)
    return tuple(nxt), tuple(weights)


def tables(
    scenario: CompiledScenario,
    flow: CompiledFlow,
    target: str,
    base: str,
    success: Table | None = None,
) -> FlowTables:
    """A flow's run-time tables, built once per run. ``success``: the delivery
    policy's (issue 22), a first delivery's expected answers unless its webhook
    says its own (``accept.first``)."""
    default_first = ACCEPTS[Expect.FIRST]
    shown = flow.outcome_labels
    keys = FlowKeys.of(
        flow.name,
        tuple(s.name for s in flow.states if s.terminal),
        tuple(s.name for s in flow.states if s.name in shown and not s.terminal),
    )
    n_hooks = len(scenario.webhooks)
    api_ids = {name: n_hooks + i for i, name in enumerate(scenario.api)}
    steps: list[Step] = []
    for st in flow.states:
        if st.api is not None:
            visited = keys.visited.get(st.name)
            endpoint = api_ids[st.api.name]
            steps.append(
                Step(st, endpoint, "", st.api.accept, None, None, visited, end_key(keys, st))
            )
            continue
        hook = scenario.webhooks[st.webhook]
        steps.append(
            Step(
                st,
                st.webhook,
                hook.url if hook.absolute else join(target, hook.url),
                success if success is not None and hook.first is default_first else hook.first,
                None if hook.duplicate is ACCEPTS[Expect.DUPLICATE] else hook.duplicate,
                None if hook.early is ACCEPTS[Expect.EARLY] else hook.early,
                keys.visited.get(st.name),
                end_key(keys, st),
            )
        )
    steps = [dataclasses.replace(s, cum=cumulative(s.state.weights)) for s in steps]
    return FlowTables(
        flow,
        tuple(steps),
        keys,
        any(s.max_repeats is not None for s in flow.states),
        cumulative(flow.initial_weights),
        flow.read.expect if flow.read is not None else {},
        base if flow.read is not None else "",
    )


def end_key(keys: FlowKeys, state: CompiledState) -> str | None:
    return keys.ended.get(state.name) if state.terminal else None
