"""`make bench`: webhookload side by side with its peers, in one run.

nginx (one worker) is the fast target; every generator gets 10 connections
and the same duration, one after the other, three times; the table reports
medians and ratios, never single timings. Then a 70 s memory run and a
latency-fidelity run against the reference target with a fixed 20 ms delay.
Writes docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tools import (
    ROOT,
    VENV_BIN,
    WORK,
    Sample,
    hey,
    locust,
    max_mode_command,
    seed_go,
    webhookload,
    webhookload_tui,
    wrk,
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def nginx(template: str = "nginx.conf.in") -> Iterator[str]:
    port = free_port()
    d = WORK / template.split(".")[0]
    d.mkdir(parents=True, exist_ok=True)
    conf = (ROOT / "bench" / template).read_text().replace("@DIR@", str(d))
    (d / "nginx.conf").write_text(conf.replace("@PORT@", str(port)))
    proc = subprocess.Popen(["nginx", "-c", str(d / "nginx.conf")])
    try:
        wait_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


@contextmanager
def reference_target(*args: str) -> Iterator[str]:
    proc = subprocess.Popen(
        [str(VENV_BIN / "webhookload-target"), "--port", "0", *args],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout
        yield proc.stdout.readline().strip().rsplit(" ", 1)[-1]
    finally:
        proc.terminate()
        proc.wait(10)


def wait_port(port: int) -> None:
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def median_sample(samples: list[Sample]) -> Sample:
    """The run with the median requests per CPU-second (a real run, not a blend)."""
    ordered = sorted(samples, key=lambda s: s.per_cpu_s)
    return ordered[len(ordered) // 2]


def machine() -> str:
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor(),
    )
    mem = (
        int(
            next(
                ln.split()[1]
                for ln in Path("/proc/meminfo").read_text().splitlines()
                if ln.startswith("MemTotal")
            )
        )
        / 1024
        / 1024
    )
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, Linux {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def memory_run(url: str, secs: int) -> tuple[float, float, int]:
    """RSS (MB) of a max-rate 20-VU run at 15 s and at secs-5 s, and its request count."""
    out = WORK / "wl-mem.json"
    proc = subprocess.Popen(
        [*max_mode_command(url, secs, 20, out), "--no-ui"], stdout=subprocess.DEVNULL
    )
    t0 = time.monotonic()
    marks: dict[int, float] = {}
    while proc.poll() is None:
        t = int(time.monotonic() - t0)
        if t in (15, secs - 5) and t not in marks:
            status = Path(f"/proc/{proc.pid}/status").read_text()
            marks[t] = (
                int(next(ln.split()[1] for ln in status.splitlines() if ln.startswith("VmRSS")))
                / 1024
            )
        time.sleep(0.1)
    import json

    return marks[15], marks[secs - 5], json.loads(out.read_text())["requests"]["total"]


def run_rows(
    url: str, runs: list[tuple[str, Callable[[], Sample]]], repeats: int
) -> dict[str, list[Sample]]:
    got: dict[str, list[Sample]] = {name: [] for name, _ in runs}
    for r in range(repeats):
        for name, fn in runs:
            s = fn()
            got[name].append(s)
            print(
                f"[{r + 1}/{repeats}] {s.tool:42s} {s.rate:9.0f} req/s {s.per_cpu_s:9.0f} "
                f"req/CPU-s",
                flush=True,
            )
    return got


def tui_pairs(url: str, secs: int, vus: int, n: int) -> list[tuple[Sample, Sample]]:
    """``n`` more (TUI, --no-ui) pairs, run back to back, the TUI first in every
    other pair: on a shared machine whose speed drifts within minutes, three
    pairs in a fixed order were not enough to tell a 5 % difference (single
    pairs ranged from 74 % to 116 %)."""
    pairs = []
    for i in range(n):
        if i % 2:
            tui, noui = webhookload_tui(url, secs, vus), webhookload(url, secs, vus, "fast")
        else:
            noui, tui = webhookload(url, secs, vus, "fast"), webhookload_tui(url, secs, vus)
        pairs.append((tui, noui))
        print(f"[pair {i + 1}/{n}] TUI / --no-ui {tui.rate / noui.rate:.1%}", flush=True)
    return pairs


def fmt(v: float | None, spec: str = ".2f") -> str:
    return "-" if v is None else format(v, spec)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--secs", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--mem-secs", type=int, default=70)
    ap.add_argument(
        "--tui-pairs", type=int, default=6, help="extra TUI/--no-ui pairs, in alternating order"
    )
    ap.add_argument("--out", default=str(ROOT / "docs" / "BENCHMARKS.md"))
    a = ap.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    secs, vus = a.secs, 10
    have_go = (WORK / "seed-go").exists()
    with nginx() as url:
        runs: list[tuple[str, Callable[[], Sample]]] = [
            ("fast", lambda: webhookload(url, secs, vus, "fast")),
            ("tui", lambda: webhookload_tui(url, secs, vus)),
            ("aiohttp", lambda: webhookload(url, secs, vus, "aiohttp")),
            ("pyreqwest", lambda: webhookload(url, secs, vus, "pyreqwest")),
            ("httpx", lambda: webhookload(url, secs, vus, "httpx")),
            ("locust", lambda: locust(url, secs, vus)),
            ("hey", lambda: hey(url, secs, vus)),
            ("wrk", lambda: wrk(url, secs, vus)),
        ]
        if have_go:
            runs.insert(6, ("go", lambda: seed_go(url, secs, vus)))
        got = run_rows(url, runs, a.repeats)
        pairs = [(t, n) for t, n in zip(got["tui"], got["fast"], strict=True)]
        pairs += tui_pairs(url, secs, vus, a.tui_pairs)
        mem15, mem_end, mem_reqs = memory_run(url, a.mem_secs)
    fidelity: dict[str, tuple[int, dict[str, Sample]]] = {}
    with reference_target("--delay", "20ms") as ref:
        rows = run_rows(
            ref,
            [("wl", lambda: webhookload(ref, secs, 10)), ("wrk", lambda: wrk(ref, secs, 10))],
            1,
        )
        fidelity["the reference target, `--delay 20ms`"] = (10, {k: v[0] for k, v in rows.items()})
    with nginx("nginx-delay.conf.in") as slow:
        rows = run_rows(
            slow,
            [("wl", lambda: webhookload(slow, secs, 200)), ("wrk", lambda: wrk(slow, secs, 200))],
            1,
        )
        fidelity["nginx, `echo_sleep 0.02`"] = (200, {k: v[0] for k, v in rows.items()})
    med = {k: median_sample(v) for k, v in got.items()}
    write_report(
        Path(a.out),
        med,
        got,
        pairs,
        secs,
        (mem15, mem_end, mem_reqs, a.mem_secs),
        fidelity,
    )
    print(f"wrote {a.out}")
    return 0


def write_report(
    path: Path,
    med: dict[str, Sample],
    got: dict[str, list[Sample]],
    pairs: list[tuple[Sample, Sample]],
    secs: int,
    mem: tuple[float, float, int, int],
    fid: dict[str, tuple[int, dict[str, Sample]]],
) -> None:
    fast = med["fast"]
    lines = [
        "# Benchmarks",
        "",
        f"Written by `make bench` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        f"Machine: {machine()}. Shared and noisy: read the ratios, not the absolute numbers.",
        "",
        "## Max mode against nginx",
        "",
        f"nginx (one worker) answers `202` with an empty body on loopback. Each generator: 10 "
        f"connections, {secs} s, no think time, one after another, {len(got['fast'])} rounds; "
        "each row is the round with the median requests per CPU-second. webhookload runs its "
        "full scenarios (order lifecycles, disputes, stats, snapshots); the peers POST one JSON "
        "body (Locust and wrk with fresh UUIDs, hey a static one). CPU = user + sys of the "
        "generator process (start-up included for every tool), from GNU time.",
        "",
        "| generator | req/s | req per CPU-s | p50 ms | p99 ms | peak RSS MB "
        "| all rounds (req/CPU-s) |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for k, s in med.items():
        rounds = ", ".join(f"{x.per_cpu_s:,.0f}" for x in got[k])
        lines.append(
            f"| {s.tool} | {s.rate:,.0f} | {s.per_cpu_s:,.0f} | {fmt(s.p50_ms)} | "
            f"{fmt(s.p99_ms)} | {s.rss_mb:.0f} | {rounds} |"
        )
    lines += ["", "### Ratios (same run)", "", "| ratio | value | goal |", "|---|---:|---|"]
    lines.append(
        f"| webhookload / Locust FastHttpUser, req per CPU-s | "
        f"{fast.per_cpu_s / med['locust'].per_cpu_s:.2f}× | ≥ 2.0× |"
    )
    if "go" in med:
        lines.append(
            f"| webhookload / plan's Go tester, req per CPU-s | "
            f"{fast.per_cpu_s / med['go'].per_cpu_s:.2f}× | ≥ 0.6× |"
        )
    # Each TUI run is paired with a --no-ui run next to it, so the machine's
    # drift cancels; report the median of the paired ratios.
    paired = sorted(t.rate / n.rate for t, n in pairs)
    rounds = ", ".join(f"{r:.0%}" for r in paired)
    lines.append(
        f"| TUI / `--no-ui`, req/s (median of {len(paired)} adjacent pairs: {rounds}) | "
        f"{statistics.median(paired):.1%} | ≥ 95 % |"
    )
    for k in ("aiohttp", "pyreqwest", "httpx"):
        lines.append(
            f"| `fast` / `{k}` transport, req per CPU-s | "
            f"{fast.per_cpu_s / med[k].per_cpu_s:.2f}× | (choice of default) |"
        )
    m15, mend, mreqs, msecs = mem
    lines += [
        "",
        "## Memory at max rate",
        "",
        f"webhookload `--no-ui --vus 20 --think 0 --duration {msecs}s` against nginx "
        f"({mreqs:,} requests): resident memory {m15:.1f} MB at 15 s, {mend:.1f} MB at "
        f"{msecs - 5} s, growth **{mend - m15:+.1f} MB** (goal ≤ 10 MB).",
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
    lines.append("")
    lines.append("Goals: p50 within 1 ms, p99 within 3 ms of wrk's.")
    lines += ["", "## Commands", ""]
    for s in [*med.values(), *(x for _, pair in fid.values() for x in pair.values())]:
        lines.append(f"- {s.tool}: `{s.command}`")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
