"""``--visibility`` in the summary and the JSON (issue 19 §3): how long from an
accepted webhook until the read API shows its effect, and the reads that came
too early to see it (engine/scenario/visibility.py)."""

from __future__ import annotations

from typing import Any

from engine.domain.durations import format_duration, format_latency
from engine.domain.shape import Shape
from engine.metrics.stats import Snapshot
from engine.outputs.docparts import latency_json
from engine.scenario.visibility import POLL_S, TIMEOUT_S, VISIBILITY_KEYS


def visibility_json(total: Snapshot, asked: int) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """``visibility_ms`` (shaped like ``latency_ms``; null without --visibility)
    and the ``visibility`` counters, with the polling interval and the timeout."""
    c = total.visibility_counts
    counts: dict[str, Any] = {k: c.get(k, 0) for k in VISIBILITY_KEYS}
    counts["reads_not_yet_visible"] = c.get("reads_not_yet_visible", 0)
    counts["asked"] = asked
    counts["poll_interval_ms"] = POLL_S * 1000
    counts["timeout_s"] = TIMEOUT_S
    return (latency_json(total.visibility_view) if asked else None), counts


def visibility_lines(total: Snapshot, asked: int, shape: Shape | None = None) -> list[str]:
    """``Visibility: p50=…  (18 of 20 followed orders readable …)``, and the
    read-backs that came before their flow run was readable; named by the
    scenario's first flow (ingest: orders), whose runs are read back."""
    c = total.visibility_counts
    what = shape.flows[0].label.lower() if shape is not None and shape.flows else "orders"
    one = what[:-1] if what.endswith("s") else what
    lines = []
    if asked:
        v = total.visibility_view
        p = v.percentiles_s(50, 95, 99)
        line = (
            f"Visibility:  p50={format_latency(p[50])}  p95={format_latency(p[95])}"
            f"  p99={format_latency(p[99])}  max={format_latency(v.max_s)}"
            f"  ({c.get('visible', 0)} of {c.get('followed', 0)} followed {what} readable;"
            f" polled every {format_duration(POLL_S)}"
        )
        if c.get("not_visible"):
            line += f"; {c['not_visible']} not within {format_duration(TIMEOUT_S)}"
        if c.get("unfinished"):
            line += f"; {c['unfinished']} still followed at the end"
        lines.append(line + ")")
    if c.get("reads_not_yet_visible"):
        lines.append(
            f"Reads not yet visible: {c['reads_not_yet_visible']} (a read-back of an accepted"
            f" {one} answered 404: applied later, not an error)"
        )
    return lines
