"""Consumer-side accumulation of snapshot deltas: running total and windows.

Consumers (the CLI's progress line, the TUI) never reach into the engine;
they feed every delta here and read the total, the rate over the last
second, the last 10 s of latencies, or per-second series for sparklines.
Deltas of several shards may arrive interleaved, each on the run's common time
base: the window's "now" is the latest end seen, and health stays per shard.
"""

from __future__ import annotations

import operator
from collections import deque
from collections.abc import Callable, Iterable, Mapping

from engine.metrics.health import ShardHealth, merge_health
from engine.metrics.stats import Snapshot, merge_all


def _sum_counts(maps: Iterable[Mapping[int, int]]) -> dict[int, int]:
    """Bucket-wise sum of many sparse histograms into one fresh dict (no copy per step)."""
    out: dict[int, int] = {}
    for m in maps:
        for k, v in m.items():
            out[k] = out.get(k, 0) + v
    return out


LATENCY_S = 10.0
"""The window whose latencies a UI shows (its "10s" row): kept up as deltas come."""


class SnapshotWindow:
    """Keeps the running total and the deltas of the last ``keep_s`` seconds,
    and the latency histogram of the last :data:`LATENCY_S` seconds."""

    def __init__(self, keep_s: float = 61.0) -> None:
        self.keep_s = keep_s
        self.total = Snapshot()
        self._recent: deque[Snapshot] = deque()
        self._now = 0.0
        # the last LATENCY_S seconds' histogram, added to per delta and taken from
        # per expired one: summing 40 deltas' histograms (hundreds of buckets each
        # at max rate) at every refresh was a third of the TUI's own refresh cost
        self._lat: list[Snapshot] = []
        self._lat_counts: dict[int, int] = {}
        self._lat_sum_us = 0

    def add(self, delta: Snapshot) -> None:
        self.total = self.total + delta
        self._recent.append(delta)
        self._now = max(self._now, delta.end)
        horizon = self._now - self.keep_s
        while self._recent and self._recent[0].end < horizon:
            self._recent.popleft()
        self._add_latency(delta)

    def _add_latency(self, delta: Snapshot) -> None:
        counts = self._lat_counts
        for k, v in delta.latency.items():
            counts[k] = counts.get(k, 0) + v
        self._lat_sum_us += delta.latency_sum_us
        self._lat.append(delta)
        cutoff = self._now - LATENCY_S - 1e-9  # as _within: by start, shards in any order
        if all(d.start >= cutoff for d in self._lat):
            return
        keep = []
        for d in self._lat:
            if d.start >= cutoff:
                keep.append(d)
                continue
            for k, v in d.latency.items():
                left = counts[k] - v
                if left:
                    counts[k] = left
                else:
                    del counts[k]
            self._lat_sum_us -= d.latency_sum_us
        self._lat = keep

    @property
    def now(self) -> float:
        """The latest end of any delta (shards' deltas may arrive out of order)."""
        return self._now if self._recent else 0.0

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
        span = self.now - min(d.start for d in ds) if ds else 0.0
        return sum(d.total for d in ds) / span if span > 0 else 0.0

    def last_latency(self, seconds: float) -> Snapshot:
        """Only the latency fields of :meth:`last` (histogram, sum, max)."""
        if seconds == LATENCY_S and self._lat:
            lat = self._lat
            return Snapshot(
                start=min(d.start for d in lat),
                end=self.now,
                latency=dict(self._lat_counts),
                latency_sum_us=self._lat_sum_us,
                latency_max_us=max(d.latency_max_us for d in lat),
            )
        ds = self._within(seconds)
        return Snapshot(
            start=min((d.start for d in ds), default=self.now),
            end=self.now,
            latency=_sum_counts(d.latency for d in ds),
            latency_sum_us=sum(d.latency_sum_us for d in ds),
            latency_max_us=max((d.latency_max_us for d in ds), default=0),
        )

    def last_health(self, seconds: float) -> Snapshot:
        """Only the generator-health field of :meth:`last`: per shard, added within
        a shard and kept apart across shards (their CPU shares do not add up)."""
        ds = self._within(seconds)
        health: Mapping[int, ShardHealth] = {}
        for d in ds:
            health = merge_health(health, d.health)
        start = min((d.start for d in ds), default=self.now)
        return Snapshot(start=start, end=self.now, health=health)

    def per_second(
        self,
        attr: str | Callable[[Snapshot], float],
        seconds: int = 60,
        *,
        complete: bool = False,
    ) -> list[float]:
        """``attr`` (e.g. ``"errors"``, ``"total"``, or a function of a delta such
        as one endpoint's count) summed per whole second of the run,
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
        value = attr if callable(attr) else operator.attrgetter(attr)
        buckets = [0.0] * (last_sec - first_sec + 1)
        for d in self._recent:
            sec = int(max(d.end - 1e-9, 0.0))
            if first_sec <= sec <= last_sec:
                buckets[sec - first_sec] += value(d)
        return buckets
