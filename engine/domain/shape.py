"""What everything downstream of the statistics needs to know of a scenario.

The summary, the JSON, the TUI, thresholds, the timeline, Prometheus, the HTML
report, ``compare`` and the shard merger name what they show by the scenario's
own words: its endpoints (the webhooks it sends to, its API steps, ``reads``)
and its flows (state machines, each with its terminal states as outcomes).
A :class:`Shape` is that and nothing more: pure data, picklable for the
shards, and JSON-able so that a ``--json`` file can be rendered again
(``compare``, the report) without the scenario file.

A Shape is built by hand here for today's two payload shapes (``ingest`` and
``plan``, which differ only in field names) and by the scenario compiler from
a file. Words, said once: the service's webhook for disputes lives at the
path ``/webhooks/payments/chargebacks``; webhookload calls that endpoint
``disputes`` everywhere it prints one (the summary, the JSON, Prometheus, the
timeline), and takes ``chargebacks`` as an alias wherever a user types an
endpoint name (``--threshold 'p99{endpoint=chargebacks}<50ms'``). Its flow is
``dispute``: a chargeback *is* a dispute, seen from the card network.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

_NO_LABELS: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class FlowShape:
    """One flow: its name in the file, how it is shown, its states and outcomes.

    ``outcome_labels`` renames a counter where its bare name misleads: a
    terminal state (an order's ``failed`` is its payment's outcome, not an
    error: ``payment_failed``) or ``started``/``aborted``/``unfinished`` (a
    dispute is ``opened``); absent ones show as themselves. A non-terminal
    state named here is shown with its visits even when there were none."""

    name: str
    label: str
    states: tuple[str, ...]
    terminals: tuple[str, ...]
    outcome_labels: Mapping[str, str] = field(default_factory=lambda: _NO_LABELS, hash=False)

    def outcome_label(self, terminal: str) -> str:
        return self.outcome_labels.get(terminal, terminal)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "states": list(self.states),
            "terminals": list(self.terminals),
            "outcome_labels": dict(self.outcome_labels),
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> FlowShape:
        return cls(
            str(doc["name"]),
            str(doc.get("label") or doc["name"]),
            tuple(str(s) for s in doc.get("states", ())),
            tuple(str(s) for s in doc.get("terminals", ())),
            MappingProxyType({str(k): str(v) for k, v in doc.get("outcome_labels", {}).items()}),
        )

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        """Pickle the labels as a dict (a read-only view does not pickle)."""
        return (
            _flow,
            (self.name, self.label, self.states, self.terminals, dict(self.outcome_labels)),
        )


def _flow(
    name: str,
    label: str,
    states: tuple[str, ...],
    terminals: tuple[str, ...],
    labels: dict[str, str],
) -> FlowShape:
    return FlowShape(name, label, states, terminals, MappingProxyType(labels))


@dataclass(frozen=True, slots=True)
class Shape:
    """A scenario as downstream sees it. ``endpoints``: the stats' endpoint names,
    index = endpoint id (webhooks in file order, then API steps, ``reads`` last);
    ``aliases``: other spellings a user may type for one (``chargebacks``)."""

    scenario: str
    endpoints: tuple[str, ...]
    flows: tuple[FlowShape, ...]
    aliases: Mapping[str, str] = field(default_factory=lambda: _NO_LABELS, hash=False)

    def endpoint_name(self, name: str) -> str:
        """The endpoint a user's spelling means (case-insensitive, aliases too);
        ValueError naming the near miss when there is none."""
        return endpoint_name(name, self.endpoints, self.aliases)

    def endpoint_index(self, name: str) -> int:
        """The id of endpoint ``name`` (a spelling :meth:`endpoint_name` takes)."""
        return self.endpoints.index(self.endpoint_name(name))

    def flow(self, name: str) -> FlowShape:
        for f in self.flows:
            if f.name == name:
                return f
        raise ValueError(unknown(name, (f.name for f in self.flows), "flow"))

    def as_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "endpoints": list(self.endpoints),
            "aliases": dict(self.aliases),
            "flows": [f.as_json() for f in self.flows],
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Shape:
        return cls(
            str(doc["scenario"]),
            tuple(str(e) for e in doc["endpoints"]),
            tuple(FlowShape.from_json(f) for f in doc.get("flows", ())),
            MappingProxyType({str(k): str(v) for k, v in doc.get("aliases", {}).items()}),
        )

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        """Pickle the aliases as a dict (a read-only view does not pickle)."""
        return (_shape, (self.scenario, self.endpoints, self.flows, dict(self.aliases)))


def _shape(
    scenario: str, endpoints: tuple[str, ...], flows: tuple[FlowShape, ...], aliases: dict[str, str]
) -> Shape:
    return Shape(scenario, endpoints, flows, MappingProxyType(aliases))


def endpoint_name(name: str, endpoints: tuple[str, ...], aliases: Mapping[str, str]) -> str:
    """``name`` as one of ``endpoints``: itself, its lower case or an alias's
    target; ValueError with a did-you-mean (over names and aliases) otherwise.
    A function too, for a snapshot that knows its names but not its Shape."""
    for spelling in (name, name.lower()):
        if spelling in endpoints:
            return spelling
        target = aliases.get(spelling)
        if target in endpoints:
            return target
    raise ValueError(unknown(name, (*endpoints, *aliases), "endpoint"))


def unknown(name: str, known: Iterable[str], what: str) -> str:
    """``unknown endpoint 'chargeback' (did you mean 'chargebacks'?)``, or the list."""
    names = list(known)
    near = difflib.get_close_matches(name, names, n=1)
    if near:
        return f"unknown {what} {name!r} (did you mean {near[0]!r}?)"
    return f"unknown {what} {name!r} (one of {', '.join(names)})"


_ORDER = FlowShape(
    "order",
    "Orders",
    ("created", "updated", "success", "failed"),
    ("success", "failed"),
    # the order's terminal state is its payment's outcome: "failed" beside
    # "Errors: 0" read as errors (issue 18, papercut 7)
    MappingProxyType({"success": "payment_success", "failed": "payment_failed"}),
)
_DISPUTE = FlowShape(
    "dispute",
    "Disputes",
    ("opened", "updated", "won", "lost"),
    # the closing event carries the resolution: a dispute ends won or lost
    ("won", "lost"),
    # as the summary has always said: "opened", and "updated" even at 0
    MappingProxyType({"started": "opened", "updated": "updated"}),
)
_ENDPOINTS = ("orders", "disputes", "reads")
INGEST_ALIASES: Mapping[str, str] = MappingProxyType({"chargebacks": "disputes"})
"""The service's path name for its disputes webhook, accepted where users type one."""

INGEST_SHAPE = Shape("ingest", _ENDPOINTS, (_ORDER, _DISPUTE), INGEST_ALIASES)
"""Today's orders and disputes (the ``chargebacks`` webhook carries disputes)."""
PLAN_SHAPE = Shape("plan", _ENDPOINTS, (_ORDER, _DISPUTE), INGEST_ALIASES)
"""The same lifecycles as ``ingest``; only the payload's field names differ."""

_BUILT_IN = {s.scenario: s for s in (INGEST_SHAPE, PLAN_SHAPE)}


def shape_for_contract(contract: str) -> Shape:
    """The Shape of ``--contract ingest|plan`` (a scenario file brings its own)."""
    return _BUILT_IN[contract]
