"""`make bench`: webhookload side by side with its peers, in one run.

nginx (one worker) is the fast target; every generator gets 10 connections
and the same duration, one after the other, three times; the table reports
medians and ratios, never single timings (webhookload signed with
`--sign stripe` among them). Then a 70 s memory run, a latency-fidelity run
against targets with a fixed 20 ms delay, and the scale sections (bench/scale.py:
3,000 connections beside wrk, `--workers 2` against 1, `--rate` accuracy) and
coordinated omission against a stalling server (bench/stall.py), and the
cost of signing per built-in scheme (bench/signing.py).
Writes docs/BENCHMARKS.md (or `--out`); `--only SECTION[,SECTION]` runs a part.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import builders
import report
import scale
import signing
import stall
from scale import raise_nofile
from tools import (
    ROOT,
    SECRET_ENV,
    VENV_BIN,
    WORK,
    Sample,
    ceiling,
    hey,
    locust,
    max_mode_command,
    seed_go,
    webhookload,
    webhookload_tui,
    wrk,
)

SIGN = ("--sign", "stripe")  # the secret goes in the environment, never on a command line


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
    # Its own session, so its own scheduler autogroup (Linux's default with
    # CONFIG_SCHED_AUTOGROUP): in ours it shared one group's CPU share with a
    # --no-ui generator whenever other work loaded the machine, while the TUI's
    # engine (a session of its own, engine/shards/worker.py) had a share of
    # its own, which made TUI/--no-ui pairs favour the TUI (docs/PERFORMANCE.md, 3).
    proc = subprocess.Popen(["nginx", "-c", str(d / "nginx.conf")], start_new_session=True)
    try:
        wait_port(port)
        # nginx writes its pid file after it listens: the CPU readings need it.
        deadline = time.monotonic() + 10
        while not (d / "nginx.pid").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
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
        print(
            f"[pair {i + 1}/{n}] TUI / --no-ui {tui.rate / noui.rate:.1%} "
            f"({tui.rate:.0f} / {noui.rate:.0f} req/s; the generator process at "
            f"{tui.gen_cpu_pct or 0:.1f} / {noui.gen_cpu_pct or 0:.1f} % of a core)",
            flush=True,
        )
    return pairs


SECTIONS = (
    "maxmode",
    "ceiling",
    "signing",
    "tui",
    "memory",
    "fidelity",
    "c3000",
    "workers",
    "rate",
    "stall",
    "builders",
)
GROUPS = {"scale": ("c3000", "workers", "rate")}


def parse_only(text: str) -> list[str]:
    """``--only maxmode,scale`` -> the sections, in the order the report has them."""
    asked: set[str] = set()
    for name in filter(None, (x.strip() for x in text.split(","))):
        if name not in SECTIONS and name not in GROUPS:
            names = ", ".join([*SECTIONS, *GROUPS])
            raise argparse.ArgumentTypeError(f"unknown section {name!r} (expected: {names})")
        asked.update(GROUPS.get(name, (name,)))
    if not asked:
        raise argparse.ArgumentTypeError("expected one or more sections, comma-separated")
    return [x for x in SECTIONS if x in asked]


def main() -> int:
    ap = argparse.ArgumentParser(description="make bench: webhookload beside its peers")
    ap.add_argument("--secs", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--mem-secs", type=int, default=70)
    ap.add_argument(
        "--tui-pairs", type=int, default=6, help="extra TUI/--no-ui pairs, in alternating order"
    )
    ap.add_argument("--scale-rounds", type=int, default=2, help="3,000-connection rounds")
    ap.add_argument("--workers-pairs", type=int, default=3, help="--workers 1/2 pairs")
    ap.add_argument("--stall-secs", type=int, default=12, help="each stall run (two stalls)")
    ap.add_argument(
        "--only",
        type=parse_only,
        metavar="SECTION[,SECTION]",
        help=f"run only these sections: {', '.join([*SECTIONS, *GROUPS])} (scale = "
        f"{', '.join(GROUPS['scale'])})",
    )
    ap.add_argument("--out", default=str(ROOT / "docs" / "BENCHMARKS.md"), help="report path")
    a = ap.parse_args()
    run = set(a.only or SECTIONS)
    WORK.mkdir(parents=True, exist_ok=True)
    raise_nofile()
    secs, vus = a.secs, 10
    lines = report.header_lines(a.only)
    samples: list[Sample] = []
    timings: dict[str, float] = {}

    @contextmanager
    def section(name: str) -> Iterator[None]:
        t0 = time.monotonic()
        yield
        timings[name] = time.monotonic() - t0
        print(f"[{name}] {timings[name]:.0f} s", flush=True)

    tail: list[str] = []  # sections run later but reported after the max-mode ones
    with nginx() as url:
        pairs: list[tuple[Sample, Sample]] = []
        if "maxmode" in run:
            with section("maxmode"):
                got = maxmode(url, secs, vus, a.repeats)
            med = {k: median_sample(v) for k, v in got.items()}
            samples += med.values()
            pairs = [(t, n) for t, n in zip(got["tui"], got["fast"], strict=True)]
        elif "ceiling" in run:  # the max-mode table has the ceiling's rows; alone, its own
            with section("ceiling"):
                cgot = ceiling_rounds(url, secs, vus, a.repeats)
            cmed = {k: median_sample(v) for k, v in cgot.items()}
            samples += cmed.values()
            lines += report.ceiling_only_lines(cmed, cgot, secs)
        if "signing" in run:
            with section("signing"):
                sgot = signing.rounds(url, secs, vus, a.repeats)
            tail += signing.lines(sgot, secs)
            samples += signing.samples(sgot)
        if "tui" in run:
            with section("tui"):
                pairs += tui_pairs(url, secs, vus, a.tui_pairs)
        if "maxmode" in run:
            lines += report.maxmode_lines(med, got, secs, pairs)
        elif "tui" in run:
            lines += report.tui_only_lines(pairs, secs)
        if "memory" in run:
            with section("memory"):
                lines += report.memory_lines((*memory_run(url, a.mem_secs), a.mem_secs))
        if "workers" in run:
            with section("workers"):
                wgot = scale.workers(url, secs, vus, a.workers_pairs)
            tail += scale.workers_lines(wgot, secs, vus)
            samples += [wgot[0][0].sample, wgot[0][1].sample]
        if "rate" in run:
            with section("rate"):
                rs, rdoc = scale.rate_run(url, secs)
            tail += scale.rate_lines(rs, rdoc, secs)
            samples.append(rs)
    if "fidelity" in run:
        with section("fidelity"):
            fid = fidelity(secs)
        lines += report.fidelity_lines(fid, secs)
        samples += [x for _, pair in fid.values() for x in pair.values()]
    lines.append("")
    if "c3000" in run:
        with section("c3000"), nginx("nginx-delay.conf.in") as slow:
            c = scale.c3000(slow, secs, a.scale_rounds)
        lines += scale.c3000_lines(c)
        samples += [c.rounds[0].wl, c.rounds[0].wrk]
    lines += tail
    if "stall" in run:
        with section("stall"):
            sruns = stall.stall(a.stall_secs)
        lines += stall.stall_lines(sruns, a.stall_secs)
        samples += [r.sample for r in sruns]
    if "builders" in run:
        with section("builders"):
            rates = builders.measure(7, 20_000)
        lines += builders.lines(rates, 20_000)
    lines += report.commands_lines(samples)
    report.write(Path(a.out), lines)
    print(f"wrote {a.out} ({', '.join(f'{k} {v:.0f} s' for k, v in timings.items())})")
    return 0


def maxmode(url: str, secs: int, vus: int, repeats: int) -> dict[str, list[Sample]]:
    """Every generator at 10 connections, ``repeats`` rounds of one run each."""
    runs: list[tuple[str, Callable[[], Sample]]] = [
        ("fast", lambda: webhookload(url, secs, vus, "fast")),
        (
            "signed",
            lambda: webhookload(
                url, secs, vus, "fast", SIGN, label="--sign stripe", env=SECRET_ENV
            ),
        ),
        ("tui", lambda: webhookload_tui(url, secs, vus)),
        ("aiohttp", lambda: webhookload(url, secs, vus, "aiohttp")),
        ("pyreqwest", lambda: webhookload(url, secs, vus, "pyreqwest")),
        ("httpx", lambda: webhookload(url, secs, vus, "httpx")),
        ("ceiling", lambda: ceiling(url, secs, vus)),
        ("ceiling-signed", lambda: ceiling(url, secs, vus, sign=True)),
        ("locust", lambda: locust(url, secs, vus)),
        ("hey", lambda: hey(url, secs, vus)),
        ("wrk", lambda: wrk(url, secs, vus)),
    ]
    if (WORK / "seed-go").exists():
        runs.insert(9, ("go", lambda: seed_go(url, secs, vus)))
    return run_rows(url, runs, repeats)


def ceiling_rounds(url: str, secs: int, vus: int, repeats: int) -> dict[str, list[Sample]]:
    """``--only ceiling``: webhookload (unsigned, signed), the Python ceiling
    (unsigned, signed), hey and the plan's Go tester (when built), in ``repeats``
    rounds: issue 23's headroom and issue 17's speed goals alone,
    with the scenarios its goals name (``--scenario ingest``, ``--scenario stripe
    --sign stripe``)."""
    ingest, stripe = ("--scenario", "ingest"), ("--scenario", "stripe", *SIGN)
    runs: list[tuple[str, Callable[[], Sample]]] = [
        ("fast", lambda: webhookload(url, secs, vus, "fast", ingest, label="--scenario ingest")),
        ("ceiling", lambda: ceiling(url, secs, vus)),
        ("hey", lambda: hey(url, secs, vus)),
        (
            "signed",
            lambda: webhookload(
                url,
                secs,
                vus,
                "fast",
                stripe,
                label="--scenario stripe --sign stripe",
                env=SECRET_ENV,
            ),
        ),
        ("ceiling-signed", lambda: ceiling(url, secs, vus, sign=True)),
    ]
    if (WORK / "seed-go").exists():  # issue 17's speed goals are against the plan's Go tester
        runs.insert(3, ("go", lambda: seed_go(url, secs, vus)))
    return run_rows(url, runs, repeats)


def fidelity(secs: int) -> dict[str, tuple[int, dict[str, Sample]]]:
    fid: dict[str, tuple[int, dict[str, Sample]]] = {}
    with reference_target("--delay", "20ms") as ref:
        rows = run_rows(
            ref,
            [("wl", lambda: webhookload(ref, secs, 10)), ("wrk", lambda: wrk(ref, secs, 10))],
            1,
        )
        fid["the reference target, `--delay 20ms`"] = (10, {k: v[0] for k, v in rows.items()})
    with nginx("nginx-delay.conf.in") as slow:
        rows = run_rows(
            slow,
            [("wl", lambda: webhookload(slow, secs, 200)), ("wrk", lambda: wrk(slow, secs, 200))],
            1,
        )
        fid["nginx, `echo_sleep 0.02`"] = (200, {k: v[0] for k, v in rows.items()})
    return fid


if __name__ == "__main__":
    sys.exit(main())
