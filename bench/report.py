"""docs/BENCHMARKS.md from what `make bench` measured: one function per section,
each returning its Markdown lines (a section that did not run, with ``--only``,
is left out)."""

from __future__ import annotations

import os
import platform
import statistics
import time
from pathlib import Path

from scale import mark
from tools import Sample


def machine() -> str:
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kb = next(
        ln.split()[1]
        for ln in Path("/proc/meminfo").read_text().splitlines()
        if ln.startswith("MemTotal")
    )
    return (
        f"{os.cpu_count()} cores ({cpu}), {int(mem_kb) / 1024 / 1024:.0f} GiB, "
        f"Linux {platform.release()}, Python {platform.python_version()}"
    )


def fmt(v: float | None, spec: str = ".2f") -> str:
    return "-" if v is None else format(v, spec)


def header_lines(only: list[str] | None) -> list[str]:
    lines = [
        "# Benchmarks",
        "",
        f"Written by `make bench` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        f"Machine: {machine()}. Shared and noisy: read the ratios, not the absolute numbers.",
        "",
    ]
    if only:
        lines += [f"Sections run (`--only`): {', '.join(only)}.", ""]
    return lines


def maxmode_lines(
    med: dict[str, Sample],
    got: dict[str, list[Sample]],
    secs: int,
    pairs: list[tuple[Sample, Sample]],
) -> list[str]:
    fast = med["fast"]
    lines = [
        "## Max mode against nginx",
        "",
        f"nginx (one worker) answers `202` with an empty body on loopback. Each generator: 10 "
        f"connections, {secs} s, no think time, one after another, {len(got['fast'])} rounds; "
        "each row is the round with the median requests per CPU-second. webhookload runs its "
        "full scenarios (order lifecycles, disputes, stats, snapshots); the peers POST one JSON "
        "body (Locust and wrk with fresh UUIDs, hey a static one). The signed row adds "
        "`--sign stripe` (secret in `WEBHOOKLOAD_SECRET`): an HMAC-SHA256 over every body sent. "
        "CPU = user + sys of the generator process (start-up included for every tool), from "
        "GNU time. The Python ceiling rows are bench/ceiling.py, the least a Python generator "
        "pays per webhook (see docs/PERFORMANCE.md).",
        "",
        *TABLE_HEAD,
        *sample_rows(med, got),
    ]
    lines += ["", "### Ratios (same run)", "", "| ratio | value | goal | |", "|---|---:|---|---|"]

    def ratio(text: str, a: Sample, b: Sample, goal: float | None) -> None:
        r = a.per_cpu_s / b.per_cpu_s
        verdict = "" if goal is None else mark(r >= goal)
        want = "(choice of default)" if goal is None else f"≥ {goal:.1f}×"
        lines.append(f"| {text} | {r:.2f}× | {want} | {verdict} |")

    ratio("webhookload / Locust FastHttpUser, req per CPU-s", fast, med["locust"], 2.0)
    if "go" in med:
        ratio("webhookload / plan's Go tester, req per CPU-s", fast, med["go"], 0.6)
    if "signed" in med:
        if "go" in med:
            ratio(
                "webhookload signed / plan's Go tester, req per CPU-s",
                med["signed"],
                med["go"],
                1.5,
            )
        r = med["signed"].per_cpu_s / fast.per_cpu_s
        lines.append(
            f"| webhookload signed / unsigned, req per CPU-s (the cost of signing) | {r:.2f}× "
            "| (measured) | |"
        )
    lines += tui_ratio_rows(pairs)
    for k in ("aiohttp", "pyreqwest", "httpx"):
        ratio(f"`fast` / `{k}` transport, req per CPU-s", fast, med[k], None)
    return lines + ceiling_rows(med)


TABLE_HEAD = [
    "| generator | req/s | req per CPU-s | p50 ms | p99 ms | peak RSS MB "
    "| all rounds (req/CPU-s) |",
    "|---|---:|---:|---:|---:|---:|---|",
]


