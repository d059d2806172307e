"""Consumer-side accumulation of snapshot deltas: running total and windows.

Consumers (the CLI's progress line, the TUI) never reach into the engine;
they feed every delta here and read the total, the rate over the last
second, the last 10 s of latencies, or per-second series for sparklines.
"""

from __future__ import annotations

from collections import deque

from engine.stats import Snapshot, merge_all


class SnapshotWindow:
    """Keeps the running total and the deltas of the last ``keep_s`` seconds."""

    def __init__(self, keep_s: float = 61.0) -> None:
        self.keep_s = keep_s
        self.total = Snapshot()
        self._recent: deque[Snapshot] = deque()

    def add(self, delta: Snapshot) -> None:
        self.total = self.total + delta
        self._recent.append(delta)
        horizon = delta.end - self.keep_s
        while self._recent and self._recent[0].end < horizon:
            self._recent.popleft()

    @property
    def now(self) -> float:
        return self._recent[-1].end if self._recent else 0.0

    def last(self, seconds: float) -> Snapshot:
        """The sum of the deltas that lie within the last ``seconds``."""
        cutoff = self.now - seconds - 1e-9
        return merge_all([d for d in self._recent if d.start >= cutoff], start=self.now)

    def rate(self, seconds: float = 1.0) -> float:
        """Completed requests per second over the last ``seconds`` (by delta spans)."""
        w = self.last(seconds)
        return w.rate

    def per_second(self, attr: str, seconds: int = 60, *, complete: bool = False) -> list[float]:
        """``attr`` (e.g. ``"errors"``, ``"total"``) summed per whole second of the run,
        oldest first, the last ``seconds`` seconds; the current partial second last,
        or left out with ``complete=True`` (a partial second reads as a false dip)."""
        if not self._recent:
            return []
        last_sec = int(self.now - 1e-9) if self.now > 0 else 0
        if complete and self.now - last_sec < 1.0 - 1e-9:
            last_sec -= 1
        if last_sec < 0:
            return []
        first_sec = max(0, last_sec - seconds + 1)
        buckets = [0.0] * (last_sec - first_sec + 1)
        for d in self._recent:
            sec = int(max(d.end - 1e-9, 0.0))
            if first_sec <= sec <= last_sec:
                buckets[sec - first_sec] += getattr(d, attr)
        return buckets
