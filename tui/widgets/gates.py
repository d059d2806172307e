"""The live view's verdict panels: the thresholds as they stand, and the
numbers per endpoint (a slow chargeback path hides behind fast orders in the
run-wide figures)."""

from __future__ import annotations

from engine import format_latency
from tui.widgets.data import LiveData
from tui.widgets.panels import Panel, compact, shown_endpoints


class ThresholdsPanel(Panel):
    """Each ``--threshold`` with its value so far; the border turns red (class
    ``-failing``) while any fails. Hidden when the run has none."""

    def configure(self, count: int) -> None:
        """Size the panel for a run's ``count`` thresholds (once per run: a
        height change re-lays out the screen, a refresh must not)."""
        self.display = count > 0
        self.styles.height = count + 2

    def lines(self, data: LiveData) -> str:
        """``✓  12.3ms  p99<250ms``: the value first, so a long expression
        (``p95{endpoint=chargebacks}<50ms``) is what a narrow panel cuts."""
        rows = []
        failing = 0
        for r in data.thresholds:
            value = r.measured_text() if r.measured is not None else "waiting"
            if r.measured is None:
                rows.append(f"[dim]·  {value:>8}  {r.name}[/]")
            elif r.passed:
                rows.append(f"[bold green]✓[/]  {value:>8}  [dim]{r.name}[/]")
            else:
                failing += 1
                rows.append(f"[bold red]✗  {value:>8}  {r.name}[/]")
        self.set_class(failing > 0, "-failing")
        title = f"Thresholds · {failing} failing" if failing else "Thresholds"
        if self.border_title != title:
            self.border_title = title
        return "\n".join(rows)


class EndpointsPanel(Panel):
    """Per endpoint: requests per second now, then errors and p50/p95/p99 over
    the run. Narrower, errors lose their share, then p50 goes (the tail matters
    most); a count is never cut."""

    def lines(self, data: LiveData) -> str:
        width = self.size.width
        wide = width >= 9 + 8 + 14 + 3 * 8
        qs = (50, 95, 99) if wide or width >= 9 + 7 + 7 + 3 * 7 else (95, 99)
        w_rate, w_err, w_q = (8, 14, 8) if wide else (7, 7, 7)
        head = f"{'':9}{'now/s':>{w_rate}}{'errors':>{w_err}}"
        out = ["[b]" + head + "".join(f"{'p' + str(q):>{w_q}}" for q in qs) + "[/]"]
        shown = shown_endpoints(data.shape, data.total)
        for name, rate in zip(data.shape.endpoints, data.endpoint_rates, strict=True):
            if name not in shown:
                continue
            ep = data.total.endpoint(name)
            p = ep.percentiles_s(*qs)
            errors = compact(ep.errors) if ep.total else "-"
            if wide and ep.total:
                errors += f" ({ep.error_pct:.1f}%)"
            errors = f"{errors:>{w_err}}"
            row = f"[b]{name:<9}[/]{compact(rate):>{w_rate}}"
            row += f"[red]{errors}[/]" if ep.errors else errors
            out.append(row + "".join(f"{format_latency(p[q]):>{w_q}}" for q in qs))
        return "\n".join(out)
