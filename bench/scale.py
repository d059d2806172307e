"""`make bench`, scale sections (issue 9): 3,000 connections against a delayed
nginx beside wrk, `--workers 2` against `--workers 1` per CPU-second with every
process counted, and the open model's rate accuracy. Each section runs, then
says its part of docs/BENCHMARKS.md as ratios measured in the same run, with
the goal and whether it is met.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from procs import target_cpu_s, timed_tree
from tools import (
    ROOT,
    VENV_BIN,
    WORK,
    Sample,
    from_summary,
    max_mode_command,
    summary_path,
    timed,
    webhookload,
    wrk,
)

CONNS = 3000
RATE = 5000
CORES = os.cpu_count() or 1  # --workers auto's shards, and wrk's threads beside them


def mark(ok: bool) -> str:
    return "met" if ok else "**not met**"


def raise_nofile(want: int = 65536) -> tuple[int, int]:
    """Raise this process's open-file limit (soft, up to the hard one), which the
    generators and nginx inherit: 3,000 connections need 3,000+ descriptors on
    each side. Returns the (soft, hard) limits now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def nginx_connections(template: str) -> int:
    """``worker_connections`` in an nginx template (it must allow 3,000+)."""
    for line in (ROOT / "bench" / template).read_text().splitlines():
        if "worker_connections" in line:
            return int(line.split("worker_connections")[1].strip(" ;}\t"))
    return 512  # nginx's default


def shard_saturation(doc: dict[str, Any]) -> str:
    """The generator's own verdict, per shard: lag p99 and CPU, and which saturated."""
    gen = doc["generator"]
    shards = gen.get("shards") or [dict(gen, shard=0, saturated=doc["generator_saturated"])]
    return "; ".join(
        f"shard {s['shard']}: {'**saturated**' if s['saturated'] else 'ok'} "
        f"(lag p99 {s['loop_lag_p99_ms']:.1f} ms, CPU {s['cpu_pct']:.0f} %)"
        for s in shards
    )


# -- 1. 3,000 connections against nginx answering after 20 ms -----------------


@dataclass
class Round:
    wl: Sample
    wrk: Sample
    doc: dict[str, Any]  # webhookload's JSON summary
    nginx_pct: tuple[float, float]  # nginx's CPU (% of a core) during each


@dataclass
class C3000:
    rounds: list[Round]
    nofile: tuple[int, int]
    nginx_conns: int
    secs: int


def c3000(url: str, secs: int, rounds: int) -> C3000:
    """webhookload and wrk at 3,000 connections, in alternating order per round."""
    label = f"{CONNS} VUs, --workers auto"
    pidfile = WORK / "nginx-delay" / "nginx.pid"

    def on_nginx(run: Callable[[], Sample]) -> tuple[Sample, float]:
        """The run, and nginx's CPU during it (% of one core)."""
        c0 = target_cpu_s(pidfile)
        s = run()
        return s, 100 * (target_cpu_s(pidfile) - c0) / s.seconds

    def wl() -> tuple[Sample, float]:
        extra = ("--workers", "auto")
        return on_nginx(lambda: webhookload(url, secs, CONNS, "fast", extra, label=label))

    def wr() -> tuple[Sample, float]:
        return on_nginx(lambda: wrk(url, secs, CONNS, threads=CORES))

    got = []
    for i in range(rounds):
        if i % 2:
            (k, kpct), (w, wpct) = wr(), wl()
        else:
            (w, wpct), (k, kpct) = wl(), wr()
        doc = json.loads(summary_path("fast", label).read_text())
        got.append(Round(w, k, doc, (wpct, kpct)))
        print(
            f"[c3000 {i + 1}/{rounds}] webhookload {w.rate:,.0f} req/s p99 {w.p99_ms} ms, "
            f"wrk {k.rate:,.0f} req/s p99 {k.p99_ms} ms; {shard_saturation(doc)}",
            flush=True,
        )
    conns = nginx_connections("nginx-delay.conf.in")
    return C3000(got, resource.getrlimit(resource.RLIMIT_NOFILE), conns, secs)


