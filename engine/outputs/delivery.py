"""The ``delivery`` accounting in the summary and the JSON (issue 10).

Deliberate duplicates (``--duplicate-rate``), early events (``--reorder-rate``)
and retries (``--retries``) are counted by what actually came back, never by an
assumed code; none of them is an error whatever its code (see
engine/scenario/walk.py). Shown only when the run delivered any.
"""

from __future__ import annotations

from engine.metrics.stats import DELIVERY_KEYS, Snapshot


def delivery_json(total: Snapshot) -> dict[str, int]:
    """Every counter, zeros included (a stable shape for CI scripts)."""
    return {k: total.delivery.get(k, 0) for k in DELIVERY_KEYS}


def delivery_lines(total: Snapshot) -> list[str]:
    """``Delivery: duplicates=N (409=..., 2xx=..., other=...)  early=...  retries=...``."""
    d = delivery_json(total)
    if not any(d.values()):
        return []
    return [
        f"Delivery: duplicates={d['duplicates_sent']} (409={d['duplicates_rejected']}"
        f" 2xx={d['duplicates_accepted']} other={d['duplicates_failed']})"
        f"  early={d['early_sent']} (refused={d['early_refused']}"
        f" 2xx={d['early_accepted']} other={d['early_failed']})"
        f"  retries={d['retries']} (exhausted={d['retries_exhausted']})"
    ]
