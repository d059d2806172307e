"""What the live panels show, computed once per refresh from the snapshot window."""

from __future__ import annotations

from dataclasses import dataclass

from engine.stats import Snapshot
from engine.window import SnapshotWindow


@dataclass(frozen=True, slots=True)
class LiveData:
    total: Snapshot
    last10: Snapshot
    rate: float
    errors_per_s: list[float]
    requests_per_s: list[float]
    elapsed: float
    duration: float
    state: str  # idle | starting | running | stopping | finished

    @classmethod
    def from_window(cls, w: SnapshotWindow, duration: float, state: str) -> LiveData:
        return cls(
            total=w.total,
            last10=w.last(10.0),
            rate=w.rate(1.0),
            errors_per_s=w.per_second("errors", 60),
            requests_per_s=w.per_second("total", 60),
            elapsed=w.now,
            duration=duration,
            state=state,
        )
