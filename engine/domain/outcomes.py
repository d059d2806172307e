"""What a request or a journey can come to, as the domain's other names are: enums.

Here, below both the transports (which raise an :class:`ErrorKind`) and the
metrics (which count both), because neither of those layers may import the
other. StrEnums, so each member *is* its string: counters keyed by a member
are looked up by the plain name, and every report prints the same text.
One catch: orjson takes no ``str`` subclass as a dict *key*, so the ordered
name tuples the reports build their JSON from hold the plain values
(``ERROR_KINDS``, ``SCENARIO_KEYS`` in :mod:`engine.metrics.stats`).

Flow counters (INTERFACES §3): a journey's outcomes are counted under keys
named by the scenario's own flows and states, built here and nowhere else:
``order.started``, ``order.ended.success``, ``dispute.visited.updated``...
Per flow, started = sum(ended.*) + aborted + unfinished. ``ingest``'s older
names (``orders_started``...: :class:`ScenarioKey`, still the JSON's and
Prometheus' keys for it) are derived from them by :func:`scenario_counts`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from engine.domain.shape import FlowShape, Shape


class ErrorKind(StrEnum):
    """Why a request failed: no response (``connect``, ``timeout``, ``other``),
    a response past the bounds on what a server may send (``oversized``: a head
    over 64 KiB, too many interim answers, a body over 4 MiB; docs/HOSTILE.md),
    or a response that was not the one expected (``redirect``: a 3xx, which is
    never followed; ``http_4xx``, ``http_5xx``)."""

    CONNECT = "connect"
    TIMEOUT = "timeout"
    HTTP_4XX = "http_4xx"
    HTTP_5XX = "http_5xx"
    OTHER = "other"
    OVERSIZED = "oversized"
    REDIRECT = "redirect"


class ScenarioKey(StrEnum):
    """``ingest``'s (and ``plan``'s) outcome names, as its JSON, Prometheus and
    HTML report print them; each is a flow counter (:data:`LEGACY_KEYS`).
    Outcomes partition what was begun:
    ``orders_started`` = success + failed + aborted (a step rejected) +
    unfinished (cut off by the deadline or a stop); ``disputes_opened``
    (disputes begun) = won + lost + aborted + unfinished."""

    ORDERS_STARTED = "orders_started"
    ORDERS_SUCCESS = "orders_success"
    ORDERS_FAILED = "orders_failed"
    ORDERS_ABORTED = "orders_aborted"
    ORDERS_UNFINISHED = "orders_unfinished"
    DISPUTES_OPENED = "disputes_opened"
    DISPUTES_UPDATED = "disputes_updated"
    DISPUTES_WON = "disputes_won"
    DISPUTES_LOST = "disputes_lost"
    DISPUTES_ABORTED = "disputes_aborted"
    DISPUTES_UNFINISHED = "disputes_unfinished"


def flow_started(flow: str) -> str:
    """A journey of ``flow`` began (its first step is about to be sent)."""
    return f"{flow}.started"


def flow_aborted(flow: str) -> str:
    """A step was rejected (or got no answer): the journey ended there."""
    return f"{flow}.aborted"


def flow_unfinished(flow: str) -> str:
    """Cut off by the deadline or a stop."""
    return f"{flow}.unfinished"


def flow_ended(flow: str, terminal: str) -> str:
    """Every step accepted, ending in ``terminal`` (the flow's outcome)."""
    return f"{flow}.ended.{terminal}"


def flow_visited(flow: str, state: str) -> str:
    """One accepted event of ``state`` (a state may repeat; optional per state)."""
    return f"{flow}.visited.{state}"


@dataclass(frozen=True, slots=True)
class FlowKeys:
    """One flow's counter keys, built once per flow: the walker's hot path
    looks an attribute up instead of formatting a string per journey."""

    started: str
    aborted: str
    unfinished: str
    ended: Mapping[str, str]  # terminal -> key
    visited: Mapping[str, str]  # state -> key

    @classmethod
    def of(cls, flow: str, terminals: tuple[str, ...], states: tuple[str, ...] = ()) -> FlowKeys:
        return cls(
            flow_started(flow),
            flow_aborted(flow),
            flow_unfinished(flow),
            MappingProxyType({t: flow_ended(flow, t) for t in terminals}),
            MappingProxyType({s: flow_visited(flow, s) for s in states}),
        )

    @classmethod
    def for_flow(cls, flow: FlowShape) -> FlowKeys:
        return cls.of(flow.name, flow.terminals, flow.states)


LEGACY_KEYS: Mapping[str, str] = MappingProxyType(
    {
        ScenarioKey.ORDERS_STARTED.value: flow_started("order"),
        ScenarioKey.ORDERS_SUCCESS.value: flow_ended("order", "success"),
        ScenarioKey.ORDERS_FAILED.value: flow_ended("order", "failed"),
        ScenarioKey.ORDERS_ABORTED.value: flow_aborted("order"),
        ScenarioKey.ORDERS_UNFINISHED.value: flow_unfinished("order"),
        ScenarioKey.DISPUTES_OPENED.value: flow_started("dispute"),
        ScenarioKey.DISPUTES_UPDATED.value: flow_visited("dispute", "updated"),
        ScenarioKey.DISPUTES_WON.value: flow_ended("dispute", "won"),
        ScenarioKey.DISPUTES_LOST.value: flow_ended("dispute", "lost"),
        ScenarioKey.DISPUTES_ABORTED.value: flow_aborted("dispute"),
        ScenarioKey.DISPUTES_UNFINISHED.value: flow_unfinished("dispute"),
    }
)
"""``ingest``'s outcome names -> the flow counter each one is, in the enum's order."""


def has_legacy_names(shape: Shape) -> bool:
    """Whether ``shape`` is ``ingest``'s orders and disputes (``plan`` too), whose
    outputs keep their older outcome names."""
    return [(f.name, f.terminals) for f in shape.flows] == [
        ("order", ("success", "failed")),
        ("dispute", ("won", "lost")),
    ]


def flow_counts(flow: FlowShape, counters: Mapping[str, int]) -> dict[str, Any]:
    """One flow's counters as the JSON's ``flows`` object holds them: outcomes
    by their display words, visited states by name."""
    name = flow.name
    return {
        "label": flow.label,
        "started": counters.get(flow_started(name), 0),
        # by outcome, in the flow's display words (an order's payment_failed);
        # the shape's outcome_labels map them back to the terminal states
        "ended": {
            flow.outcome_label(t): counters.get(flow_ended(name, t), 0) for t in flow.terminals
        },
        "aborted": counters.get(flow_aborted(name), 0),
        "unfinished": counters.get(flow_unfinished(name), 0),
        # states counted as visited: those that happened, and the non-terminal
        # ones the shape names in outcome_labels (shown even at 0: a dispute's
        # updated)
        "visited": {
            s: n
            for s in flow.states
            if (n := counters.get(flow_visited(name, s), 0))
            or (s in flow.outcome_labels and s not in flow.terminals)
        },
    }


def scenario_counts(shape: Shape, counters: Mapping[str, int]) -> dict[str, int]:
    """The outcome counters under the names the outputs print, in order:
    ``ingest``'s older names for its shape (every one, 0 when absent), else
    each flow's keys (started, ended.*, aborted, unfinished, then visited.*
    where counted)."""
    if has_legacy_names(shape):
        return {old: counters.get(new, 0) for old, new in LEGACY_KEYS.items()}
    out: dict[str, int] = {}
    for f in shape.flows:
        keys = FlowKeys.for_flow(f)
        out[keys.started] = counters.get(keys.started, 0)
        for key in keys.ended.values():
            out[key] = counters.get(key, 0)
        out[keys.aborted] = counters.get(keys.aborted, 0)
        out[keys.unfinished] = counters.get(keys.unfinished, 0)
        for key in keys.visited.values():
            if counters.get(key, 0):
                out[key] = counters[key]
    return out
