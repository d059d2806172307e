"""CPU per request of webhookload's own Python, without the network.

The walker (``--scenario``'s compiled FlowWalker) sends real journeys
(planned as a run plans them, built by the scenario's compiled builders,
signed with ``--sign``, recorded into :class:`Stats`) through the ``fast``
transport, whose one connection's socket answers 202 at once into its
parser in the loop's next turn: what is measured is webhookload's Python
per request (scenario, building, signing, framing, parsing, stats, the
await chain and a task's wake-up), not the kernel or the event loop's
polling (bench/ab.py measures the whole process). In one process and on
``process_time``, it is steady enough on a busy machine to show a change of
a few percent, which whole runs cannot.

    .venv/bin/python bench/hotpath.py [--scenario ingest] [--sign [SCHEME]] [--profile]

``--sign`` alone is ``--sign stripe``; any built-in scheme may be named (its
secret is :func:`bench_secret`'s, of the form the scheme's key decoding wants).

One VU of the closed model walks journeys back to back, as in a run. Prints
the best of 5 rounds of 286,000 requests (about 100,000 journeys of
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
from collections.abc import Callable

import anyio
import uvloop

from engine.domain.schemes import builtin
from engine.domain.signing import SCHEMES, make_signer
from engine.load.clock import SYSTEM_CLOCK
from engine.load.closed import ClosedModel
from engine.metrics.stats import Stats
from engine.scenario.compiler import compile_scenario
from engine.scenario.delivery import Dressing
from engine.scenario.flows import FlowWalker
from engine.scenario.loader import load_scenario
from engine.transports.fast import FastTransport
from engine.transports.fast_conn import Conn

REQUESTS = 286_000  # about 100,000 journeys of ingest
ANSWER = b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"
_HEX_SECRET = "62656e63682d736563726574"  # b"bench-secret" as hex
_WHSEC_SECRET = "whsec_YmVuY2gtc2VjcmV0"  # b"bench-secret" as whsec_<base64>


def bench_secret(scheme: str) -> str:
    """A secret ``scheme`` accepts: its key decoding's form of ``bench-secret``."""
    key = builtin(scheme).key
    return {"hex": _HEX_SECRET, "whsec-base64": _WHSEC_SECRET}.get(key, "bench-secret")


class Loopback:
    """The socket of a ``fast`` connection, answering every request it is given
    with a 202 in the event loop's next turn (into the connection's parser, as
    if it came back): the walker's task waits and wakes per request as in a run."""

    def __init__(self) -> None:
        self.conn: Conn | None = None
        self.n = 0
        self.limit = 0
        self.stop: Callable[[], object] = lambda: None
        self._soon = asyncio.get_running_loop().call_soon

    def write(self, data: bytes) -> None:
        self.n += 1
        assert self.conn is not None
        if self.n >= self.limit:
            self.stop()
        self._soon(self.conn.data_received, ANSWER)  # in the loop's next turn, as a socket's

    def is_closing(self) -> bool:
        return False

    def abort(self) -> None:
        pass


def instant(url: str) -> tuple[FastTransport, Loopback]:
    """The ``fast`` transport, with one idle connection to ``url``'s origin whose
    socket answers at once: what is measured is all of webhookload's Python per
    request (head, future, parser, walker, builders, stats, a task's wake-up),
    not the kernel's or the event loop's polling."""
    transport = FastTransport(pool_size=1, timeout=60.0)
    origin = transport._route("POST", url)[0]
    sock = Loopback()
    conn = sock.conn = Conn(transport, origin)
    conn.transport = sock  # type: ignore[assignment]  # the one method used: write
    conn.closed = False
    transport._open = 1
    origin.idle[conn] = None
    return transport, sock


async def walk(requests: int, sign: str, scenario: str = "ingest") -> tuple[int, float]:
    """(requests, CPU seconds) of ``scenario``'s journeys, until ``requests`` were
    sent, signed with the built-in scheme ``sign`` ("": unsigned)."""
    target = "http://127.0.0.1:8080"
    transport, sock = instant(target)
    walker = FlowWalker(
        transport=transport,
        stats=Stats(),
        scenario=compile_scenario(load_scenario(scenario)),
        target=target,
        think=0.0,
        now=time.perf_counter,
        sleep=asyncio.sleep,
        dressing=Dressing((), make_signer(sign, bench_secret(sign))) if sign else None,
    )
    # one VU of the closed model, as a run drives it, until ``requests`` were sent
    model = ClosedModel(1, 0.0, lambda _: random.Random(1))
    t0 = time.process_time()
    async with anyio.create_task_group() as tg:
        sock.limit, sock.stop = requests, tg.cancel_scope.cancel
        tg.start_soon(model.drive, walker, SYSTEM_CLOCK)
    cpu = time.process_time() - t0
    await transport.aclose()
    return sock.n, cpu


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenario", default="ingest", help="a built-in scenario or a file")
    ap.add_argument(
        "--sign", nargs="?", const="stripe", default="", choices=SCHEMES, help="a scheme"
    )
    ap.add_argument("--profile", action="store_true", help="cProfile's top entries instead")
    a = ap.parse_args()
    if a.profile:
        prof = cProfile.Profile(time.process_time)
        prof.enable()
        uvloop.run(walk(REQUESTS, a.sign, a.scenario))
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(20)
        return 0
    rounds = (uvloop.run(walk(REQUESTS, a.sign, a.scenario)) for _ in range(5))
    best = min(cpu / n * 1e6 for n, cpu in rounds)
    label = f"{a.scenario}, " + (f"--sign {a.sign}" if a.sign else "unsigned")
    print(f"{label}: {best:.3f} us of CPU per request (best of 5 rounds of {REQUESTS:,} requests)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
