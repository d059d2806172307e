"""No process is left behind: the builtin target dies with its parent, and a
terminated engine worker stops its run gracefully (closing what it started)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import orjson

from engine.config import build_config
from engine.run.builtin_target import READY_PREFIX
from engine.shards.protocol import Decoder, DeltaMsg, ResultMsg
from engine.shards.worker import config_json


def test_builtin_target_exits_when_its_parent_pipe_closes() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "target", "--port", "0", "--exit-with-parent"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdin is not None
    assert proc.stdout.readline().startswith(READY_PREFIX)
    proc.stdin.close()  # what the kernel does when the parent dies, even by SIGKILL
    try:
        assert proc.wait(timeout=15) == 0
    finally:
        proc.kill()
        proc.stdout.close()


def test_terminated_worker_stops_gracefully_and_still_reports() -> None:
    cfg = build_config({"target": "builtin", "duration": "0", "vus": "2"})
    worker = subprocess.Popen(
        [sys.executable, "-m", "engine.shards.worker", orjson.dumps(config_json(cfg)).decode()],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert worker.stdout is not None
    try:
        first = worker.stdout.read(4)  # the first frame arrives once the run is going
        assert len(first) == 4
        time.sleep(0.5)
        worker.send_signal(signal.SIGTERM)
        rest = first + worker.stdout.read()
        assert worker.wait(timeout=15) == 0
    finally:
        worker.kill()
        worker.stdout.close()
        if worker.stdin:
            worker.stdin.close()
    kinds = [type(msg) for msg in Decoder().feed(rest)]
    assert kinds[-1] is ResultMsg and DeltaMsg in kinds


def test_the_target_announces_what_the_launcher_waits_for() -> None:
    """The target may import only the engine's domain, so the ready line is
    written in both places; they must not drift apart."""
    from engine.run import builtin_target
    from target import __main__ as target_main

    assert target_main.READY_PREFIX == builtin_target.READY_PREFIX
