"""``webhookload-tui compare BASE.json NEW.json [--max-regression 10%]``.

Two ``--json`` summaries side by side (rate, error rate, p50/p95/p99, overall
and per endpoint, with the change in %), and with ``--max-regression X%`` a
verdict: NEW regressed when any of these is worse than BASE by more than X %

- a rate: NEW below BASE x (1 - X/100);
- a latency: NEW above BASE x (1 + X/100);
- an error rate: NEW above BASE x (1 + X/100) *and* at least
  :data:`ERROR_FLOOR_PP` percentage points above it, so 0 % -> 0.01 % (one
  unlucky request) is noise, not a regression.

Without ``--max-regression`` the verdict line still names the worst changes
and what ``--max-regression 10%`` would do: a p50 525 % worse must never pass
without a word.

A metric missing on either side (no reads in one run) is shown, not judged.
Two runs under different load models (closed vs open, other VUs, --rate,
--stages, --workers, --duration, --client, --contract, --target-mode) get one
``warning: load models differ: ...`` line each before the table: the table and
the exit code stay as they are, but the numbers measure different things. A key
missing on either side (an older JSON file) is not compared.
Exit codes: 0 no regression (or no --max-regression), 99 regression, 2 bad
input (a missing file, not our JSON, a bad flag; one line on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn, TextIO

from engine.errors import EXIT_OK as EXIT_OK
from engine.errors import EXIT_REGRESSION as EXIT_REGRESSION  # 99, as a failed --threshold
from engine.errors import EXIT_USAGE as EXIT_USAGE
from engine.outputs.settings import format_setting

ERROR_FLOOR_PP = 0.1
WORST_SHOWN = 3  # the verdict names this many of the worst changes
SUGGESTED_PCT = 10.0  # the gate the verdict suggests without --max-regression
PROG = "webhookload-tui compare"
_SETTINGS = ("target", "vus", "duration", "dispute_ratio", "think", "read_ratio", "client")


class CompareError(ValueError):
    """Bad input; ``str()`` is the one line shown to the user."""


@dataclass(frozen=True, slots=True)
class Line:
    """One metric on both sides. ``higher_is_better`` for rates."""

    scope: str
    metric: str
    unit: str
    base: float | None
    new: float | None
    higher_is_better: bool = False

    @property
    def change_pct(self) -> float | None:
        if self.base is None or self.new is None or self.base == 0:
            return None
        return 100.0 * (self.new - self.base) / self.base

    def regressed(self, tolerance_pct: float) -> bool:
        b, n = self.base, self.new
        if b is None or n is None:
            return False
        if self.higher_is_better:
            return n < b * (1 - tolerance_pct / 100)
        if self.unit == "%" and n - b < ERROR_FLOOR_PP:
            return False
        return n > b * (1 + tolerance_pct / 100)

    @property
    def worse_pct(self) -> float:
        """How much worse than BASE in % (0 when not worse, inf from nothing):
        the tolerance below which :meth:`regressed` flags it, so the verdict
        can rank the worst changes and suggest a gate."""
        b, n = self.base, self.new
        if b is None or n is None:
            return 0.0
        if self.higher_is_better:
            return 100.0 * (b - n) / b if n < b else 0.0
        if (self.unit == "%" and n - b < ERROR_FLOOR_PP) or n <= b:
            return 0.0
        return 100.0 * (n - b) / b if b > 0 else float("inf")


@dataclass(frozen=True, slots=True)
class Comparison:
    lines: list[Line]
    max_regression: float | None = None
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def regressions(self) -> list[Line]:
        tol = self.max_regression
        return [] if tol is None else [ln for ln in self.lines if ln.regressed(tol)]

    @property
    def regressed(self) -> bool:
        return bool(self.regressions)

    def table(self) -> list[str]:
        """The load-model warnings, the side-by-side table, then the verdict line."""
        bad = set(map(id, self.regressions))
        out = [*self.warnings, f"{'metric':<28}{'BASE':>12}{'NEW':>12}{'change':>10}"]
        for ln in self.lines:
            change = _change(ln)
            label = f"{ln.scope} {ln.metric} ({ln.unit})"
            mark = "  REGRESSION" if id(ln) in bad else ""
            out.append(f"{label:<28}{_num(ln.base):>12}{_num(ln.new):>12}{change:>10}{mark}")
        out += self.notes
        out.append(self.verdict())
        return out

    def worst(self, most: int = WORST_SHOWN) -> list[Line]:
        """The lines worse than BASE, worst first (at most ``most``)."""
        worse = [ln for ln in self.lines if ln.worse_pct > 0]
        # from nothing (inf) ties: the larger step first (errors 0 -> 5 % before 0 -> 3 %)
        return sorted(worse, key=lambda ln: (-ln.worse_pct, -abs(_step(ln))))[:most]

    def verdict(self) -> str:
        """One line: OK or REGRESSION under ``--max-regression``; without it, not a
        silent pass: the worst changes by name, and the flag that would gate on them."""
        tol = self.max_regression
        if tol is not None and self.regressed:
            named = _named(self.worst(), tol)
            n = len(self.regressions)
            return f"verdict: REGRESSION ({n} worse than BASE by more than {tol:g}%: {named})"
        if tol is not None:
            return f"verdict: OK (nothing worse than BASE by more than {tol:g}%)"
        worst = self.worst()
        if not worst:
            return "verdict: not gated (no --max-regression); nothing is worse than BASE"
        flagged = sum(ln.regressed(SUGGESTED_PCT) for ln in self.lines)
        gate = f"--max-regression {SUGGESTED_PCT:g}%"
        gate += (
            f" would exit {EXIT_REGRESSION} ({flagged} metrics worse by more)"
            if flagged
            else " would pass"
        )
        return f"verdict: not gated (no --max-regression); worst: {_named(worst)}; {gate}"


def _step(ln: Line) -> float:
    return 0.0 if ln.base is None or ln.new is None else ln.new - ln.base


def _named(lines: Sequence[Line], tolerance_pct: float | None = None) -> str:
    """``all p50 +525.0%, disputes errors +2.90pp``: the lines with their changes
    (with a tolerance, only those beyond it)."""
    if tolerance_pct is not None:
        lines = [ln for ln in lines if ln.regressed(tolerance_pct)]
    return ", ".join(f"{ln.scope} {ln.metric} {_change(ln)}" for ln in lines)


def _change(ln: Line) -> str:
    """Relative change; for error rates the difference in percentage points, which
    reads right when BASE had none."""
    if ln.unit == "%" and ln.base is not None and ln.new is not None:
        return f"{ln.new - ln.base:+.2f}pp"
    return "-" if ln.change_pct is None else f"{ln.change_pct:+.1f}%"


def _num(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:,.1f}" if abs(v) >= 100 else f"{v:.3g}" if v else "0"


def _error_pct(block: Mapping[str, Any]) -> float | None:
    total = block.get("requests", block.get("total"))
    if not isinstance(total, int | float) or total <= 0:
        return None
    return 100.0 * float(block.get("errors", 0)) / total


def _lines(scope: str, base: Mapping[str, Any], new: Mapping[str, Any]) -> list[Line]:
    """Rate, error rate, p50/p95/p99 of one scope (``all`` or an endpoint block)."""

    def counts(doc: Mapping[str, Any]) -> Mapping[str, Any]:
        return doc["requests"] if scope == "all" else doc

    def lat(doc: Mapping[str, Any], q: str) -> float | None:
        v = (doc.get("latency_ms") or {}).get(q)
        return float(v) if isinstance(v, int | float) else None

    b, n = counts(base), counts(new)
    lines = [
        Line(scope, "rate", "req/s", b.get("per_second"), n.get("per_second"), True),
        Line(scope, "errors", "%", _error_pct(b), _error_pct(n)),
    ]
    lines += [Line(scope, q, "ms", lat(base, q), lat(new, q)) for q in ("p50", "p95", "p99")]
    return lines


def scenario_of(doc: Mapping[str, Any]) -> str:
    """The scenario a summary ran: its ``shape`` (JSON written since scenarios
    became data), else its ``--contract`` (older files), else ``ingest``."""
    shape = doc.get("shape")
    if isinstance(shape, Mapping) and isinstance(shape.get("scenario"), str):
        return str(shape["scenario"])
    contract = (doc.get("config") or {}).get("contract")
    return contract if isinstance(contract, str) else "ingest"


def compare(
    base_doc: Mapping[str, Any], new_doc: Mapping[str, Any], max_regression: float | None = None
) -> Comparison:
    """Compare two summaries (``max_regression`` in percent, None = no verdict)."""
    lines = _lines("all", base_doc, new_doc)
    base_eps = base_doc.get("endpoints") or {}
    new_eps = new_doc.get("endpoints") or {}
    for name, b in base_eps.items():
        n = new_eps.get(name)
        if n is not None and b.get("requests") and n.get("requests"):
            lines += _lines(name, b, n)
    notes = []
    if scenario_of(base_doc) != scenario_of(new_doc):
        notes.append(
            f"note: scenarios differ: {scenario_of(base_doc)} -> {scenario_of(new_doc)}"
            " (only the endpoints both have are compared)"
        )
    bc, nc = base_doc.get("config") or {}, new_doc.get("config") or {}
    for key in _SETTINGS:
        if key in bc and key in nc and bc[key] != nc[key]:
            was, now = format_setting(bc[key]), format_setting(nc[key])
            notes.append(f"note: settings differ: {key} {was} -> {now}")
    return Comparison(lines, max_regression, notes, load_model_warnings(base_doc, new_doc))


# the load model's settings besides closed/open, VUs and rate: (config key, flag)
_MODEL_FLAGS = (
    ("stages", "--stages"),
    ("workers", "--workers"),
    ("duration", "--duration"),
    ("client", "--client"),
    ("contract", "--contract"),
    ("target_mode", "--target-mode"),
)


def _asked_rate(doc: Mapping[str, Any]) -> float | None:
    """``--rate`` (0: the closed model), from the config, else from ``arrivals``
    (null in the closed model); None when the file records neither."""
    config = doc.get("config") or {}
    if "rate" in config:
        rate = config["rate"]
    elif "arrivals" in doc:
        rate = (doc["arrivals"] or {}).get("rate", 0)
    else:
        return None
    return float(rate) if isinstance(rate, int | float) else None


def _model(rate: float, config: Mapping[str, Any]) -> str | None:
    """``closed, 10 VUs`` or ``open, --rate 500/s``; None when the VUs are unknown."""
    if config.get("stages"):  # the stages set the VUs or the rate (the --stages line differs)
        return "open, rate by --stages" if rate else "closed, VUs by --stages"
    if rate:
        return f"open, --rate {rate:g}/s"
    vus = config.get("vus")
    return None if vus is None else f"closed, {vus} VUs"


def load_model_warnings(base_doc: Mapping[str, Any], new_doc: Mapping[str, Any]) -> list[str]:
    """One line per load-model difference: a regression gate between a 10-VU and
    a 500/s run would judge the load model, not the service."""
    bc, nc = base_doc.get("config") or {}, new_doc.get("config") or {}
    pairs: list[tuple[str, str]] = []
    br, nr = _asked_rate(base_doc), _asked_rate(new_doc)
    if br is not None and nr is not None:
        bm, nm = _model(br, bc), _model(nr, nc)
        staged = bool(bc.get("stages") or nc.get("stages"))
        # both closed (or both open) with stages on a side: the --stages line says how
        same_kind = bm is not None and nm is not None and bm.split(",")[0] == nm.split(",")[0]
        if bm is not None and nm is not None and bm != nm and not (staged and same_kind):
            pairs.append((bm, nm))
    for key, flag in _MODEL_FLAGS:
        if key == "duration" and (bc.get("stages") or nc.get("stages")):
            flag = "duration"  # the stages' sum, not a --duration anybody gave
        if key in bc and key in nc and bc[key] != nc[key]:
            pairs.append((_setting(flag, bc[key]), _setting(flag, nc[key])))
    return [
        f"warning: load models differ: BASE {b}; NEW {n}: the numbers are not comparable"
        for b, n in pairs
    ]


def _setting(flag: str, value: Any) -> str:
    return f"no {flag}" if value in ("", None) else f"{flag} {value}"


def load_doc(path: str) -> dict[str, Any]:
    """A ``--json`` summary from ``path``; CompareError (one line) otherwise."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CompareError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise CompareError(f"{path} is not a webhookload --json summary (not text)") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CompareError(f"{path} is not JSON (line {exc.lineno}, column {exc.colno})") from None
    req = doc.get("requests") if isinstance(doc, dict) else None
    ok = (
        isinstance(req, dict)
        and isinstance(req.get("per_second"), int | float)
        and isinstance(doc.get("latency_ms"), dict)
    )
    if not ok:
        raise CompareError(
            f"{path} is not a webhookload --json summary (no requests.per_second / latency_ms)"
        )
    return dict(doc)


