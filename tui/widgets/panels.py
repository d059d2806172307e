"""The live view's panels. Each renders lines of Textual markup from ``LiveData``.

A panel repaints only the lines whose text changed. It is a Line-API widget:
``set`` compares the new lines with the shown ones and marks just those rows
dirty, so Textual re-renders them and leaves the border, the labels and the
lines that did not move alone. At max rate most panels change one or two
lines out of four to seven. With fixed heights (app.tcss) no refresh
re-lays out the screen. This matters because the UI process shares the
machine with the engine (docs/PERFORMANCE.md, section 3).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Label, Sparkline

from engine.config import RunConfig
from engine.domain.durations import format_duration, format_latency
from engine.domain.outcomes import flow_counts, has_legacy_names
from engine.domain.shape import Shape
from engine.metrics.stats import Snapshot
from tui.widgets.data import LiveData


def compact(n: float) -> str:
    """A count in at most 5 characters (9,999 12.3k 123k 1.23M), for when the
    full one does not fit."""
    if n < 10_000:
        return f"{n:,.0f}"
    for div, unit in ((1e3, "k"), (1e6, "M"), (1e9, "G")):
        v = n / div
        if v < 9.995:
            return f"{v:.2f}{unit}"
        if v < 99.95:
            return f"{v:.1f}{unit}"
        if v < 999.5:
            return f"{v:.0f}{unit}"
    return f"{n / 1e12:.0f}T"


class Panel(Widget):
    """A bordered panel with a title; subclasses implement ``lines``."""

    DEFAULT_CLASSES = "panel"

    def __init__(self, title: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = title
        self._lines: list[str] = []
        self._data: LiveData | None = None

    @property
    def plain(self) -> str:
        """What the panel shows, as plain text (for tests and copying)."""
        return "\n".join(Content.from_markup(line).plain for line in self._lines)

    def show(self, data: LiveData) -> None:
        self._data = data
        self.set(self.lines(data))

    def lines(self, data: LiveData) -> str:
        """The panel's markup for ``data``, fitted to its width."""
        raise NotImplementedError

    def on_resize(self) -> None:
        """Fit the lines to the new width now: a resize changes no data, so the
        2 Hz refresh (which skips unchanged data) would not redo them."""
        if self._data is not None:
            self.show(self._data)

    def set(self, markup: str) -> None:
        """Show ``markup``, repainting only the lines that changed; never re-layout."""
        lines = markup.split("\n")
        old = self._lines
        self._lines = lines
        width = self.size.width
        for y in range(max(len(lines), len(old))):
            if y >= len(lines) or y >= len(old) or lines[y] != old[y]:
                self.refresh(Region(0, y, width, 1))

    def render_line(self, y: int) -> Strip:
        """One line, rendered straight from its markup: the general Visual
        path (wrapping, alignment, links, selection) cost about four times as
        much per line, and a panel line needs none of it."""
        style = self.visual_style
        text = self._lines[y] if y < len(self._lines) else ""
        segments = Content.from_markup(text).render_segments(style)
        return Strip(segments).crop_extend(0, self.size.width, style.rich_style)


class ProgressPanel(Panel):
    """Elapsed / total as a bar, or elapsed alone for an unbounded run."""

    def lines(self, data: LiveData) -> str:
        line = self._first_line(data, self.size.width)
        sat = data.saturation
        if data.state != "running":
            second = ""
        elif data.total.dropped:  # the open model could not start every arrival
            second = (
                f"[bold yellow]⚠ {data.total.dropped:,} arrivals dropped: --max-inflight full[/]"
            )
        elif sat.saturated:
            second = f"⚠ generator saturated ({sat.describe()}): latencies include its own queueing"
            if len(second) > self.size.width:  # the figures matter more than the gloss
                second = f"⚠ generator saturated: {sat.describe()}"
            second = f"[bold yellow]{second}[/]"
        else:
            cpu = "-" if sat.cpu_pct is None else f"{sat.cpu_pct:.0f}%"
            lag = "-" if sat.loop_lag_p99_ms is None else f"{sat.loop_lag_p99_ms:.1f}ms"
            shards = len(sat.shards)
            of = f" (highest of {shards} shards)" if shards > 1 else ""
            second = f"[dim]generator CPU {cpu} · loop lag p99 {lag}{of}[/]"
        return f"{line}\n{second}"

    @staticmethod
    def _first_line(data: LiveData, room: int) -> str:
        """Bar, time, state and stage (with its target), whole in ``room`` cells:
        the bar gives way first, then the stage's words ("target" becomes
        "→"); the stage and its target are never cut at the border."""
        secs = data.elapsed
        elapsed = f"{secs:.1f}s" if secs < 60 else format_duration(round(secs))
        bounded = data.duration > 0
        time = (
            f"{elapsed} / {format_duration(data.duration)}"
            if bounded
            else f"{elapsed} elapsed (until stopped)"
        )
        short = data.stage.replace(", target ", " → ")
        for stage in (data.stage, short):
            tail = f"{time}  [i]{data.state}[/]" + (f"  {stage}" if stage else "")
            # the bar as wide as before, but never pushing the words past the border
            width = min(max(10, room - 28), room - Content.from_markup(tail).cell_length - 1)
            if bounded and width >= 10:
                done = int(min(1.0, data.elapsed / data.duration) * width)
                return f"[bold green]{'█' * done}[/][dim]{'░' * (width - done)}[/] {tail}"
            if not bounded and width >= -1:
                return tail
        return tail  # no room for a bar worth showing: the words matter more


