"""CPU per request of webhookload's own Python, without the network.

The walker (``--scenario``'s compiled FlowWalker) sends real journeys
(planned as a run plans them, built by the scenario's compiled builders,
signed with ``--sign``, recorded into :class:`Stats`) through a transport
that answers 202 at once: what is measured is the scenario, the request
building, signing and stats, not the kernel, the event loop or the HTTP
client (bench/ab.py measures the whole process). In one process and on
``process_time``, it is steady enough on a busy machine to show a change of
a few percent, which whole runs cannot.

    .venv/bin/python bench/hotpath.py [--scenario ingest] [--sign] [--profile]

Prints the best of 5 rounds of 100,000 journeys (about 286,000 requests with
``ingest``); ``--profile`` prints cProfile's top entries instead (on
``process_time``).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import random
import sys
import time

import uvloop

from engine.domain.signing import make_signer
from engine.metrics.stats import Stats
from engine.scenario.compiler import compile_scenario
from engine.scenario.delivery import Dressing
from engine.scenario.flows import FlowWalker
from engine.scenario.loader import load_scenario
from engine.transports.base import Headers, Reply


class Instant:
    """Answers every request with a 202 at once, and counts them."""

    def __init__(self) -> None:
        self.n = 0

    async def post(self, url: str, body: bytes, headers: Headers = ()) -> Reply:
        self.n += 1
        return 202, time.perf_counter(), b""

    async def get(self, url: str) -> Reply:
        self.n += 1
        return 200, time.perf_counter(), b""

    async def aclose(self) -> None:
        pass


async def walk(journeys: int, sign: bool, scenario: str = "ingest") -> tuple[int, float]:
    """(requests, CPU seconds) of ``journeys`` journeys of ``scenario``."""
    transport = Instant()
    walker = FlowWalker(
        transport=transport,
        stats=Stats(),
        scenario=compile_scenario(load_scenario(scenario)),
        target="http://127.0.0.1:8080",
        think=0.0,
        now=time.perf_counter,
        sleep=asyncio.sleep,
        dressing=Dressing((), make_signer("stripe", "bench-secret")) if sign else None,
    )
    rng = random.Random(1)
    run, plan = walker.walk, walker.plan
    t0 = time.process_time()
    for _ in range(journeys):
        await run(plan(rng))
    return transport.n, time.process_time() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenario", default="ingest", help="a built-in scenario or a file")
    ap.add_argument("--sign", action="store_true", help="--sign stripe")
    ap.add_argument("--profile", action="store_true", help="cProfile's top entries instead")
    a = ap.parse_args()
    if a.profile:
        prof = cProfile.Profile(time.process_time)
        prof.enable()
        uvloop.run(walk(100_000, a.sign, a.scenario))
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(20)
        return 0
    rounds = (uvloop.run(walk(100_000, a.sign, a.scenario)) for _ in range(5))
    best = min(cpu / n * 1e6 for n, cpu in rounds)
    label = f"{a.scenario}, " + ("--sign stripe" if a.sign else "unsigned")
    print(f"{label}: {best:.3f} us of CPU per request (best of 5 rounds of 100,000 journeys)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
