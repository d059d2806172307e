"""CPU per request of the walkers themselves: ``--contract ingest``'s hand-written
Walker against ``--scenario ingest``'s FlowWalker (issue 17: a scenario file's
per-request cost must stay near today's).

A transport that answers 202 at once (no sockets, no server) so only the
walker's work is measured: planning, building each event, judging and
recording the answer, the flow counters. One VU, think 0, the same seed;
rounds alternate (contract, scenario, ...) and the median of each is reported.

    flock /work/wt/bench.lock .venv/bin/python bench/walkers.py [--rounds 7] [--journeys 20000]
"""

from __future__ import annotations

import argparse
import functools
import random
import statistics
import time

import anyio

from engine.domain.contracts import make_contract
from engine.metrics.stats import Stats
from engine.scenario.compiler import compile_scenario
from engine.scenario.flows import FlowWalker
from engine.scenario.journeys import plan_journey
from engine.scenario.loader import load_scenario
from engine.scenario.walk import Endpoints, Walker
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


def _walker(kind: str, stats: Stats) -> Walker | FlowWalker:
    if kind == "contract":
        plan = functools.partial(plan_journey, max_updates=3, dispute_ratio=0.3, read_ratio=0.0)
        return Walker(
            transport=Instant(),
            stats=stats,
            contract=make_contract("ingest"),
            endpoints=Endpoints.at("http://127.0.0.1:9"),
            plan=plan,
            think=0.0,
            now=time.perf_counter,
            sleep=_no_sleep,
        )
    return FlowWalker(
        transport=Instant(),
        stats=stats,
        scenario=compile_scenario(load_scenario("ingest")),
        target="http://127.0.0.1:9",
        think=0.0,
        now=time.perf_counter,
        sleep=_no_sleep,
    )


async def _round(kind: str, journeys: int) -> float:
    """µs of CPU per request over ``journeys`` journeys."""
    stats = Stats()
    walker = _walker(kind, stats)
    rng = random.Random(1)
    plan, walk = walker.plan, walker.walk
    t0 = time.process_time()
    for _ in range(journeys):
        await walk(plan(rng))  # type: ignore[arg-type]  # each walker takes its own plan
    cpu = time.process_time() - t0
    return cpu * 1e6 / stats.take(1.0).total


async def _main(rounds: int, journeys: int) -> None:
    runs: dict[str, list[float]] = {"contract": [], "scenario": []}
    for _ in range(rounds):
        for kind, out in runs.items():
            out.append(await _round(kind, journeys))
    base = statistics.median(runs["contract"])
    for kind, out in runs.items():
        med = statistics.median(out)
        print(f"{kind:<9} {med:6.2f} µs CPU/request (median of {rounds}; {base / med:.2f}x)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--journeys", type=int, default=20000)
    args = p.parse_args()
    anyio.run(_main, args.rounds, args.journeys)


if __name__ == "__main__":
    main()
