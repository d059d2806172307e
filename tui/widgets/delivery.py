"""The Delivery panel (issue 10): deliberate duplicates, early events and
retries, counted by what came back, live from the snapshot's ``delivery``.

Shown only when the run asks for a delivery fault (``--duplicate-rate``,
``--reorder-rate``, ``--retries``): a run without one would show a table of
zeros in room the chart can use instead.
"""

from __future__ import annotations

from collections.abc import Mapping

from engine.config import RunConfig
from engine.domain.durations import format_duration
from engine.domain.policies import PROVIDER_ANSWERS, PROVIDER_TIMEOUTS
from tui.widgets.data import LiveData
from tui.widgets.panels import Panel, compact

HEAD = ("sent", "refused", "2xx", "other")
ROWS = (
    ("duplicates", ("duplicates_sent", "duplicates_rejected", "duplicates_accepted")),
    ("early", ("early_sent", "early_refused", "early_accepted")),
)
FAILED = {"duplicates": "duplicates_failed", "early": "early_failed"}
LABEL_W = 11  # "duplicates "
LEGEND = "refused: 409 dup/4xx early; else other"
"""Issue 19: ``other`` is what was not handled; its 5xx and no-answer ones are
errors too (the summary's Redeliveries line says which)."""


def delivers(config: RunConfig) -> bool:
    """Whether the run uses any delivery fault or times answers against a
    delivery policy, so the panel has anything to say."""
    timed = config.policy is not None and config.policy.timeout is not None
    return config.duplicate_rate > 0 or config.reorder_rate > 0 or config.retries > 0 or timed


def provider_markup(d: Mapping[str, int], provider: str, timeout_s: float) -> str:
    """``slower than Shopify's 5s: 312 (2.1%)``: answers the provider would
    have given up on (issue 22), live; in red once there is one."""
    answers, slower = d.get(PROVIDER_ANSWERS, 0), d.get(PROVIDER_TIMEOUTS, 0)
    pct = f" ({100.0 * slower / answers:.1f}%)" if answers else ""
    text = f"slower than {provider}'s {format_duration(timeout_s)}: {slower:,}{pct}"
    return f"[red]{text}[/]" if slower else f"[dim]{text}[/]"


def delivery_markup(d: Mapping[str, int], width: int) -> str:
    """A header, a row each for duplicates and early events, then retries.

    Full counts while the four columns fit ``width``, else compact ones
    (12.3k): a count is never cut."""
    for fmt in (lambda n: f"{n:,}", compact):
        cells = [[fmt(d.get(k, 0)) for k in (*keys, FAILED[name])] for name, keys in ROWS]
        widths = [max(len(h), *(len(row[i]) for row in cells)) + 1 for i, h in enumerate(HEAD)]
        if LABEL_W + sum(widths) <= width:
            break
    out = [
        "[b]"
        + " " * LABEL_W
        + "".join(f"{h:>{w}}" for h, w in zip(HEAD, widths, strict=True))
        + "[/]"
    ]
    for (name, _), row in zip(ROWS, cells, strict=True):
        line = f"[b]{name:<{LABEL_W}}[/]" + "".join(
            f"{v:>{w}}" for v, w in zip(row[:3], widths[:3], strict=True)
        )
        other = f"{row[3]:>{widths[3]}}"
        out.append(line + (f"[red]{other}[/]" if row[3] != "0" else other))
    retries, exhausted = d.get("retries", 0), d.get("retries_exhausted", 0)
    tail = f"{fmt(exhausted)} exhausted"
    out.append(
        f"[b]{'retries':<{LABEL_W}}[/]{fmt(retries):>{widths[0]}}  "
        + (f"[red]{tail}[/]" if exhausted else f"[dim]{tail}[/]")
    )
    return "\n".join(out)


class DeliveryPanel(Panel):
    """Duplicates and early events by what came back, and retries; hidden
    (no room taken) when the run has no delivery fault."""

    def configure(self, config: RunConfig) -> None:
        """Shown or hidden once per run (a display change re-lays out the
        screen; a refresh must not)."""
        self.display = delivers(config)
        self.border_subtitle = LEGEND
        policy = config.policy
        self._timed = None if policy is None or policy.timeout is None else policy

    def lines(self, data: LiveData) -> str:
        d = data.total.delivery
        markup = delivery_markup(d, self.size.width)
        policy = getattr(self, "_timed", None)
        if policy is None or policy.timeout is None:
            return markup
        return markup + "\n" + provider_markup(d, policy.provider, policy.timeout)
