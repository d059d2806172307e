"""`make bench`, the stall section (issue 9): coordinated omission, shown.

A server that holds every answer for the last second of every five
(bench/stall_server.py) is driven once by the open model (``--rate``, a large
``--max-inflight``) and once by the closed model (``--vus`` sized so that the
unstalled rate is about the same). The open model keeps sending through the
stall, so every request sent in it waits, and its corrected latency (from the
intended send time) shows the stall at p99. The closed model's VUs each send
one request into the stall and wait: a handful of slow requests among
thousands, so its p99 understates what a provider's webhooks would see.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from scale import mark, shard_saturation
from tools import ROOT, VENV_BIN, Sample, from_summary, summary_path, timed

RATE = 500  # journeys/s: about 1,400 requests/s, well within the server's reach
THINK_S = 0.01
STEPS = 2.86  # requests per journey, measured (orders, updates, disputes)
ANSWER_S = 0.0005  # an unstalled answer on loopback
GOAL_MS = 900.0


def closed_vus() -> int:
    """VUs whose unstalled rate is about ``RATE`` journeys/s: a VU walks a journey
    (STEPS requests, a think time between each two) and starts the next at once."""
    journey_s = (STEPS - 1) * THINK_S + STEPS * ANSWER_S
    return max(1, round(RATE * journey_s))


@contextmanager
def stall_server() -> Iterator[tuple[str, list[str]]]:
    """A fresh stall server (its period starts at its first request); the list
    gets its ``served N held M`` line once it is stopped."""
    proc = subprocess.Popen(
        [str(VENV_BIN / "python"), str(ROOT / "bench" / "stall_server.py")],
        stdout=subprocess.PIPE,
        text=True,
    )
    counts: list[str] = []
    try:
        assert proc.stdout
        yield proc.stdout.readline().strip().rsplit(" ", 1)[-1], counts
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
        counts.append(out.strip())


@dataclass
class StallRun:
    model: str
    flags: str
    sample: Sample
    doc: dict[str, Any]
    server: str  # "served N held M"

    @property
    def held(self) -> tuple[int, int]:
        parts = self.server.split()
        return (int(parts[1]), int(parts[3])) if len(parts) == 4 else (0, 0)


def stall_run(model: str, flags: list[str], secs: int) -> StallRun:
    out = summary_path("fast", f"stall {model}")
    with stall_server() as (url, counts):
        cmd = [str(VENV_BIN / "webhookload-tui"), "--no-ui", "--target", url, *flags]
        cmd += ["--think", f"{THINK_S * 1000:.0f}ms", "--duration", f"{secs}s"]
        _, cpu, rss = timed([*cmd, "--json", str(out)], tag=f"stall-{model}")
    s = from_summary(f"webhookload --no-ui (fast, {model} model)", out, cpu, rss, cmd)
    run = StallRun(model, " ".join(flags), s, json.loads(out.read_text()), counts[0])
    print(
        f"[stall {model}] {s.rate:,.0f} req/s, corrected p99 {run.doc['latency_ms']['p99']} ms, "
        f"service p99 {run.doc['service_time_ms']['p99']} ms, server: {run.server}",
        flush=True,
    )
    return run


def stall(secs: int) -> list[StallRun]:
    return [
        stall_run("open", ["--rate", str(RATE), "--max-inflight", "10000"], secs),
        stall_run("closed", ["--vus", str(closed_vus())], secs),
    ]


def stall_lines(runs: list[StallRun], secs: int) -> list[str]:
    lines = [
        "## Coordinated omission: a server that stalls 1 s every 5 s",
        "",
        "bench/stall_server.py (asyncio, uvloop) answers `202` at once, except in the last "
        "second of every five from its first request, when it holds every answer until the "
        f"second ends. Each model gets a fresh server for {secs} s (two stalls), `--think "
        f"{THINK_S * 1000:.0f}ms`. Open: `--rate {RATE}` journeys/s, a `--max-inflight` far "
        f"above the {RATE} journeys a stall piles up. Closed: `--vus {closed_vus()}`, sized "
        f"so its unstalled rate is about {RATE} journeys/s (a journey: {STEPS} requests, "
        "a think time between each two); its req/s below is lower because it stops "
        "sending in a stall. Corrected latency is timed from each request's intended "
        "send time (the open model's schedule); service time from the actual send; the "
        "closed model has no schedule, so the two are the same. Held = answers the server "
        "held in a stall (its own count).",
        "",
        "| model | flags | req/s | corrected p99 ms | service-time p99 ms | corrected max ms "
        "| dropped arrivals | held / served | generator |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in runs:
        arr = r.doc.get("arrivals") or {}
        served, held = r.held
        lines.append(
            f"| {r.model} | `{r.flags}` | {r.sample.rate:,.0f} | {r.doc['latency_ms']['p99']:,.1f} "
            f"| {r.doc['service_time_ms']['p99']:,.1f} | {r.doc['latency_ms']['max']:,.1f} | "
            f"{arr.get('dropped', '-')} | {held:,} / {served:,} | {shard_saturation(r.doc)} |"
        )
    opened, closed = runs
    o99, c99 = opened.doc["latency_ms"]["p99"], closed.doc["latency_ms"]["p99"]
    dropped = (opened.doc.get("arrivals") or {}).get("dropped", 0)
    shown = o99 >= GOAL_MS or dropped > 0
    lines += [
        "",
        "| goal | value | target | |",
        "|---|---:|---|---|",
        f"| open model's corrected p99 shows the stall | {o99:,.1f} ms, {dropped} dropped | "
        f"≥ {GOAL_MS:.0f} ms, or drops counted | {mark(shown)} |",
        f"| closed model's p99 understates it | {c99:,.1f} ms ({c99 / o99:.1%} of the open "
        f"model's) | < {GOAL_MS:.0f} ms | {mark(c99 < GOAL_MS)} |",
        "",
    ]
    return lines
