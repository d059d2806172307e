"""CPU per request of the walker itself, per built-in scenario: the compiled
FlowWalker that every run walks (the default ``ingest``, ``plan``,
``stripe``; issue 17: a scenario file's per-request cost must stay near the
hand-written walker's, which ``--contract ingest`` ran until December 2026:
5.90 µs against the FlowWalker's 6.22 µs on ``ingest`` then, this script's
last run with both; docs/PERFORMANCE.md).

A transport that answers 202 at once (no sockets, no server) so only the
walker's work is measured: planning, building each event, judging and
recording the answer, the flow counters. One VU, think 0, the same seed;
rounds alternate between the scenarios and the median of each is reported,
relative to the first.

    flock /work/wt/bench.lock .venv/bin/python bench/walkers.py \\
        [--rounds 7] [--journeys 20000] [--scenarios ingest,stripe]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

import anyio

from engine.metrics.stats import Stats
from engine.scenario.compiler import compile_scenario
from engine.scenario.flows import FlowWalker
from engine.scenario.loader import load_scenario
from engine.transports import Headers, Reply


class Instant:
    """Answers every request at once."""

    async def post(self, url: str, body: bytes, headers: Headers = ()) -> Reply:
        return 202, time.perf_counter(), b""

    async def get(self, url: str) -> Reply:
        return 200, time.perf_counter(), b""

    async def aclose(self) -> None:
        pass


async def _no_sleep(seconds: float) -> None:
    pass


def _walker(name: str, stats: Stats) -> FlowWalker:
    return FlowWalker(
        transport=Instant(),
        stats=stats,
        scenario=compile_scenario(load_scenario(name)),
        target="http://127.0.0.1:9",
        think=0.0,
        now=time.perf_counter,
        sleep=_no_sleep,
    )


async def _round(kind: str, journeys: int) -> float:
    """µs of CPU per request over ``journeys`` journeys."""
    stats = Stats(endpoints=compile_scenario(load_scenario(kind)).endpoints)
    walker = _walker(kind, stats)
    rng = random.Random(1)
    plan, walk = walker.plan, walker.walk
    t0 = time.process_time()
    for _ in range(journeys):
        await walk(plan(rng))
    cpu = time.process_time() - t0
    return cpu * 1e6 / stats.take(1.0).total


async def _main(rounds: int, journeys: int, names: list[str]) -> None:
    runs: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(rounds):
        for kind, out in runs.items():
            out.append(await _round(kind, journeys))
    base = statistics.median(runs[names[0]])
    for kind, out in runs.items():
        med = statistics.median(out)
        print(f"{kind:<9} {med:6.2f} µs CPU/request (median of {rounds}; {base / med:.2f}x)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--journeys", type=int, default=20000)
    p.add_argument(
        "--scenarios", default="ingest,plan,stripe", help="built-in names, comma-separated"
    )
    args = p.parse_args()
    anyio.run(_main, args.rounds, args.journeys, args.scenarios.split(","))


if __name__ == "__main__":
    main()
