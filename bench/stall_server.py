"""A target that stalls, for `make bench`: every answer is 202 at once, except
during the last ``--stall`` seconds of every ``--period`` (1 s of 5 s by
default), when every answer is held until the window ends. It shows what
coordinated omission hides: a closed set of VUs stops sending while the
service stalls, so only a handful of requests see the stall; an open model
keeps sending, and every request that arrives in the window waits.

The period starts at the first request (a preflight probe is only a
connection), so a run sees its stalls at 4-5 s, 9-10 s, ... of its traffic.
Prints ``listening on http://127.0.0.1:PORT`` on start and ``served N held M``
when terminated (SIGTERM or SIGINT). HTTP/1.1 keep-alive, Content-Length
bodies, no pipelining: what webhookload and wrk send.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import time

RESPONSE = b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"


class Stall:
    """When answers are held: the last ``stall`` seconds of every ``period``."""

    def __init__(self, period: float, stall: float) -> None:
        self.period, self.stall = period, stall
        self.t0: float | None = None
        self.served = self.held = 0

    def hold_for(self) -> float:
        """Seconds to hold an answer due now (0 outside a stall window)."""
        now = time.monotonic()
        if self.t0 is None:
            self.t0 = now
        phase = (now - self.t0) % self.period
        return self.period - phase if phase >= self.period - self.stall else 0.0


async def serve_connection(
    stall: Stall, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            hold = stall.hold_for()
            if hold:
                stall.held += 1
                await asyncio.sleep(hold)
            stall.served += 1
            writer.write(RESPONSE)
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        pass
    finally:
        writer.close()


async def main_async(port: int, period: float, stall_s: float) -> None:
    stall = Stall(period, stall_s)
    server = await asyncio.start_server(
        lambda r, w: serve_connection(stall, r, w), "127.0.0.1", port, backlog=4096
    )
    bound = server.sockets[0].getsockname()[1]
    print(f"listening on http://127.0.0.1:{bound}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()
    print(f"served {stall.served} held {stall.held}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--period", type=float, default=5.0, help="seconds (default 5)")
    ap.add_argument("--stall", type=float, default=1.0, help="seconds held per period")
    a = ap.parse_args()
    try:
        import uvloop  # the bench venv has it; plain asyncio otherwise
    except ImportError:
        asyncio.run(main_async(a.port, a.period, a.stall))
    else:
        uvloop.run(main_async(a.port, a.period, a.stall))


if __name__ == "__main__":
    main()
