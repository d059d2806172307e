"""The live view's panels. Each is a ``Static`` that re-renders from ``LiveData``."""

from __future__ import annotations

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, Sparkline, Static

from engine.durations import format_duration, format_latency
from tui.widgets.data import LiveData


class Panel(Static):
    """A bordered panel with a title; subclasses implement ``show``."""

    DEFAULT_CLASSES = "panel"

    def __init__(self, title: str, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.border_title = title

    def show(self, data: LiveData) -> None:
        raise NotImplementedError

    def set(self, content: RenderableType) -> None:
        """Replace the content without a re-layout: every panel has a fixed height
        (app.tcss), and skipping layout is most of the UI's cost per refresh."""
        self.update(content, layout=False)


class ProgressPanel(Panel):
    """Elapsed / total as a bar, or elapsed alone for an unbounded run."""

    def show(self, data: LiveData) -> None:
        width = max(10, self.size.width - 28)
        secs = data.elapsed
        elapsed = f"{secs:.1f}s" if secs < 60 else format_duration(round(secs))
        if data.duration > 0:
            frac = min(1.0, data.elapsed / data.duration)
            done = int(frac * width)
            bar = Text("█" * done, style="bold green") + Text("░" * (width - done), "dim")
            text = bar + Text(f" {elapsed} / {format_duration(data.duration)}")
        else:
            text = Text(f"{elapsed} elapsed (until stopped)")
        text += Text(f"  {data.state}", style="italic")
        sat = data.saturation
        if data.state != "running":
            text += Text("\n")
        elif sat.saturated:
            text += Text(
                f"\n⚠ generator saturated ({sat.describe()}): latencies include its own queueing",
                style="bold yellow",
            )
        else:
            cpu = "-" if sat.cpu_pct is None else f"{sat.cpu_pct:.0f}%"
            lag = "-" if sat.loop_lag_p99_ms is None else f"{sat.loop_lag_p99_ms:.1f}ms"
            text += Text(f"\ngenerator CPU {cpu} · loop lag p99 {lag}", style="dim")
        self.set(text)


class CountersPanel(Panel):
    """Big counters: total requests, current rate, success, errors."""

    def show(self, data: LiveData) -> None:
        t = data.total
        grid = Table.grid(expand=True)
        for _ in range(4):
            grid.add_column(justify="center", ratio=1)
        grid.add_row(
            Text("Requests", "dim"),
            Text("Rate", "dim"),
            Text("Success", "dim"),
            Text("Errors", "dim"),
        )
        err_style = "bold red" if t.errors else "bold"
        grid.add_row(
            Text(f"{t.total:,}", "bold"),
            Text(f"{data.rate:,.1f}/s", "bold"),
            Text(f"{t.success:,}", "bold green"),
            Text(f"{t.errors:,} ({t.error_pct:.2f}%)", err_style),
        )
        self.set(grid)


class SplitPanel(Panel):
    """Orders vs disputes: requests per endpoint and scenario outcomes."""

    def show(self, data: LiveData) -> None:
        t = data.total
        sc = t.scenarios

        def line(name: str, n: int) -> Text:
            return Text(f"{name:<10}", "bold") + Text(f"{n:>10,} requests")

        def outcomes(*pairs: tuple[str, str]) -> Text:
            shown = [(label, sc.get(key, 0)) for label, key in pairs]
            # "aborted" (a step refused) only takes room when it happened
            shown = [(label, n) for label, n in shown if n or label != "aborted"]
            return Text("  " + "  ".join(f"{label} {n:,}" for label, n in shown), "dim")

        parts = [
            line("Orders", t.orders),
            outcomes(
                ("success", "orders_success"),
                ("failed", "orders_failed"),
                ("aborted", "orders_aborted"),
            ),
            line("Disputes", t.disputes),
            outcomes(
                ("opened", "disputes_opened"), ("won", "disputes_won"), ("lost", "disputes_lost")
            ),
        ]
        parts.append(line("Reads", t.reads))
        self.set(Text("\n").join(parts))


class LatencyPanel(Panel):
    """p50/p95/p99/max, for the whole run and for the last 10 s."""

    def show(self, data: LiveData) -> None:
        run = data.total.percentiles_s(50, 95, 99)
        recent = data.last10.percentiles_s(50, 95, 99)
        table = Table(expand=True, box=None, padding=(0, 1), show_edge=False)
        table.add_column("", style="dim")
        for name in ("p50", "p95", "p99", "max"):
            table.add_column(name, justify="right")
        table.add_row(
            "run", *(format_latency(run[q]) for q in (50, 95, 99)), format_latency(data.total.max_s)
        )
        table.add_row(
            "10s",
            *(format_latency(recent[q]) for q in (50, 95, 99)),
            format_latency(data.last10.max_s),
        )
        self.set(table)


class CodesPanel(Panel):
    """Status codes seen and error kinds, with counts."""

    def show(self, data: LiveData) -> None:
        t = data.total
        codes = Text()
        for code, n in sorted(t.status_codes.items()):
            style = "green" if code < 400 else "yellow" if code < 500 else "red"
            codes.append(f"{code}", style=f"bold {style}").append(f" {n:,}  ")
        kinds = Text()
        for kind, n in sorted(t.errors_by_kind.items()):
            if n:
                kinds.append(kind, style="bold red").append(f" {n:,}  ")
        if t.cancelled:
            kinds.append("cancelled", style="dim").append(f" {t.cancelled:,}")
        self.set(
            Text("codes  ", "dim")
            + (codes or Text("-"))
            + Text("\nerrors ", "dim")
            + (kinds or Text("none"))
        )


class RatesPanel(Vertical):
    """Sparklines of errors/s and requests/s over the last 60 s."""

    DEFAULT_CLASSES = "panel"

    def compose(self) -> ComposeResult:
        self.border_title = "Last 60 s"
        yield Label("errors/s", classes="spark-label")
        yield Sparkline([], id="spark-errors")
        yield Label("requests/s", classes="spark-label")
        yield Sparkline([], id="spark-requests")

    def show(self, data: LiveData) -> None:
        self.query_one("#spark-errors", Sparkline).data = data.errors_per_s or [0.0]
        self.query_one("#spark-requests", Sparkline).data = data.requests_per_s or [0.0]
        peak_err = max(data.errors_per_s, default=0.0)
        peak_req = max(data.requests_per_s, default=0.0)
        labels = list(self.query(".spark-label").results(Label))
        labels[0].update(f"errors/s  (peak {peak_err:,.0f})", layout=False)
        labels[1].update(f"requests/s  (peak {peak_req:,.0f})", layout=False)
