"""Parts of the ``--json`` summary that the new outputs read: per-endpoint
numbers and a coarse latency distribution, both built from a total Snapshot."""

from __future__ import annotations

from typing import Any

from engine.domain.durations import format_latency, latency_ms
from engine.domain.shape import INGEST_SHAPE, Shape
from engine.metrics.histogram import bucket_bounds
from engine.metrics.stats import ERROR_KINDS, Snapshot
from engine.outputs.settings import format_count, format_rate

DISTRIBUTION_EDGES_MS = (
    *(0.1, 0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 50, 75, 100),
    *(150, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 10000, 30000),
)
"""Upper edges (ms) of the distribution's bins: about 3 per decade, readable labels."""


def latency_json(snap: Snapshot) -> dict[str, float | None]:
    """``{p50, p90, p95, p99, max, mean}`` in ms, ``None`` when nothing completed."""
    p = snap.percentiles_s(50, 90, 95, 99)
    return {
        "p50": latency_ms(p[50]),
        "p90": latency_ms(p[90]),
        "p95": latency_ms(p[95]),
        "p99": latency_ms(p[99]),
        "max": latency_ms(snap.max_s),
        "mean": latency_ms(snap.mean_s),
    }


def endpoints_json(
    total: Snapshot, elapsed: float, shape: Shape = INGEST_SHAPE
) -> dict[str, dict[str, Any]]:
    """The summary's ``endpoints`` object: per endpoint of the scenario (for
    ``ingest``: ``orders``, ``disputes`` = the chargebacks path, ``reads``)
    requests, errors, rate, codes and latencies."""
    out: dict[str, dict[str, Any]] = {}
    for name in shape.endpoints:
        ep = total.endpoint(name)
        out[name] = {
            "requests": ep.total,
            "success": ep.success,
            "errors": ep.errors,
            "error_pct": round(ep.error_pct, 3),
            "per_second": round(ep.total / elapsed, 3) if elapsed > 0 else 0.0,
            "latency_ms": latency_json(ep),
            "status_codes": {str(c): n for c, n in sorted(ep.status_codes.items())},
            "errors_by_kind": {k: ep.errors_by_kind.get(k, 0) for k in ERROR_KINDS},
        }
    return out


def _numbers(requests: int, rate: float, errors: int) -> str:
    """The endpoint table's requests, /s and errors columns."""
    return f"{format_count(requests):>10}{format_rate(rate):>9}{format_count(errors):>8}"


def endpoint_lines(total: Snapshot, elapsed: float, shape: Shape = INGEST_SHAPE) -> list[str]:
    """The text summary's per-endpoint block (endpoints with no requests left out);
    a name longer than its column pushes the numbers right rather than be cut."""
    width = max(10, *(len(n) + 1 for n in shape.endpoints))
    lines = [
        f"{'Endpoint':<{width + 2}}{'requests':>10}{'/s':>9}{'errors':>8}"
        f"{'p50':>9}{'p95':>9}{'p99':>9}"
    ]
    for name in shape.endpoints:
        ep = total.endpoint(name)
        if not ep.total:
            continue
        p = ep.percentiles_s(50, 95, 99)
        rate = ep.total / elapsed if elapsed > 0 else 0.0
        lat = "".join(f"{format_latency(p[q]):>9}" for q in (50, 95, 99))
        lines.append(f"  {name:<{width}}{_numbers(ep.total, rate, ep.errors)}{lat}")
    return lines if len(lines) > 1 else []


def endpoint_lines_narrow(
    total: Snapshot, elapsed: float, shape: Shape = INGEST_SHAPE
) -> list[str]:
    """:func:`endpoint_lines` in 40 columns (the TUI's Summary at 80x24): the
    latencies on a line of their own under each endpoint, so no row wraps."""
    width = max(8, *(len(n) + 1 for n in shape.endpoints))
    lines = [f"{'Endpoint':<{width + 2}}{'requests':>10}{'/s':>9}{'errors':>8}"]
    for name in shape.endpoints:
        ep = total.endpoint(name)
        if not ep.total:
            continue
        p = ep.percentiles_s(50, 95, 99)
        rate = ep.total / elapsed if elapsed > 0 else 0.0
        lines.append(f"  {name:<{width}}{_numbers(ep.total, rate, ep.errors)}")
        lines.append("    " + "  ".join(f"p{q} {format_latency(p[q])}" for q in (50, 95, 99)))
    return lines if len(lines) > 1 else []


def latency_distribution_json(total: Snapshot) -> list[dict[str, float | None]]:
    """The latency histogram in readable bins: ``[{le_ms, count}, ...]``.

    A bucket of the log-linear histogram falls in the first bin whose edge is
    above its lower bound (buckets are < 1 % wide, so the error is that
    small); the last bin (``le_ms`` null) takes everything above the top edge.
    Empty bins at both ends are left out; counts add up to the completed
    responses."""
    counts = [0] * (len(DISTRIBUTION_EDGES_MS) + 1)
    for idx, n in total.latency.items():
        low_ms = bucket_bounds(idx)[0] / 1000
        i = next(
            (i for i, edge in enumerate(DISTRIBUTION_EDGES_MS) if low_ms < edge),
            len(DISTRIBUTION_EDGES_MS),
        )
        counts[i] += n
    used = [i for i, n in enumerate(counts) if n]
    if not used:
        return []
    edges: list[float | None] = [*DISTRIBUTION_EDGES_MS, None]
    return [{"le_ms": edges[i], "count": counts[i]} for i in range(used[0], used[-1] + 1)]
