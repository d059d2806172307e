"""The generator's own health, one entry per shard: loop lag and CPU.

A shard is one engine process with one event loop. Its loop lag and its CPU
share of one core say whether *that* process keeps up; across processes they
do not add: two shards at 50 % of a core each are two healthy processes, not
one saturated at 100 %, and a 40 ms stall in one shard's loop is not diluted
by a calm one. So a :class:`~engine.metrics.stats.Snapshot` keeps a
:class:`ShardHealth` per shard index, and merging adds them per shard only
(same shard: consecutive or windowed deltas add; different shards stay apart).

Times are integer microseconds, so merging is exactly associative (float sums
are not), and each shard carries the span it measured its CPU over: a window
or a total knows each shard's CPU share even when the shards' spans differ (a
shard that started late or died early).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from engine.metrics.histogram import merge_counts

_NO_LAG: Mapping[int, int] = MappingProxyType({})


def to_us(seconds: float) -> int:
    """Seconds as integer microseconds (how health and failure places are stamped)."""
    return round(seconds * 1e6)


@dataclass(frozen=True, slots=True)
class ShardHealth:
    """One shard over a span: loop-lag samples (a sparse histogram of µs), the
    CPU time its process used and the span it was measured over (µs)."""

    loop_lag: Mapping[int, int] = field(default_factory=lambda: _NO_LAG)
    cpu_us: int = 0
    span_us: int = 0

    @property
    def cpu_s(self) -> float:
        return self.cpu_us / 1e6

    @property
    def span_s(self) -> float:
        return self.span_us / 1e6

    @property
    def cpu_pct(self) -> float | None:
        """CPU time per wall time, in % of one core (``None`` over an empty span)."""
        return 100.0 * self.cpu_us / self.span_us if self.span_us > 0 else None

    def __add__(self, other: ShardHealth) -> ShardHealth:
        """The same shard over both spans (deltas of one shard do not overlap)."""
        if not isinstance(other, ShardHealth):
            return NotImplemented
        return ShardHealth(
            merge_counts(self.loop_lag, other.loop_lag),
            self.cpu_us + other.cpu_us,
            self.span_us + other.span_us,
        )

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        """Pickle as plain values (read-only mapping views do not pickle)."""
        return (_rebuild, (dict(self.loop_lag), self.cpu_us, self.span_us))


def _rebuild(lag: dict[int, int], cpu_us: int, span_us: int) -> ShardHealth:
    return ShardHealth(MappingProxyType(lag), cpu_us, span_us)


def merge_health(
    a: Mapping[int, ShardHealth], b: Mapping[int, ShardHealth]
) -> Mapping[int, ShardHealth]:
    """Per shard index: the same shard adds, different shards are kept apart."""
    if not b:
        return a
    if not a:
        return b
    out = dict(a)
    for shard, h in b.items():
        mine = out.get(shard)
        out[shard] = h if mine is None else mine + h
    return out


def pooled_lag(health: Mapping[int, ShardHealth]) -> Mapping[int, int]:
    """Every shard's loop-lag samples in one histogram (one shard: its own, uncopied)."""
    if len(health) == 1:
        return next(iter(health.values())).loop_lag
    out: dict[int, int] = {}
    for h in health.values():
        for k, v in h.loop_lag.items():
            out[k] = out.get(k, 0) + v
    return out
