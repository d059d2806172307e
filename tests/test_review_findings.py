"""A newcomer's review of ``--no-ui`` and ``make demo``: the builtin target's real
URL, a second Ctrl+C, cancellations named by what ended the run, ``make demo``
ended by the user, and open-file limits."""

from __future__ import annotations

import json
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import cast

import anyio
import pytest

from engine.config import build_config
from engine.errors import EXIT_INTERRUPTED
from engine.load.base import Walker
from engine.load.clock import SYSTEM_CLOCK
from engine.load.closed import START_BATCH, ClosedModel
from engine.metrics.stats import Stats
from engine.outputs.summary import result_json, result_lines
from engine.run.fdlimit import fd_warning
from engine.run.runner import RunResult
from tui.headless import SAME_STOP_S

CMD = [sys.executable, "-m", "tui.cli"]
ROOT = Path(__file__).resolve().parent.parent


def test_the_banner_names_the_builtin_targets_real_url() -> None:
    res = subprocess.run(
        [*CMD, "--no-ui", "--target", "builtin", "--duration", "300ms", "--vus", "2"],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == "Starting load test: 2 VUs, 300ms duration"
    assert re.fullmatch(
        r"Target: http://127\.0\.0\.1:\d+ \(the builtin reference target\)", lines[1]
    ), lines[:3]
    assert lines[2].startswith("Seed: ")


STOPPING = """
import asyncio, sys
from engine.config import build_config
from engine.metrics.stats import Stats
from engine.run.runner import RunResult
from tui import headless

STOP_TAKES = {"stuck": 60.0, "slow": 0.5}[sys.argv[1]]

class Stopping:
    '''A run whose stop takes STOP_TAKES seconds: "stuck", forever (thousands of
    tasks still cancelling); "slow", half a second (the builtin target's shutdown).'''
    def __init__(self, config, sinks=()):
        self.config, self.sinks, self.stopped = config, sinks, asyncio.Event()
    async def run(self):
        stats = Stats()
        for _ in range(3):
            stats.record_response(0, 202, 1500)
        delta = stats.take(1.0)
        for sink in self.sinks:
            sink.on_snapshot(delta)
        print("running", file=sys.stderr, flush=True)
        await self.stopped.wait()
        await asyncio.sleep(STOP_TAKES)
        return RunResult(self.config, "http://127.0.0.1:9", delta, 1.0, stopped=True)
    def stop(self):
        print("stopping", file=sys.stderr, flush=True)
        self.stopped.set()

headless.make_runner = Stopping
cfg = build_config({"target": "http://127.0.0.1:9", "duration": "0", "seed": "1"})
sys.exit(headless.run_headless(cfg, *sys.argv[2:]))  # the JSON's path, if given
"""


def _read_until(stream: object, word: str) -> None:
    assert hasattr(stream, "readline")
    while (line := stream.readline()) and line.strip() != word:
        pass


def _stopping(*args: str) -> subprocess.Popen[str]:
    """The ``STOPPING`` script with ``args`` (its mode, the JSON's path), pipes kept."""
    return subprocess.Popen(
        [sys.executable, "-c", STOPPING, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
    )


def test_a_second_ctrl_c_ends_the_line_says_so_and_prints_what_was_measured() -> None:
    proc = _stopping("stuck")
    try:
        _read_until(proc.stderr, "running")
        proc.send_signal(signal.SIGINT)
        _read_until(proc.stderr, "stopping")  # the first stop is under way, and stuck
        time.sleep(SAME_STOP_S)  # a person's second Ctrl+C, not the first one sent twice
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == EXIT_INTERRUPTED == 130
    assert "Requests:    3" in out  # what was measured until the second Ctrl+C
    assert "Cancelled when stopped: 0" in out
    assert err.endswith(
        "webhookload-tui: interrupted again: exiting without waiting for the run to end"
        " (the summary above is what was measured until now)\n"
    ), err


def test_a_signal_sent_twice_at_once_is_one_stop_and_the_json_is_written(tmp_path: Path) -> None:
    """GNU ``timeout`` sends its SIGTERM to the command and then to its process
    group: twice at once. That is one stop, which ends the run and writes its
    outputs, not the "interrupted again" exit that skips them (a newcomer's
    ``timeout 3 webhookload-tui --target builtin … --json`` lost its JSON 1 run
    in ~12: the builtin target's shutdown made the stop slow enough)."""
    doc = tmp_path / "run.json"
    proc = _stopping("slow", str(doc))
    try:
        _read_until(proc.stderr, "running")
        proc.send_signal(signal.SIGTERM)
        _read_until(proc.stderr, "stopping")  # the first is handled, the stop under way
        proc.send_signal(signal.SIGTERM)  # within SAME_STOP_S of it, as timeout's is
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 143, err
    assert "interrupted again" not in err
    assert "Terminated by SIGTERM (exit 143)" in out, (out, err)
    assert json.loads(doc.read_text())["requests"]["total"] == 3


def _result(stopped: bool) -> RunResult:
    stats = Stats()
    stats.record_response(0, 202, 1500)
    stats.record_cancelled()
    return RunResult(build_config({}), "http://127.0.0.1:9", stats.take(2.0), 2.0, stopped)


def test_cancellations_are_named_by_what_ended_the_run() -> None:
    stopped, ended = _result(True), _result(False)
    assert "Cancelled when stopped: 1" in result_lines(stopped)
    assert "Cancelled at deadline: 1" in result_lines(ended)
    assert not any("at deadline" in line for line in result_lines(stopped))
    for result, when in ((stopped, "stop"), (ended, "deadline")):
        doc = json.loads(json.dumps(result_json(result)))
        assert doc["cancelled_in_flight"] == 1 and doc["cancelled_at"] == when
        assert doc["cancelled_at_deadline"] == 1  # the old key, kept as it was


def _fake_cli(tmp_path: Path, code: int) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "webhookload-tui"
    fake.write_text(f"#!/bin/sh\nexit {code}\n")
    fake.chmod(0o755)
    return bin_dir


@pytest.mark.parametrize(("code", "make_ok"), [(130, True), (0, True), (3, False)])
def test_make_demo_ended_by_the_user_is_not_an_error(
    tmp_path: Path, code: int, make_ok: bool
) -> None:
    """q or Ctrl+C in the demo exits 130 (the CLI's code): make must not report
    ``Error 130``; any other failure still fails make."""
    bin_dir = _fake_cli(tmp_path, code)
    res = subprocess.run(
        ["make", "-s", "-C", str(ROOT), "-o", "install", "demo", f"BIN={bin_dir}"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert (res.returncode == 0) == make_ok, res.stderr
    assert "Error 130" not in res.stderr
    if not make_ok:
        assert f"Error {code}" in res.stderr


def test_the_cli_raises_the_open_file_limit_and_warns_when_still_short() -> None:
    """Soft 256, hard 512: the CLI raises the soft limit to 512 (its child sees
    it), and --vus 1000 still needs more: one line names the flag and the limit."""
    probe = "import resource; print(resource.getrlimit(resource.RLIMIT_NOFILE)[0])"
    script = (
        "from tui.cli import main; import subprocess, sys;"
        "code = main(sys.argv[1:]);"
        f"subprocess.run([sys.executable, '-c', {probe!r}]); sys.exit(code)"
    )
    res = subprocess.run(
        [
            "sh",
            "-c",
            'ulimit -S -n 256 && ulimit -H -n 512 && exec "$@"',
            "sh",
            sys.executable,
            "-c",
            script,
            *("--no-ui", "--target", "http://127.0.0.1:1", "--vus", "1000"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert res.returncode == 3, res.stderr  # unreachable: nothing was sent
    assert res.stdout.splitlines()[-1] == "512"
    warnings = [line for line in res.stderr.splitlines() if "open-file limit" in line]
    assert warnings == [
        "webhookload-tui: warning: --vus 1000 needs about 1064 open files, over the"
        " open-file limit of 512 (ulimit -n, already raised to the hard limit):"
        " connections past it fail as connect errors; raise the hard limit (ulimit -Hn),"
        " lower --vus or spread the load over more --workers (each has its own limit)"
    ]


def test_the_open_file_warning_names_the_flag_of_the_load_model() -> None:
    rate = build_config({"rate": "100", "max_inflight": "5000"})
    assert "--max-inflight 5000 needs about 5064" in (fd_warning(rate, 1024) or "")
    staged = build_config({"stages": "1s:3000,1s:0", "workers": "2"})
    text = fd_warning(staged, 1024) or ""
    assert "--stages (peak 3000 VUs) needs about 1564 open files per worker process" in text
    assert fd_warning(build_config({"vus": "900"}), 1024) is None
    assert fd_warning(build_config({"vus": "1800", "workers": "2"}), 1024) is None


class _CountingWalker:
    """Each VU's journeys: none sent; the ``stop_at``-th walk stops the run, as a
    deadline or Ctrl+C arriving while thousands of VUs are still starting."""

    def __init__(self, scope: anyio.CancelScope, stop_at: int) -> None:
        self.scope, self.stop_at = scope, stop_at
        self.walks = 0
        self.vus: set[int] = set()

    def plan(self, rng: random.Random) -> random.Random:
        return rng

    async def walk(self, rng: random.Random) -> float | None:
        self.walks += 1
        self.vus.add(id(rng))
        if self.walks == self.stop_at:
            self.scope.cancel()
        return None


@pytest.mark.anyio
async def test_a_stop_while_thousands_of_vus_start_stops_the_starting() -> None:
    """All VUs used to start in one turn of the event loop (16,000 VUs: over 5 s
    in which neither the deadline nor Ctrl+C could act): a stop then reached
    every VU only after each had begun its first journey. In batches, it ends
    the starting within a batch or two."""
    vus = 20 * START_BATCH
    rngs = [random.Random(i) for i in range(vus)]
    with anyio.CancelScope() as scope:
        walker = _CountingWalker(scope, stop_at=START_BATCH + 10)
        model = ClosedModel(vus, 0.0, rngs.__getitem__)
        await model.drive(cast(Walker, walker), SYSTEM_CLOCK)
    assert scope.cancelled_caught
    assert len(walker.vus) <= 3 * START_BATCH < vus, len(walker.vus)
