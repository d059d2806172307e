"""Consumer-side accumulation of snapshot deltas: running total and windows.

Consumers (the CLI's progress line, the TUI) never reach into the engine;
they feed every delta here and read the total, the rate over the last
second, the last 10 s of latencies, or per-second series for sparklines.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping

from engine.metrics.stats import Snapshot, merge_all


def _sum_counts(maps: Iterable[Mapping[int, int]]) -> dict[int, int]:
    """Bucket-wise sum of many sparse histograms into one fresh dict (no copy per step)."""
    out: dict[int, int] = {}
    for m in maps:
        for k, v in m.items():
            out[k] = out.get(k, 0) + v
    return out


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

    def _within(self, seconds: float) -> list[Snapshot]:
        cutoff = self.now - seconds - 1e-9
        return [d for d in self._recent if d.start >= cutoff]

    def last(self, seconds: float) -> Snapshot:
        """The sum of the deltas that lie within the last ``seconds``."""
        return merge_all(self._within(seconds), start=self.now)

    # Cheap partial windows: a UI asks for these 4 times a second, and a full
    # merge of every field of 40 deltas is most of its own refresh cost.

    def rate(self, seconds: float = 1.0) -> float:
        """Completed requests per second over the last ``seconds`` (by delta spans)."""
        ds = self._within(seconds)
        span = ds[-1].end - ds[0].start if ds else 0.0
        return sum(d.total for d in ds) / span if span > 0 else 0.0

    def last_latency(self, seconds: float) -> Snapshot:
        """Only the latency fields of :meth:`last` (histogram, sum, max)."""
        ds = self._within(seconds)
        return Snapshot(
            start=ds[0].start if ds else self.now,
            end=self.now,
            latency=_sum_counts(d.latency for d in ds),
            latency_sum_us=sum(d.latency_sum_us for d in ds),
            latency_max_us=max((d.latency_max_us for d in ds), default=0),
        )

    def last_health(self, seconds: float) -> Snapshot:
        """Only the generator-health fields of :meth:`last` (loop lag, CPU)."""
        ds = self._within(seconds)
        return Snapshot(
            start=ds[0].start if ds else self.now,
            end=self.now,
            loop_lag=_sum_counts(d.loop_lag for d in ds),
            cpu_s=sum(d.cpu_s for d in ds),
        )

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