def parse_tolerance(text: str) -> float:
    """``10%`` or ``10`` -> 10.0; CompareError naming the flag otherwise."""
    try:
        value = float(text.strip().removesuffix("%"))
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise CompareError(f"--max-regression must be a percentage like 10%, got {text!r}")
    return value


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise CompareError(message)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog=PROG,
        description="Compare two --json summaries side by side; with --max-regression, "
        "exit 99 when NEW is worse than BASE beyond the tolerance.",
        epilog="exit codes: 0 no regression, 99 regression, 2 bad input",
    )
    p.add_argument("base", metavar="BASE.json")
    p.add_argument("new", metavar="NEW.json")
    p.add_argument(
        "--max-regression",
        metavar="PERCENT",
        help="tolerance, like 10%%: rate down, errors or latency up by more is a regression",
    )
    return p


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Print the table; 99 on regression, 0 otherwise, 2 on bad input."""
    stdout = out if out is not None else sys.stdout
    try:
        args = _parser().parse_args(argv)
        tol = None if args.max_regression is None else parse_tolerance(args.max_regression)
        result = compare(load_doc(args.base), load_doc(args.new), tol)
    except CompareError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    print("\n".join(result.table()), file=stdout)
    return EXIT_REGRESSION if result.regressed else EXIT_OK