def c3000_lines(r: C3000) -> list[str]:
    lines = [
        f"## Scale: {CONNS:,} connections against nginx answering after 20 ms",
        "",
        f"nginx (one worker, `echo_sleep 0.02`, `worker_connections {r.nginx_conns}`); open-file "
        f"limit for every process {r.nofile[0]:,} (hard {r.nofile[1]:,}). webhookload "
        f"`--no-ui --vus {CONNS} --think 0 --workers auto` ({CORES} shards here) against wrk "
        f"`-t{CORES} -c{CONNS}`: as many threads as webhookload has shards, so both spread "
        f"over the same {CORES} cores, each thread holding {CONNS // CORES:,} connections, "
        f"the Lua body above. {r.secs} s each, {len(r.rounds)} rounds in alternating order; "
        "the ratios are the median of the rounds' paired ratios. nginx CPU = its CPU time "
        "during the run over the run's length: near 100 % (one core), the target rather "
        "than the generator sets the pace, and a p50 well above 20 ms says so too.",
        "",
        "| round | generator | req/s | p50 ms | p99 ms | errors | CPU-s | nginx CPU "
        "| generator saturation |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for i, rd in enumerate(r.rounds, 1):
        for s, pct, sat in (
            (rd.wl, rd.nginx_pct[0], shard_saturation(rd.doc)),
            (rd.wrk, rd.nginx_pct[1], "-"),
        ):
            lines.append(
                f"| {i} | {s.tool} | {s.rate:,.0f} | {_f(s.p50_ms)} | {_f(s.p99_ms)} | "
                f"{s.errors:,} | {s.cpu_s:.1f} | {pct:.0f} % | {sat} |"
            )
    ratio = statistics.median(rd.wl.rate / rd.wrk.rate for rd in r.rounds)
    d99 = statistics.median((rd.wl.p99_ms or 0.0) - (rd.wrk.p99_ms or 0.0) for rd in r.rounds)
    saturated = [
        f"round {i}: shard {', '.join(map(str, rd.doc['generator'].get('saturated_shards', [0])))}"
        for i, rd in enumerate(r.rounds, 1)
        if rd.doc["generator_saturated"]
    ]
    lines += [
        "",
        "| goal | value | target | |",
        "|---|---:|---|---|",
        f"| webhookload / wrk, req/s at {CONNS:,} connections | {ratio:.2f}× | ≥ 0.5× "
        f"| {mark(ratio >= 0.5)} |",
        f"| webhookload p99 − wrk p99 | {d99:+.2f} ms | within ± 5 ms | {mark(abs(d99) <= 5)} |",
        f"| generator saturated (any shard, any round) | {'; '.join(saturated) or 'no'} | no "
        f"| {mark(not saturated)} |",
        "",
        *little(r),
    ]
    return lines


def little(r: C3000) -> list[str]:
    """What Little's law says of the two p99 goals on this machine, from the numbers
    above: with no think time, each of the 3,000 connections always has one request
    out, so a request cycle lasts 3,000 / rate on average, whoever generates."""
    wrk_rate = statistics.median(rd.wrk.rate for rd in r.rounds)
    wl_rate = statistics.median(rd.wl.rate for rd in r.rounds)
    need = CONNS / 0.020
    return [
        f"Why the p99 and saturation goals fail here. With no think time each of the "
        f"{CONNS:,} connections always has a request out, so (Little's law) a request cycle "
        f"lasts {CONNS:,} ÷ rate on average: {1000 * CONNS / wrk_rate:.0f} ms at wrk's "
        f"{wrk_rate:,.0f} req/s, {1000 * CONNS / wl_rate:.0f} ms at webhookload's "
        f"{wl_rate:,.0f}, where nginx's own part is 20 ms. wrk is therefore CPU-bound on "
        f"these {CORES} cores too (its p50 is far above 20 ms). A generator's mean follows "
        "its rate and its p99 lies above its mean, so coming within 5 ms of wrk's p99 takes "
        "about wrk's rate at least, at C's cost per request. Not to be saturated at "
        f"{CONNS:,} connections a generator must keep up with {need:,.0f} req/s "
        f"({CONNS:,} ÷ 20 ms), {need / wrk_rate:.1f}× what wrk reaches here with a fresh "
        "body per request. On this machine the honest result is the one above: the "
        "generator says it is saturated, and which shard.",
        "",
    ]


def _f(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}"


# -- 2. --workers 2 against --workers 1, per CPU-second, all processes --------


@dataclass
class WorkerRun:
    sample: Sample
    proc_cpu_s: float
    parent_cpu_s: float
    processes: int


def workers_run(url: str, secs: int, vus: int, n: int) -> WorkerRun:
    out = summary_path("fast", f"workers {n}")
    cmd = [*max_mode_command(url, secs, vus, out), "--no-ui", "--workers", str(n)]
    gnu, procs, parent, count = timed_tree(cmd, f"workers{n}")
    s = from_summary(f"webhookload --no-ui (fast, --workers {n})", out, gnu, 0.0, cmd)
    return WorkerRun(s, procs, parent, count)


def independent_run(url: str, secs: int, vus: int) -> Sample:
    """The control: two plain ``--workers 1`` processes at once, each with half the
    VUs, no coordinator. What any two-process generator costs on this machine beside
    nginx (two event loops sharing the cores with it, each with fewer connections);
    ``--workers 2`` against this is what the sharding itself costs."""
    halves = (vus // 2, vus - vus // 2)
    outs = [summary_path("fast", f"independent {i}") for i in (0, 1)]
    cmds = [
        [*max_mode_command(url, secs, v, out), "--no-ui", "--workers", "1"]
        for v, out in zip(halves, outs, strict=True)
    ]
    with ThreadPoolExecutor(2) as pool:
        cpus = list(pool.map(lambda ic: timed(ic[1], tag=f"indep{ic[0]}")[1], enumerate(cmds)))
    docs = [json.loads(out.read_text()) for out in outs]
    return Sample(
        f"two independent --workers 1 processes, {halves[0]} + {halves[1]} VUs",
        sum(d["requests"]["total"] for d in docs),
        max(d["duration_s"] for d in docs),
        sum(cpus),
        None,
        None,
        0.0,
        " & ".join(" ".join(c).replace(str(ROOT) + "/", "") for c in cmds),
    )


Pair = tuple[WorkerRun, WorkerRun, Sample]
"""One adjacent (--workers 1, --workers 2, the independent control) group."""


def workers(url: str, secs: int, vus: int, pairs: int) -> list[Pair]:
    """``pairs`` adjacent groups of the three runs, the order rotating."""
    got: list[Pair] = []
    for i in range(pairs):
        runs: dict[str, Any] = {}
        order = ("1", "2", "i")[i % 3 :] + ("1", "2", "i")[: i % 3]
        for key in order:
            if key == "i":
                runs[key] = independent_run(url, secs, vus)
            else:
                runs[key] = workers_run(url, secs, vus, int(key))
        one, two, ind = runs["1"], runs["2"], runs["i"]
        got.append((one, two, ind))
        print(
            f"[workers {i + 1}/{pairs}] 1: {one.sample.per_cpu_s:,.0f} req/CPU-s, "
            f"2: {two.sample.per_cpu_s:,.0f} req/CPU-s "
            f"(/proc/GNU CPU {two.proc_cpu_s / two.sample.cpu_s:.0%}), "
            f"two independent: {ind.per_cpu_s:,.0f} req/CPU-s",
            flush=True,
        )
    return got


def workers_lines(got: list[Pair], secs: int, vus: int) -> list[str]:
    lines = [
        "## Scale: `--workers 2` against `--workers 1`, per CPU-second",
        "",
        f"nginx `return 202` as in the max-mode table, `--no-ui --vus {vus} --think 0`, {secs} s, "
        f"{len(got)} adjacent groups, the order rotating. CPU = user + sys from GNU time, which "
        "counts the process and every descendant it waited for (wait4's rusage): with "
        "`--workers 2` the parent and both shard processes. Cross-check: the CPU of every "
        "descendant read from /proc every 0.1 s (a lower bound: the last tenth of a second of "
        "each process is missed); without the shards GNU time's figure would be a fraction of it.",
        "",
        "| pair | workers | req/s | req per CPU-s | CPU-s (GNU time) | CPU-s (/proc, processes) "
        "| of which the parent | /proc ÷ GNU time |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for i, (one_run, two_run, _) in enumerate(got, 1):
        for n, run in enumerate((one_run, two_run), 1):
            s = run.sample
            lines.append(
                f"| {i} | {n} | {s.rate:,.0f} | {s.per_cpu_s:,.0f} | {s.cpu_s:.2f} | "
                f"{run.proc_cpu_s:.2f} ({run.processes}) | {run.parent_cpu_s:.2f} | "
                f"{run.proc_cpu_s / s.cpu_s:.0%} |"
            )
    ratios = sorted(two.sample.per_cpu_s / one.sample.per_cpu_s for one, two, _ in got)
    ratio = statistics.median(ratios)
    rounds = ", ".join(f"{x:.2f}" for x in ratios)
    machine = sorted(ind.per_cpu_s / one.sample.per_cpu_s for one, _, ind in got)
    own = sorted(two.sample.per_cpu_s / ind.per_cpu_s for _, two, ind in got)
    lines += [
        "",
        "The control, in each group: two independent `--workers 1` processes at once, "
        f"{vus // 2} + {vus - vus // 2} VUs, with no coordinator (each process's CPU from GNU "
        "time, summed). It is what running two event loops beside nginx on these cores "
        "costs whoever does it, so `--workers 2` against it is the sharding's own cost "
        "(the parent, a second start-up, the deltas).",
        "",
        "| group | two independent processes: req/s | req per CPU-s | CPU-s |",
        "|---:|---:|---:|---:|",
        *(
            f"| {i} | {ind.rate:,.0f} | {ind.per_cpu_s:,.0f} | {ind.cpu_s:.2f} |"
            for i, (_, _, ind) in enumerate(got, 1)
        ),
        "",
        "| goal | value | target | |",
        "|---|---:|---|---|",
        f"| `--workers 2` / `--workers 1`, req per CPU-s, all processes (median of pairs: "
        f"{rounds}) | {ratio:.2f}× | ≥ 0.85× | {mark(ratio >= 0.85)} |",
        f"| two independent processes / `--workers 1`, req per CPU-s (the machine's part; "
        f"median of {', '.join(f'{x:.2f}' for x in machine)}) | "
        f"{statistics.median(machine):.2f}× | (measured) | |",
        f"| `--workers 2` / two independent processes, req per CPU-s (the sharding's own "
        f"part; median of {', '.join(f'{x:.2f}' for x in own)}) | "
        f"{statistics.median(own):.2f}× | (measured) | |",
        "",
    ]
    return lines


# -- 3. the open model's rate accuracy ----------------------------------------


def rate_run(url: str, secs: int, max_inflight: int = 1000) -> tuple[Sample, dict[str, Any]]:
    out = summary_path("fast", f"rate {RATE}")
    cmd = [str(VENV_BIN / "webhookload-tui"), "--no-ui", "--target", url, "--rate", str(RATE)]
    cmd += ["--max-inflight", str(max_inflight), "--think", "0", "--duration", f"{secs}s"]
    _, cpu, rss = timed([*cmd, "--json", str(out)], tag="rate")
    s = from_summary(f"webhookload --no-ui (fast, --rate {RATE})", out, cpu, rss, cmd)
    doc = json.loads(out.read_text())
    arr = doc["arrivals"]
    print(
        f"[rate] asked {RATE}/s, achieved {arr['achieved_rate']:.1f}/s, dropped {arr['dropped']}",
        flush=True,
    )
    return s, doc


def rate_lines(s: Sample, doc: dict[str, Any], secs: int) -> list[str]:
    arr, inflight = doc["arrivals"], doc["config"]["max_inflight"]
    err = (arr["achieved_rate"] - RATE) / RATE
    return [
        "## Scale: the open model's arrival rate",
        "",
        f"`--no-ui --rate {RATE} --max-inflight {inflight} --think 0 --duration {secs}s` against "
        f"nginx `return 202` (one shard): {RATE:,} order journeys started per second (each "
        f"about 2.9 requests), at most {inflight:,} in flight: far more than journeys of "
        "sub-millisecond answers need, so only a stalled generator would drop arrivals.",
        "",
        "| asked journeys/s | achieved | error | started | dropped | req/s | corrected p99 ms "
        "| service p99 ms | generator |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        f"| {RATE:,} | {arr['achieved_rate']:,.1f} | {err:+.2%} | {arr['started']:,} | "
        f"{arr['dropped']:,} | {s.rate:,.0f} | {doc['latency_ms']['p99']:.2f} | "
        f"{doc['service_time_ms']['p99']:.2f} | {shard_saturation(doc)} |",
        "",
        "| goal | value | target | |",
        "|---|---:|---|---|",
        f"| achieved / asked arrival rate | {err:+.2%} | within ± 1 % | {mark(abs(err) <= 0.01)} |",
        "",
    ]
