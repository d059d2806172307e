"""The open model on real loopback sockets, bounded to a few seconds, and what the
live view shows. No timing assertions: the rate check allows several percent
(the 1 % goal is for the benchmark), and a stall of a second is asserted
only as "at least half a second" (a slow machine only makes it longer)."""

from __future__ import annotations

import io
import threading
import time

import pytest

from engine.config import build_config
from engine.metrics.stats import Snapshot
from engine.outputs.summary import result_json
from engine.run.runner import Runner
from tests.helpers import target_process
from tests.misbehaving import Action, Peer, Request, response, scripted_server
from tui.headless import ProgressLine

pytestmark = pytest.mark.anyio


async def test_the_asked_rate_is_achieved_against_the_reference_target() -> None:
    """200 journeys/s for 3 s: every arrival started (none dropped), and the
    achieved rate within a few percent of the asked one."""
    with target_process() as url:
        cfg = build_config({"target": url, "rate": "200", "duration": "3s", "think": "0"})
        result = await Runner(cfg).run()
    arrivals = result_json(result)["arrivals"]
    assert arrivals["dropped"] == 0
    assert abs(arrivals["achieved_rate"] - 200) / 200 < 0.05, arrivals
    assert result.total.success > 0 and result.total.errors == 0


async def test_a_stalling_server_shows_in_the_corrected_latency() -> None:
    """A loopback server (threads, outside the loop under test) that stalls 1 s
    every 2 s: the open model keeps sending through the stall, and the
    corrected p99 shows it; it is never below the service time's."""
    t0 = time.monotonic()
    answered = threading.Event()

    def stall_then_answer(peer: Peer, _request: Request) -> Action:
        phase = (time.monotonic() - t0) % 2.0
        if phase >= 1.0:  # the stall: answer when it ends
            peer.sleep(2.0 - phase)
        peer.send(response(202))
        answered.set()
        return "keep"

    async with scripted_server(stall_then_answer) as server:
        cfg = build_config(
            {"target": server.url, "rate": "40", "duration": "3s", "think": "0", "timeout": "5s"}
        )
        result = await Runner(cfg, preflight=_reachable).run()
    total = result.total
    assert answered.is_set() and total.success > 0
    corrected = total.percentiles_s(99)[99]
    service = total.service_time.percentiles_s(99)[99]
    assert corrected is not None and service is not None
    assert corrected >= 0.5, (corrected, service)
    assert corrected >= service


async def _reachable(_url: str) -> None:
    return None


def test_the_progress_line_shows_the_stage_and_dropped_arrivals() -> None:
    cfg = build_config({"stages": "10s:10,5s:0", "rate": "1"})
    out = io.StringIO()
    line = ProgressLine(out, cfg.duration, True, config=cfg)
    line.on_snapshot(Snapshot(start=0.0, end=12.5, arrivals=40, dropped=3))
    text = out.getvalue()
    assert "stage 2/2, target 5.0/s" in text
    assert "! 3 arrivals dropped (--max-inflight full)" in text
    closed = build_config({"stages": "10s:10,5s:0"})
    line = ProgressLine(io.StringIO(), closed.duration, True, config=closed)
    line.window.add(Snapshot(start=0.0, end=12.5))
    assert "stage 2/2, target 5 VUs" in line.render()
