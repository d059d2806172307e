"""What the reference target reads in a scenario's events: the data
engine/scenario/receiver.py derives from a file (where each event's id, flow
run and state sit; the API steps and read-backs it serves) and
target/scenario_service.py applies. Plain values, no HTTP."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from engine.errors import UsageError
from engine.scenario.compiled import CompiledScenario
from engine.scenario.placeholders import Slot

Keys = tuple[str | int, ...]


class Unreceivable(UsageError):
    """A scenario the reference target cannot tell events apart in (exit 2)."""


@dataclass(frozen=True, slots=True)
class Locator:
    """Where a value sits in a JSON body, and the literal text around it."""

    keys: Keys
    prefix: str = ""
    suffix: str = ""
    header: str = ""  # set: the value is this request header's, not the body's

    def read(self, body: object, headers: Mapping[str, str] | None = None) -> object:
        """The value (the text between the affixes), or None when absent."""
        value: object = body
        if self.header:
            value = None if headers is None else headers.get(self.header)
        for key in self.keys:
            if isinstance(key, int):
                if not isinstance(value, list) or key >= len(value):
                    return None
                value = value[key]
            elif isinstance(value, dict):
                value = value.get(key)
            else:
                return None
        if self.prefix or self.suffix:
            if not isinstance(value, str) or len(value) < len(self.prefix) + len(self.suffix):
                return None
            if not (value.startswith(self.prefix) and value.endswith(self.suffix)):
                return None
            return value[len(self.prefix) : len(value) - len(self.suffix)]
        return value if isinstance(value, str | int | float | bool) else None


@dataclass(frozen=True, slots=True)
class VarAt:
    """A flow run's variable (``vars.X`` or ``parent.X``) and where it sits."""

    key: str  # "vars.X" | "parent.X"
    at: Locator


@dataclass(frozen=True, slots=True)
class Reader:
    """How one state's event is recognised on its webhook."""

    flow: int
    state: int
    says: tuple[tuple[Locator, str], ...]  # where {state}/{word}/{flow} sit, what each reads
    event_id: Locator | None  # None: the correlation header
    run: tuple[VarAt, ...]  # the flow run's identity (empty: a flow of API steps only)
    parent: VarAt | None  # the parent run's identity, checked loosely
    vars: tuple[VarAt, ...]  # every lone variable, remembered for the read-back

    def announced(self, body: object, headers: Mapping[str, str]) -> bool:
        """Does this event announce this reader's state (every place agrees)?"""
        return all(at.read(body, headers) == text for at, text in self.says)


@dataclass(frozen=True, slots=True)
class ApiReader:
    """An ``[api.NAME]`` served: its route, the states it moves, what it captures."""

    name: str
    method: str
    url: tuple[str | Slot, ...]
    states: tuple[tuple[int, int], ...]  # (flow, state) of each state sending it
    capture: tuple[tuple[str, Keys], ...]  # var, JSON path in the answer
    vars: tuple[VarAt, ...]  # lone variables of the request body


@dataclass(frozen=True, slots=True)
class ReadRoute:
    """A flow's ``read``: its URL's parts, where the status goes, what it shows."""

    flow: int
    url: tuple[str | Slot, ...]
    status: Keys
    expect: dict[str, str]
    items: Keys | None  # a list answer: the first ``items`` path
    match: tuple[tuple[Keys, str], ...]  # item path, run variable ("parent.order_id")


@dataclass(frozen=True, slots=True)
class Receiver:
    """Everything the target needs to receive one scenario."""

    scenario: CompiledScenario
    readers: tuple[tuple[Reader, ...], ...]  # per webhook, in the scenario's order
    event_header: str | None
    identity: tuple[str | None, ...]  # per flow: "vars.X" | "vars.X+vars.Y" | "parent.X" | None
    needs_sign: str  # the ``sign`` scheme whose id header alone carries the event id, or ""
    indexed: tuple[frozenset[str], ...]  # per flow: the variables runs are found by
    apis: tuple[ApiReader, ...]
    reads: tuple[ReadRoute, ...]
