"""A fixed-size, mergeable log-linear latency histogram (HdrHistogram's idea).

Values are integer microseconds. Below 256 µs every value has its own bucket;
above, each power of two is split into 128 equal buckets, so a bucket is at
most 1/128 of its value wide and the midpoint we report is within 0.4 % of
any sample in it. Memory is bounded (a few thousand buckets at most, held
sparsely), recording is a couple of integer operations, and two histograms
merge by adding counts — which is how shards and time windows combine.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

SUB_BITS = 7
SUB = 1 << SUB_BITS  # 128 buckets per power of two
_EXACT = SUB << 1  # values below this are their own bucket


def bucket_index(value_us: int) -> int:
    """The bucket of a non-negative microsecond value."""
    if value_us < _EXACT:
        return value_us if value_us > 0 else 0
    shift = value_us.bit_length() - (SUB_BITS + 1)
    return ((shift + 1) << SUB_BITS) + (value_us >> shift) - SUB


def bucket_bounds(index: int) -> tuple[int, int]:
    """``[low, high)`` microseconds covered by bucket ``index``."""
    if index < _EXACT:
        return index, index + 1
    shift = (index >> SUB_BITS) - 1
    low = ((index & (SUB - 1)) + SUB) << shift
    return low, low + (1 << shift)


def bucket_value(index: int) -> float:
    """The representative (midpoint) value of a bucket, in microseconds."""
    low, high = bucket_bounds(index)
    return float(low) if high - low == 1 else (low + high - 1) / 2


def percentiles(
    counts: Mapping[int, int], qs: Iterable[float], top: int = 0
) -> dict[float, float | None]:
    """Percentiles (``qs`` in 0..100) of a sparse bucket map, in microseconds.

    Uses the nearest-rank definition (the smallest value with at least q % of
    samples at or below it); an empty histogram gives ``None``, never NaN.
    ``top``: the exact largest sample, when known: a bucket's midpoint can lie
    above it (within 0.4 %), and a p99 above the max it is shown beside reads
    as a bug, so no percentile exceeds it.
    """
    wanted = sorted(set(qs))
    total = sum(counts.values())
    out: dict[float, float | None] = {}
    if total == 0:
        return {q: None for q in wanted}
    items = sorted(counts.items())
    seen = 0
    i = 0
    for q in wanted:
        rank = max(1, -(-q * total // 100))  # ceil, at least the first sample
        while seen + items[i][1] < rank:
            seen += items[i][1]
            i += 1
        value = bucket_value(items[i][0])
        out[q] = min(value, float(top)) if top else value
    return out


def merge_counts(a: Mapping[int, int], b: Mapping[int, int]) -> dict[int, int]:
    """Bucket-wise sum of two sparse histograms."""
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, 0) + v
    return out