def sample_rows(med: dict[str, Sample], got: dict[str, list[Sample]]) -> list[str]:
    """One table row per generator: its median round, and every round's figure."""
    lines = []
    for k, s in med.items():
        rounds = ", ".join(f"{x.per_cpu_s:,.0f}" for x in got[k])
        lines.append(
            f"| {s.tool} | {s.rate:,.0f} | {s.per_cpu_s:,.0f} | {fmt(s.p50_ms)} | "
            f"{fmt(s.p99_ms)} | {s.rss_mb:.0f} | {rounds} |"
        )
    return lines


def ceiling_rows(med: dict[str, Sample], stripe_signed: bool = False) -> list[str]:
    """Issues 23's and 17's ratios, per CPU-second: webhookload and the Python
    ceiling (bench/ceiling.py) against hey and the plan's Go tester, and
    webhookload against the ceiling (the headroom left to a Python generator).
    In the max-mode table, "webhookload" runs the default scenario, ``ingest``;
    in ``--only ceiling`` its rows say which scenario each ran, and only there
    is "signed" issue 17's ``--scenario stripe --sign stripe`` (``stripe_signed``)."""
    pairs = [
        ("webhookload / hey", "fast", "hey", 1.5, 23),
        ("webhookload signed / hey", "signed", "hey", 1.3, 23),
        ("webhookload / the plan's Go tester", "fast", "go", 1.5, 17),
        ("webhookload signed / the plan's Go tester", "signed", "go", 1.3, 17),
        ("Python ceiling / hey", "ceiling", "hey", None, 0),
        ("Python ceiling signed / hey", "ceiling-signed", "hey", None, 0),
        ("webhookload / Python ceiling", "fast", "ceiling", None, 0),
        ("webhookload signed / Python ceiling signed", "signed", "ceiling-signed", None, 0),
    ]
    lines = []
    for text, a, b, goal, issue in pairs:
        if a == "signed" and goal is not None and not stripe_signed:
            continue  # the max-mode table's signed row is ingest's; the goals are stripe's
        if a in med and b in med and med[b].per_cpu_s:
            r = med[a].per_cpu_s / med[b].per_cpu_s
            want = "(measured)" if goal is None else f"≥ {goal:.1f}× (issue {issue})"
            verdict = "" if goal is None else mark(r >= goal)
            lines.append(f"| {text}, req per CPU-s | {r:.2f}× | {want} | {verdict} |")
    return lines


def ceiling_only_lines(
    med: dict[str, Sample], got: dict[str, list[Sample]], secs: int
) -> list[str]:
    """``--only ceiling``: webhookload, the Python ceiling and hey, and their ratios."""
    return [
        "## The Python ceiling",
        "",
        f"nginx `return 202`, 10 connections, {secs} s, no think time, "
        f"{len(got['fast'])} rounds in turn; each row is the round with the median "
        "requests per CPU-second (CPU = user + sys, start-up included). The Python ceiling "
        "is bench/ceiling.py: uvloop, one `asyncio.Protocol` per connection, a fresh "
        "`ingest` body per request, strict response framing (docs/PERFORMANCE.md).",
        "",
        *TABLE_HEAD,
        *sample_rows(med, got),
        "",
        "| ratio | value | goal | |",
        "|---|---:|---|---|",
        *ceiling_rows(med, stripe_signed=True),
    ]


def tui_ratio_rows(pairs: list[tuple[Sample, Sample]]) -> list[str]:
    """Each TUI run is paired with a --no-ui run next to it, so the machine's drift
    cancels; the median of the paired ratios."""
    if not pairs:
        return []
    paired = sorted(t.rate / n.rate for t, n in pairs)
    rounds = ", ".join(f"{r:.0%}" for r in paired)
    med = statistics.median(paired)
    return [
        f"| TUI / `--no-ui`, req/s (median of {len(paired)} adjacent pairs: {rounds}) | "
        f"{med:.1%} | ≥ 95 % | {mark(med >= 0.95)} |",
        *tui_split_rows(pairs),
    ]


