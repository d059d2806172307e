"""Pacing under failure: a rejecting or down service never gets more load than a
healthy one, and a VU that fails without ever waiting still lets the run end.

Counts, never timings: each test compares how many requests were sent with a
generous bound that the old behaviour (the next journey at once after a
failure) exceeded many times over.
"""

from __future__ import annotations

import resource
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import anyio
import anyio.to_thread
import pytest

from engine.config import build_config
from engine.run.builtin_target import READY_PREFIX
from engine.run.runner import Runner
from tests.helpers import target_process

pytestmark = pytest.mark.anyio


async def test_a_service_that_rejects_everything_gets_no_more_requests() -> None:
    """The plan's field names against the ingest contract: every request is a 400.
    Before, each rejected ``created`` started the next order at once: with
    think 50 ms that was tens of times the requests of the accepted run."""
    with target_process() as url:
        base = {"target": url, "vus": "4", "duration": "1500ms", "think": "50ms"}
        accepted = (await Runner(build_config(base)).run()).total
        rejected = (await Runner(build_config({**base, "contract": "plan"})).run()).total
    assert accepted.success > 0 and accepted.errors == 0
    assert rejected.success == 0 and set(rejected.status_codes) == {400}
    assert rejected.total <= 3 * accepted.total, (rejected.total, accepted.total)


@contextmanager
def stoppable_target() -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """The reference target as a process the test can stop mid-run (an outage)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "target", "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith(READY_PREFIX), line
        yield line[len(READY_PREFIX) :], proc
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout:
            proc.stdout.close()


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    proc.wait(timeout=10)


async def test_an_outage_is_not_hammered() -> None:
    """The service goes away 0.5 s into a 2.5 s run: about 2 s of refused
    connections. Before, each VU retried as fast as connects failed (tens of
    thousands of errors); now it keeps the think time's pace."""
    vus, duration_s, think_s = 4, 2.5, 0.05
    with stoppable_target() as (url, proc):
        cfg = build_config({"target": url, "vus": str(vus), "duration": "2500ms", "think": "50ms"})
        runner = Runner(cfg)

        async def outage() -> None:
            await anyio.sleep(0.5)
            await anyio.to_thread.run_sync(_stop, proc)

        async with anyio.create_task_group() as tg:
            tg.start_soon(outage)
            total = (await runner.run()).total
    assert total.errors_by_kind.get("connect", 0) > 0, total.errors_by_kind
    # A VU sends at most 2 requests per think time (a 2-step order), accepted or not.
    assert total.total <= 2 * vus * duration_s / think_s, total.total
    refused = [f for f in total.sample_failures if f.kind == "connect"]
    assert refused and refused[0].status is None and refused[0].detail


def _few_file_descriptors() -> None:
    # the hard limit too: the CLI raises the soft limit to the hard one
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(64, hard), min(64, hard)))


def test_aiohttp_out_of_file_descriptors_still_ends() -> None:
    """With 64 file descriptors and 100 VUs, aiohttp raises its connect error
    without yielding to the event loop; with think 0 the VU loop never let the
    deadline fire, and the run spun forever. A hang check, not a timing one."""
    with target_process() as url:
        proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "tui.cli", "--no-ui", "--vus", "100", "--think", "0"),
                *("--duration", "2s", "--client", "aiohttp", "--target", url),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=_few_file_descriptors,
        )
        try:
            out, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            pytest.fail("the run did not end within 60 s of a 2 s duration")
    assert "========== SUMMARY ==========" in out, err
    assert "connect=" in out, out  # the descriptors did run out
