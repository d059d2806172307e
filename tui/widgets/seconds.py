"""Per-second latency histograms of the live run, for the chart.

Kept here, on the consumer's side, next to the snapshot window: the engine
sends deltas of about 250 ms, each with its own latency histogram; summing a
second's deltas gives that second's exact percentiles (an average of
percentiles would be no percentile at all).
"""

from __future__ import annotations

from dataclasses import dataclass

from engine import Snapshot

CHART_SECONDS = 60
QUANTILES = (50.0, 95.0, 99.0)


@dataclass(frozen=True, slots=True)
class SecondPoint:
    """One whole second of the run, ``[t, t + 1)``; latencies in seconds,
    None when nothing completed in it."""

    t: int
    requests: int
    p50: float | None
    p95: float | None
    p99: float | None


class LatencySeconds:
    """A ring of per-second latency histograms, fed every delta (consumer side).

    A delta falls in the second its end lies in (as ``SnapshotWindow.per_second``
    counts), and a second is shown once it is complete. Percentiles of a second
    are computed once, when first asked for after its last delta."""

    def __init__(self, keep: int = CHART_SECONDS) -> None:
        self.keep = keep
        self.now = 0.0
        self._hists: dict[int, dict[int, int]] = {}
        self._counts: dict[int, int] = {}
        self._points: dict[int, SecondPoint] = {}

    def add(self, delta: Snapshot) -> None:
        sec = int(max(delta.end - 1e-9, 0.0))
        hist = self._hists.setdefault(sec, {})
        for bucket, n in delta.latency.items():
            hist[bucket] = hist.get(bucket, 0) + n
        self._counts[sec] = self._counts.get(sec, 0) + delta.total
        self._points.pop(sec, None)
        self.now = max(self.now, delta.end)
        horizon = sec - self.keep
        for old in [s for s in self._hists if s < horizon]:
            del self._hists[old]
            self._counts.pop(old, None)
            self._points.pop(old, None)

    def last_complete(self) -> int:
        """The latest whole second that has ended (-1 before the first)."""
        return int(self.now + 1e-9) - 1

    def points(self) -> tuple[SecondPoint, ...]:
        """The last ``keep`` complete seconds, oldest first, one point each."""
        last = self.last_complete()
        return tuple(self._point(s) for s in range(max(0, last - self.keep + 1), last + 1))

    def _point(self, sec: int) -> SecondPoint:
        point = self._points.get(sec)
        if point is None:
            hist = self._hists.get(sec, {})
            p = Snapshot(latency=hist).percentiles_s(*QUANTILES)
            point = SecondPoint(sec, self._counts.get(sec, 0), p[50.0], p[95.0], p[99.0])
            self._points[sec] = point
        return point