def tui_split_rows(pairs: list[tuple[Sample, Sample]]) -> list[str]:
    """Why a pair's req/s differ, from the same runs' summaries: the work per
    request (requests per CPU-second of the generator process alone) and the
    share of a core that process got while loading. A TUI run whose engine does
    the same work per request but gets less of a core lost it to the processes
    beside it (the UI, tmux, other work on the machine); docs/PERFORMANCE.md, 3."""
    works, tui_shares, noui_shares = [], [], []
    for t, n in pairs:
        tw, nw = t.per_gen_cpu_s, n.per_gen_cpu_s
        if tw and nw and t.gen_cpu_pct and n.gen_cpu_pct:
            works.append(tw / nw)
            tui_shares.append(t.gen_cpu_pct)
            noui_shares.append(n.gen_cpu_pct)
    if not works:
        return []
    work = statistics.median(works)
    tui_share, noui_share = statistics.median(tui_shares), statistics.median(noui_shares)
    return [
        "| … TUI's engine / `--no-ui` generator, requests per CPU-second of that process "
        f"(median of {len(works)} pairs) | {work:.1%} | (measured) | |",
        "| … share of a core that process had while loading, TUI's engine / `--no-ui` "
        f"(medians) | {tui_share:.1f} % / {noui_share:.1f} % | (measured) | |",
    ]


def tui_only_lines(pairs: list[tuple[Sample, Sample]], secs: int) -> list[str]:
    """The TUI's pairs when the max-mode table did not run (``--only tui``)."""
    return [
        "## TUI against `--no-ui`",
        "",
        f"nginx `return 202`, 10 VUs, {secs} s, adjacent pairs in alternating order.",
        "",
        "| ratio | value | goal | |",
        "|---|---:|---|---|",
        *tui_ratio_rows(pairs),
    ]


def memory_lines(mem: tuple[float, float, int, int]) -> list[str]:
    m15, mend, mreqs, msecs = mem
    return [
        "",
        "## Memory at max rate",
        "",
        f"webhookload `--no-ui --vus 20 --think 0 --duration {msecs}s` against nginx "
        f"({mreqs:,} requests): resident memory {m15:.1f} MB at 15 s, {mend:.1f} MB at "
        f"{msecs - 5} s, growth **{mend - m15:+.1f} MB** (goal ≤ 10 MB: "
        f"{mark(mend - m15 <= 10)}).",
    ]


def fidelity_lines(fid: dict[str, tuple[int, dict[str, Sample]]], secs: int) -> list[str]:
    lines = [
        "",
        "## Latency fidelity",
        "",
        "A target with a fixed 20 ms delay, webhookload (`--think 0`, `fast`) and wrk with "
        f"the same concurrency for {secs} s each. The reference target (Python, one core) "
        "saturates near 1,300 req/s with a delay, so it runs at 10 connections; nginx with "
        "`echo_sleep` runs at 200, about half of webhookload's max-mode capacity. wrk "
        "(C) is the yardstick for the true latency.",
        "",
        "| target | connections | generator | req/s | p50 ms | p99 ms | p50 − wrk | p99 − wrk |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for label, (conns, pair) in fid.items():
        base = pair["wrk"]
        for s in pair.values():
            d50 = d99 = "-"
            if s.p50_ms is not None and base.p50_ms is not None:
                d50 = f"{s.p50_ms - base.p50_ms:+.2f}"
            if s.p99_ms is not None and base.p99_ms is not None:
                d99 = f"{s.p99_ms - base.p99_ms:+.2f}"
            lines.append(
                f"| {label} | {conns} | {s.tool} | {s.rate:,.0f} | {fmt(s.p50_ms)} | "
                f"{fmt(s.p99_ms)} | {d50} | {d99} |"
            )
    lines += ["", "Goals: p50 within 1 ms, p99 within 3 ms of wrk's."]
    for label, (_, pair) in fid.items():
        wl, base = pair["wl"], pair["wrk"]
        if None not in (wl.p50_ms, wl.p99_ms, base.p50_ms, base.p99_ms):
            ok = abs((wl.p50_ms or 0) - (base.p50_ms or 0)) <= 1
            ok = ok and abs((wl.p99_ms or 0) - (base.p99_ms or 0)) <= 3
            lines.append(f"{label}: {mark(ok)}.")
    return lines


def commands_lines(samples: list[Sample]) -> list[str]:
    """Each distinct command once, in the order run (ports differ between targets)."""
    lines = ["", "## Commands", ""]
    seen = set()
    for s in samples:
        if (s.tool, s.command) not in seen:
            seen.add((s.tool, s.command))
            lines.append(f"- {s.tool}: `{s.command}`")
    return lines


def write(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
