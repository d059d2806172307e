"""A scenario compiled for sending: tables and generated builders, no file structure.

What the walker (and ``scenarios check``) needs per request is here, resolved
once: states by index, transition weights as cumulative tables, the accept
tables of each webhook, and one generated builder per state
(engine/scenario/compiler.py) that turns a flow run's variables into an
:class:`~engine.domain.contracts.Event`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from engine.domain.contracts import Event
from engine.domain.shape import Shape
from engine.scenario.expect import Table
from engine.scenario.loader import Scenario

Vars = dict[str, object]
"""One flow run's variables: drawn at its start, plus what API steps captured."""
EventBuilder = Callable[[Vars, Vars | None, random.Random], Event]
"""``build(vars, parent_vars, rng)``: one event of a state, with a fresh id."""
TextBuilder = Callable[[Vars, Vars | None, random.Random], str]
"""A URL (or other text) template: ``build(vars, parent_vars, rng)``."""
BodyBuilder = Callable[[Vars, Vars | None, random.Random], bytes]


@dataclass(frozen=True, slots=True)
class CompiledWebhook:
    name: str
    method: str
    url: str  # a path joined to --target, or an absolute URL
    absolute: bool
    first: Table
    duplicate: Table
    early: Table


@dataclass(frozen=True, slots=True)
class CompiledApi:
    name: str
    method: str
    url: TextBuilder  # joined to --read-api (else --target) unless absolute
    headers: tuple[tuple[str, str], ...]
    body: BodyBuilder | None
    accept: Table
    capture: tuple[tuple[str, tuple[str, ...]], ...]  # var, JSON path keys


@dataclass(frozen=True, slots=True)
class CompiledRead:
    url: TextBuilder
    status: tuple[str, ...]  # JSON path keys
    expect: Mapping[str, str]  # terminal state -> what the read shows
    items: tuple[tuple[str, ...], ...]
    match: tuple[tuple[tuple[str, ...], TextBuilder], ...]
    lists: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CompiledState:
    name: str
    index: int
    word: str
    terminal: bool
    webhook: int  # index into CompiledScenario.webhooks; -1 for an API step
    api: CompiledApi | None
    build: EventBuilder | None
    next: tuple[int, ...]  # state indexes
    weights: tuple[float, ...]
    max_repeats: int | None  # None: unbounded (the checks proved it is on no loop)
    children: tuple[tuple[int, float], ...]  # flow index, probability


@dataclass(frozen=True, slots=True)
class CompiledFlow:
    name: str
    index: int
    label: str
    root: float | None
    states: tuple[CompiledState, ...]
    initial: tuple[int, ...]
    initial_weights: tuple[float, ...]
    start: Callable[[Vars | None, random.Random], Vars]
    read: CompiledRead | None
    outcome_labels: Mapping[str, str]

    def state(self, name: str) -> CompiledState:
        return next(s for s in self.states if s.name == name)


@dataclass(frozen=True, slots=True)
class CompiledScenario:
    name: str
    scenario: Scenario
    webhooks: tuple[CompiledWebhook, ...]
    api: Mapping[str, CompiledApi]
    flows: tuple[CompiledFlow, ...]
    roots: tuple[int, ...]  # flow indexes with a root weight
    root_weights: tuple[float, ...]
    params: Mapping[str, float]

    def flow(self, name: str) -> CompiledFlow:
        return next(f for f in self.flows if f.name == name)

    @property
    def endpoints(self) -> tuple[str, ...]:
        """The stats' endpoint names (INTERFACES §1): webhooks, API steps, ``reads``."""
        return (*(w.name for w in self.webhooks), *self.api, "reads")

    @property
    def shape(self) -> Shape:
        """What downstream needs of this scenario (INTERFACES §1)."""
        return Shape.from_json(self.shape_json())

    def shape_json(self) -> dict[str, Any]:
        """What downstream needs of this scenario, in ``Shape.as_json()``'s form
        (engine/domain/shape.py): ``Shape.from_json(compiled.shape_json())``."""
        spec = self.scenario.spec
        return {
            "scenario": self.name,
            "endpoints": list(self.endpoints),
            "aliases": {a: n for n, w in spec.webhooks.items() for a in w.aliases},
            "flows": [
                {
                    "name": f.name,
                    "label": f.label,
                    "states": [s.name for s in f.states],
                    "terminals": [s.name for s in f.states if s.terminal],
                    "outcome_labels": dict(f.outcome_labels),
                }
                for f in self.flows
            ],
        }


def pick(rng: random.Random, items: tuple[int, ...], weights: tuple[float, ...]) -> int:
    """One of ``items`` by weight, from one draw. Equal weights pick what
    ``items[int(rng.random() * len(items))]`` picks (the hand-written walker's
    draw until December 2026)."""
    x = rng.random() * sum(weights)
    acc = 0.0
    for item, w in zip(items, weights, strict=True):
        acc += w
        if x < acc:
            return item
    return items[-1]


def json_path(path: str) -> tuple[str, ...]:
    """``$.a.b`` as ``("a", "b")``; ``$`` as ``()``."""
    return tuple(path.split(".")[1:])
