"""Who hears from a run: a list of sinks, each fed every snapshot delta.

Consumers attach side by side (the progress line, the TUI, the worker's
pipe to its parent, and later a JSON writer, thresholds, a timeline, the
metrics endpoint) instead of sharing one callback. A sink that also has
``on_phase`` hears what the run is doing (loading, then verifying).
The runner calls them on its event loop, about 4 times a second: a sink
stores or forwards, it never blocks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from engine.metrics.stats import Snapshot

SnapshotSink = Callable[[Snapshot], None]
"""A bare callback; :class:`CallbackSink` makes one a sink."""


@dataclass(frozen=True, slots=True)
class Phase:
    """What the run is doing now, for a consumer that shows it (the engine never
    prints): ``load`` once the target is up and load starts, ``verifying`` when
    ``--verify`` reads the sampled flow runs back after the load."""

    name: str  # "load" | "verifying"
    sampled: int = 0  # verifying: how many sampled flow runs are read back
    wait_s: float = 0.0  # verifying: the longest it waits for them
    target_url: str = ""  # load: the URL load goes to (--target builtin's own port)
    what: str = "orders"  # verifying: what they are (the sampled flows' labels, lower case)


class Sink(Protocol):
    def on_snapshot(self, delta: Snapshot) -> None:
        """Everything recorded since the previous delta (see ``Stats.take``)."""
        ...


@runtime_checkable
class PhaseSink(Protocol):
    """A sink that also wants phases (checked once, when the runner is made)."""

    def on_phase(self, phase: Phase) -> None: ...


@dataclass(frozen=True, slots=True)
class CallbackSink:
    """A function as a sink: ``CallbackSink(deltas.append)``."""

    on_snapshot: SnapshotSink
