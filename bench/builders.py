"""Events built per CPU-second: the compiled ``ingest`` scenario file against
the hand-written builder it replaces (issue 17: the compiled one must reach
0.95x of it).

The baseline is bench/baseline_contracts.py's ``IngestContract``: the
hand-written builder ``--contract ingest`` used until December 2026, verbatim.
Both sides build the same journeys: a new order (its ids and ``created_at``),
its events ``created, updated, success``, then a dispute ``opened, updated,
closed won``, for the same statuses, the same clock and the same id stream.
Rounds alternate (baseline, compiled, baseline, ...) so a noisy neighbour
hurts both; the median of each side is reported.

    flock /work/wt/bench.lock .venv/bin/python bench/builders.py [--rounds 7] [--journeys 20000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable

from baseline_contracts import IngestContract

from engine.domain.clock import WallClock
from engine.scenario.compiled import CompiledFlow, EventBuilder
from engine.scenario.compiler import compile_scenario
from engine.scenario.loader import load_scenario

EVENTS_PER_JOURNEY = 6


def baseline(clock: WallClock) -> Callable[[int], None]:
    contract = IngestContract(clock)

    def run(journeys: int) -> None:
        new_order, order_event, chargeback = (
            contract.new_order,
            contract.order_event,
            contract.chargeback_event,
        )
        for _ in range(journeys):
            order = new_order()
            order_event(order, "created")
            order_event(order, "updated")
            order_event(order, "success")
            chargeback(order, "opened", None)
            chargeback(order, "updated", None)
            chargeback(order, "closed", "won")

    return run


def compiled(clock: WallClock) -> Callable[[int], None]:
    scenario = compile_scenario(load_scenario("ingest"), clock=clock)
    order_flow, dispute_flow = scenario.flow("order"), scenario.flow("dispute")
    start_order, start_dispute = order_flow.start, dispute_flow.start
    created, updated, success = (_build(order_flow, s) for s in ("created", "updated", "success"))
    opened, d_updated, won = (_build(dispute_flow, s) for s in ("opened", "updated", "won"))
    rng = random.Random(1)

    def run(journeys: int) -> None:
        for _ in range(journeys):
            v = start_order(None, rng)
            created(v, None, rng)
            updated(v, None, rng)
            success(v, None, rng)
            dv = start_dispute(v, rng)
            opened(dv, v, rng)
            d_updated(dv, v, rng)
            won(dv, v, rng)

    return run


def _build(flow: CompiledFlow, state: str) -> EventBuilder:
    build = flow.state(state).build
    assert build is not None  # a webhook state
    return build


def measure(rounds: int, journeys: int) -> dict[str, list[float]]:
    """Events per CPU-second of each side, one number per round, alternating."""
    clock = WallClock()
    sides = {"hand-written builder": baseline(clock), "compiled ingest file": compiled(clock)}
    for run in sides.values():
        run(journeys)  # warm up: caches, the clock's stamp, the CPU's frequency
    rates: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(rounds):
        for name, run in sides.items():
            t0 = time.process_time()
            run(journeys)
            rates[name].append(journeys * EVENTS_PER_JOURNEY / (time.process_time() - t0))
    return rates


def lines(rates: dict[str, list[float]], journeys: int) -> list[str]:
    """The section of docs/BENCHMARKS.md."""
    base, comp = (statistics.median(v) for v in rates.values())
    out = [
        "## Building events: the compiled scenario file vs the hand-written builder",
        "",
        f"Events built per CPU-second (median of {len(next(iter(rates.values())))} alternating "
        f"rounds of {journeys:,} journeys, {EVENTS_PER_JOURNEY} events each; bench/builders.py). "
        "Issue 17 asks the compiled `ingest` file for at least 0.95x of the builder.",
        "",
        "| builder | events / CPU-s | rounds (k events / CPU-s) |",
        "|---|---:|---|",
    ]
    for name, v in rates.items():
        out.append(
            f"| {name} | {statistics.median(v):,.0f} | {', '.join(f'{x / 1e3:.0f}' for x in v)} |"
        )
    out += ["", f"Compiled / hand-written: **{comp / base:.2f}x**.", ""]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--journeys", type=int, default=20_000)
    a = ap.parse_args()
    print("\n".join(lines(measure(a.rounds, a.journeys), a.journeys)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
