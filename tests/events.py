"""Ingest's and plan's events for tests that feed a target by hand, built by
the built-in scenario files (what a run sends), not by hand-written code.

``ScenarioEvents("ingest")`` speaks in the old builders' words: an order is
made once (its flow variables and its dispute's, fixed across its events),
``order_event(order, status)`` and ``chargeback_event(order, status,
resolution)`` build one event each (``closed`` with ``won``/``lost`` is the
file's ``won``/``lost`` state; a status or resolution the file has no state
of is written into a body as given, for tests of what a target refuses).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import orjson

from engine.domain.contracts import Event
from engine.domain.ids import new_uuid
from engine.scenario.compiled import CompiledScenario, Vars
from engine.scenario.compiler import compile_scenario
from engine.scenario.loader import load_scenario


@dataclass(frozen=True, slots=True)
class Order:
    """An order's variables (its flow's) and its dispute's, fixed at creation."""

    vars: Vars
    dispute: Vars = field(default_factory=dict)

    @property
    def order_id(self) -> str:
        return str(self.vars["order_id"])

    @property
    def user_id(self) -> str:
        return str(self.vars.get("user_id", ""))

    @property
    def created_at(self) -> str:
        return str(self.vars.get("created_at", ""))


class ScenarioEvents:
    """Events of the built-in scenario ``name`` (``ingest`` or ``plan``)."""

    def __init__(self, name: str = "ingest") -> None:
        self.name = name
        self.compiled: CompiledScenario = compile_scenario(load_scenario(name))
        self._rng = random.Random(0)  # ingest and plan draw nothing else from it

    def new_order(self, order_id: str | None = None) -> Order:
        """A new order (``order_id`` given: that id, the rest drawn)."""
        v = self.compiled.flow("order").start(None, self._rng)
        if order_id is not None:
            v = {**v, "order_id": order_id}
        return Order(v, self.compiled.flow("dispute").start(v, self._rng))

    def order_event(self, order: Order, status: str) -> Event:
        """``status``'s event; a status the file has no state of (a test of what a
        target refuses) is ``created``'s event carrying that status."""
        flow = self.compiled.flow("order")
        known = any(s.name == status for s in flow.states)
        build = flow.state(status if known else "created").build
        assert build is not None
        event = build(order.vars, None, self._rng)
        return event if known else _patched(event, status=status)

    def chargeback_event(self, order: Order, status: str, resolution: str | None) -> Event:
        """As the old builder: ``opened``/``updated`` carry ``evidence_due_at``,
        a resolution is ``meta.resolution``, whatever the status (for tests of
        what a target refuses: ``closed`` without one, an unknown status)."""
        flow = self.compiled.flow("dispute")
        if status in ("opened", "updated"):
            state = status
        elif status == "closed" and resolution in ("won", "lost"):
            state = resolution
        else:
            state = "won"
        build = flow.state(state).build
        assert build is not None
        event = build(order.dispute, order.vars, self._rng)
        if state in (status, resolution):
            return event
        meta = None if resolution is None else {"resolution": resolution}
        return _patched(event, status=status, meta=meta)


def _patched(event: Event, **fields: object) -> Event:
    """``event`` with body fields replaced (None: removed), same id and headers."""
    body: dict[str, Any] = orjson.loads(event.body)
    for key, value in fields.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return Event(event.event_id, event.headers, orjson.dumps(body))


def any_order() -> Order:
    """An ingest order with fresh ids, for a test that needs only one."""
    return ScenarioEvents().new_order(new_uuid())