class CountersPanel(Panel):
    """Big counters: total requests, current rate, success, errors."""

    LABELS = ("Requests", "Rate", "Success", "Errors")

    def lines(self, data: LiveData) -> str:
        t = data.total
        width = self.size.width
        values = [
            f"{t.total:,}",
            f"{data.rate:,.1f}/s",
            f"{t.success:,}",
            f"{t.errors:,} ({t.error_pct:.2f}%)",
        ]
        widths = [max(len(a), len(b)) + 1 for a, b in zip(self.LABELS, values, strict=True)]
        if sum(widths) > width:  # a narrow terminal and big numbers: shorter numbers
            values = [
                compact(t.total),
                f"{compact(data.rate)}/s",
                compact(t.success),
                f"{compact(t.errors)} ({t.error_pct:.1f}%)",
            ]
            widths = [max(len(a), len(b)) + 1 for a, b in zip(self.LABELS, values, strict=True)]
        if max(widths) * 4 <= width:
            widths = [width // 4] * 4  # equal columns: they do not jump as numbers grow
        else:
            spare = max(0, width - sum(widths)) // 4
            widths = [w + spare for w in widths]
        labels = "".join(s.center(w) for s, w in zip(self.LABELS, widths, strict=True))
        styles = ["bold", "bold", "bold green", "bold red" if t.errors else "bold"]
        line = "".join(
            f"[{st}]{v.center(w)}[/]" for v, st, w in zip(values, styles, widths, strict=True)
        )
        return f"[dim]{labels}[/]\n{line}"


class SplitPanel(Panel):
    """Requests and outcomes by flow: for ``ingest``, orders vs disputes (each
    line its endpoint's requests) and reads; for another scenario, each of its
    flows (journeys started) with its outcomes, then its endpoints' requests."""

    def configure(self, shape: Shape) -> None:
        """Title the panel for a run's scenario: ``Orders / disputes`` for ingest."""
        labels = [f.label for f in shape.flows]
        title = " / ".join([labels[0], *(x.lower() for x in labels[1:])]) if labels else "Flows"
        if self.border_title != title:
            self.border_title = title

    def lines(self, data: LiveData) -> str:
        t = data.total
        shape = data.shape
        width = self.size.width

        def line(name: str, n: int, what: str = "requests") -> str:
            return f"[b]{name:<10}[/]{n:>10,} {what}"

        def outcomes(*pairs: tuple[str, int]) -> str:
            # "aborted" (a step refused) only takes room when it happened
            shown = [(label, n) for label, n in pairs if n or label != "aborted"]
            text = "  " + "  ".join(f"{label} {n:,}" for label, n in shown)
            head, short = _common_prefix(shown)
            if len(text) > width and head:  # "payment: success 1,120  failed 1,080"
                text = f"  {head}: " + "  ".join(f"{label} {n:,}" for label, n in short)
            if len(text) > width:  # never cut a count off: shorter numbers instead
                text = f"  {head}: " if head else "  "
                text += "  ".join(f"{label} {compact(n)}" for label, n in short)
            if len(text) > width:
                text = f"{head}: " if head else ""
                text += " ".join(f"{label} {compact(n)}" for label, n in short)
            if len(text) > width:  # the last resort: the outcomes' bare words
                text = " ".join(f"{label} {compact(n)}" for label, n in short)
            return f"[dim]{text}[/]"

        if has_legacy_names(shape):  # ingest's panel: each flow's webhook's requests
            first, second = shape.flows[0], shape.flows[1]
            order, dispute = (flow_counts(f, t.scenarios) for f in (first, second))
            opened = second.outcome_label("started")
            return "\n".join(
                [
                    line(first.label, t.count(shape.endpoints[0])),
                    outcomes(*order["ended"].items(), ("aborted", order["aborted"])),
                    line(second.label, t.count(shape.endpoints[1])),
                    outcomes((opened, dispute["started"]), *dispute["ended"].items()),
                    line("Reads", t.reads),
                ]
            )
        rows = []
        for flow in shape.flows:
            c = flow_counts(flow, t.scenarios)
            rows.append(line(flow.label, c["started"], "started"))
            rows.append(outcomes(*c["ended"].items(), ("aborted", c["aborted"])))
        rows += [line(name, t.count(name)) for name in shown_endpoints(shape, t)]
        return "\n".join(rows)


def shown_endpoints(shape: Shape, total: Snapshot) -> list[str]:
    """The endpoints a panel lists: ``reads`` only once there were any, as the
    --no-ui summary has it (a file with no read-back never reads)."""
    return [n for n in shape.endpoints if n != "reads" or total.count(n)]


def _common_prefix(shown: list[tuple[str, int]]) -> tuple[str, list[tuple[str, int]]]:
    """``payment`` and the labels without it when every outcome but ``aborted``
    starts ``payment_`` (an order's payment_success, payment_failed): a narrow
    panel says the word once. ``""`` and the labels as they are otherwise."""
    words = [label for label, _ in shown if label != "aborted"]
    head = words[0].partition("_")[0] if words and "_" in words[0] else ""
    if len(words) < 2 or not all(w.startswith(head + "_") for w in words):
        return "", shown
    cut = len(head) + 1
    return head, [(label[cut:] if label != "aborted" else label, n) for label, n in shown]


class LatencyPanel(Panel):
    """p50/p95/p99/max, for the whole run and for the last 10 s; with
    ``--visibility``, a third row: from an accepted order's 2xx until the read
    API showed it (issue 19), for the whole run."""

    _visibility = False

    def configure(self, config: RunConfig) -> None:
        """One more row with ``--visibility`` (once per run: a height change re-lays out)."""
        self._visibility = config.visibility > 0
        self.styles.height = 6 if self._visibility else None  # None: the stylesheet's 5

    def lines(self, data: LiveData) -> str:
        t = data.total
        rows = ["[b]" + " " * 5 + "".join(f"{h:>8}" for h in ("p50", "p95", "p99", "max")) + "[/]"]
        views = [("run", t), ("10s", data.last10)]
        if self._visibility:
            views.append(("vis", t.visibility_view))
        for name, snap in views:
            p = snap.percentiles_s(50, 95, 99)
            vals = [format_latency(p[q]) for q in (50, 95, 99)] + [format_latency(snap.max_s)]
            rows.append(f"[dim]{name:<5}[/]" + "".join(f"{v:>8}" for v in vals))
        return "\n".join(rows)


class CodesPanel(Panel):
    """Status codes seen and error kinds, with counts."""

    def lines(self, data: LiveData) -> str:
        t = data.total
        codes = []
        for code, n in sorted(t.status_codes.items()):
            style = "green" if code < 300 else "yellow" if code < 500 else "red"
            codes.append((f"[bold {style}]{code}[/]", n))
        kinds = [(f"[bold red]{k}[/]", n) for k, n in sorted(t.errors_by_kind.items()) if n]
        if t.cancelled:
            kinds.append(("[dim]cancelled[/]", t.cancelled))
        room = self.size.width
        return (
            _fit("[dim]codes [/] ", codes, "-", room)
            + "\n"
            + _fit("[dim]errors[/] ", kinds, "none", room)
        )


def _fit(label: str, pairs: list[tuple[str, int]], empty: str, room: int) -> str:
    """``label`` and each name with its count, whole in ``room`` cells: full
    counts two spaces apart, else compact counts (12.3k) one space apart, else
    as many as fit and "+N more" (never a name cut from its count)."""
    if not pairs:
        return label + empty
    full = label + "  ".join(f"{name} {n:,}" for name, n in pairs)
    if Content.from_markup(full).cell_length <= room:
        return full
    short = [f"{name} {compact(n)}" for name, n in pairs]
    for shown in range(len(short), 0, -1):
        more = "" if shown == len(short) else f" [dim]+{len(short) - shown} more[/]"
        line = label + " ".join(short[:shown]) + more
        if Content.from_markup(line).cell_length <= room:
            return line
    return label + f"[dim]{len(short)} kinds[/]"


class RatesPanel(Vertical):
    """Sparklines of errors/s and requests/s over the last 60 s."""

    DEFAULT_CLASSES = "panel"
    _labels: tuple[str, str] = ("", "")

    def compose(self) -> ComposeResult:
        self.border_title = "Last 60 s"
        yield Label("errors/s", classes="spark-label")
        yield Sparkline([], id="spark-errors")
        yield Label("requests/s", classes="spark-label")
        yield Sparkline([], id="spark-requests")

    def show(self, data: LiveData) -> None:
        sparks = {s.id: s for s in self.query(Sparkline)}
        if len(sparks) < 2:
            # the 2 Hz refresh can fire before the children are mounted or while
            # the app tears them down (seen once in a full run): nothing to draw
            return
        for sel, series in (
            ("spark-errors", data.errors_per_s),
            ("spark-requests", data.requests_per_s),
        ):
            spark = sparks[sel]
            if list(spark.data or []) != series:
                spark.data = series or [0.0]
        peak_err = max(data.errors_per_s, default=0.0)
        peak_req = max(data.requests_per_s, default=0.0)
        texts = (f"errors/s  (peak {peak_err:,.0f})", f"requests/s  (peak {peak_req:,.0f})")
        if texts != self._labels:  # unchanged labels are not repainted
            self._labels = texts
            for label, text in zip(self.query(".spark-label").results(Label), texts, strict=True):
                label.update(text, layout=False)
