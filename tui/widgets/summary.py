"""The Summary panel: the ``--no-ui`` block plus status-code and error tables."""

from __future__ import annotations

import io
import re

from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from engine.domain.durations import format_duration
from engine.domain.sanitize import shown_url
from engine.errors import EXIT_OK, EXIT_THRESHOLDS, EXIT_UNVERIFIED
from engine.metrics.stats import ERROR_KINDS
from engine.outputs.delivery import answers_json, delivery_lines
from engine.outputs.docparts import endpoint_lines, endpoint_lines_narrow
from engine.outputs.provider import provider_lines
from engine.outputs.settings import delivery_settings_lines, format_count
from engine.outputs.summary import (
    failure_lines,
    flow_lines,
    generator_line,
    summary_lines,
    verification_lines,
)
from engine.outputs.thresholds import Abort, threshold_lines
from engine.outputs.verdict import exit_code_for, run_thresholds
from engine.outputs.visibility import visibility_lines
from engine.run.runner import RunResult


class Fit:
    """Lines that must not wrap (a table's rows, the Latency line), fitted to the
    panel's width when Rich renders them (at 80x24 the Summary has ~44
    columns): the ``wide`` ones where they fit, else the ``narrow`` ones, or
    without those each line too long with its runs of spaces made one
    (``Latency: p50=… p95=… p99=…`` then fits; aligned labels stay aligned)."""

    def __init__(self, wide: list[str], narrow: list[str] | None = None) -> None:
        self.wide, self.narrow = wide, narrow

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        if all(len(line) <= width for line in self.wide):
            lines = self.wide
        elif self.narrow is not None:
            lines = self.narrow
        else:
            lines = [_squeezed(line) if len(line) > width else line for line in self.wide]
        yield Text("\n".join(lines))


def _squeezed(line: str) -> str:
    return re.sub(r"(?<=\S) {2,}", " ", line)


def headline(result: RunResult, abort: Abort | None = None) -> tuple[str, str]:
    """How the run ended, in words that agree with its exit code: "completed"
    only when the process would exit 0 (a failed --verify is no completion)."""
    where = f"against {shown_url(result.target_url)}"
    if abort is not None:
        return f"{abort.describe()} (exit code {EXIT_THRESHOLDS})", "bold red"
    if result.stopped:
        planned = result.config.duration
        of = f" of {format_duration(planned)}" if planned else ""
        return f"Run stopped early after {result.elapsed:.1f}s{of} {where}", "bold yellow"
    code = exit_code_for(result)
    if code == EXIT_THRESHOLDS:
        failed = sum(not r.passed for r in run_thresholds(result))
        return f"Run finished {where}, but {failed} threshold(s) failed (exit code 99)", "bold red"
    if code == EXIT_UNVERIFIED:
        return f"Run finished {where}, but --verify found {_unverified(result)}", "bold red"
    if code != EXIT_OK:
        return f"Run finished {where} with problems (exit code {code})", "bold red"
    return f"Run completed {where}", "dim"


def _unverified(result: RunResult) -> str:
    """What --verify found wrong, by the checked flows' labels (ingest: orders and
    disputes) apart (exit code 4)."""
    v = result.verification
    if v is None:
        return "a mismatch"
    parts = [
        f"{n} {label if n != 1 or not label.endswith('s') else label[:-1]}"
        for label, t in v.tallies
        if (n := t.sampled - t.applied)
    ]
    return f"{' and '.join(parts) or 'a mismatch'} in the wrong status"


class SummaryPanel(Static):
    DEFAULT_CLASSES = "panel"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.border_title = "Summary"
        self.plain = ""
        """What the panel shows, as plain text (for tests and copying)."""

    def show_result(
        self, result: RunResult, json_path: str | None, abort: Abort | None = None
    ) -> None:
        t = result.total
        shape = result.config.shape
        block = Fit(summary_lines(t, result.elapsed, shape))
        endpoints = Fit(
            endpoint_lines(t, result.elapsed, shape),
            endpoint_lines_narrow(t, result.elapsed, shape),
        )
        checks = Text()
        for line in threshold_lines(run_thresholds(result)):
            checks.append(line + "\n", style="bold red" if line.startswith("  FAIL") else "")
        # the --no-ui summary's lines, in its order: the flows (ingest: orders,
        # disputes), the generator, deliberate deliveries, --visibility, sample
        # failures, the --verify check
        notes = [*flow_lines(t, shape), generator_line(t), *delivery_settings_lines(result.config)]
        notes += delivery_lines(t) + provider_lines(t, result.config)
        notes += visibility_lines(t, result.config.visibility, shape)
        notes += failure_lines(t)
        outcomes = Text("\n".join(notes + verification_lines(result)), style="dim")
        tables = Table.grid(padding=(0, 4))
        tables.add_column()
        tables.add_column()
        codes = Table("status", "count", box=None, padding=(0, 1), header_style="dim")
        for code, n in sorted(t.status_codes.items()):
            codes.add_row(str(code), format_count(n))
        for answer, n in answers_json(t)["retried"].items():  # not in the codes above
            codes.add_row(f"{answer} retried", format_count(n))
        kinds = Table("error kind", "count", box=None, padding=(0, 1), header_style="dim")
        for kind in ERROR_KINDS:
            kinds.add_row(kind, format_count(t.errors_by_kind.get(kind, 0)))
        kinds.add_row("cancelled", format_count(t.cancelled))
        tables.add_row(codes, kinds)
        head, style = headline(result, abort)
        footer = Text(head, style=style)
        if json_path:
            footer.append(f"\nJSON summary: {json_path}", style="bold")
        footer.append("\nr: run again   j: save JSON   h: save HTML report   q: quit", style="dim")
        parts: list[Fit | Text | Table] = [block, endpoints, outcomes, Text(""), tables, Text("")]
        if checks:
            checks.rstrip()
            parts += [checks, Text("")]
        group = Group(*parts, footer)
        console = Console(width=100, file=io.StringIO(), color_system=None)
        console.print(group)
        self.plain = console.file.getvalue()  # type: ignore[attr-defined]
        self.update(group)


MORE = "PgDn/↓ for more"
"""The Summary's title while the view has more below (80x24 shows ~20 lines)."""


class SummaryView(VerticalScroll):
    """The scrolling view around the Summary: while there is more below, the
    panel's title says how to get it (a scrollbar alone went unnoticed)."""

    def on_mount(self) -> None:
        self.watch(self, "scroll_y", self._hint, init=False)
        self.watch(self, "virtual_size", self._hint, init=False)

    def on_resize(self) -> None:
        self._hint()

    def _hint(self, *_: object) -> None:
        more = self.max_scroll_y > 0 and self.scroll_y < self.max_scroll_y - 0.5
        for panel in self.query(SummaryPanel).results():
            panel.border_title = f"Summary · {MORE}" if more else "Summary"
