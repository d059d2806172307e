"""A whole ``--no-ui`` run against a hostile target, per client: issue 21's
"Done when", at its own numbers.

For every ``--client``, one 10 s run (the issue's duration) against a server
answering each request with the next of four attacks in turn: an endless
head, an endless body, a 500 MB body and a gzip bomb (tests/misbehaving.py),
so each is met hundreds of times in the same 10 s. The run must

- keep the process's peak memory under 100 MB (its own ``ru_maxrss``, from
  wait4 in a small launcher: see ``_LAUNCH``; a plain run of the CLI peaks
  near 78 MB, and without the bounds these attacks took gigabytes);
- end within 1 s of its duration, counted from the first request the server
  saw to the process's exit (the interpreter's start is not the run's);
- count every answer as a failure of its kind, never a success: ``oversized``
  for the three past a bound, ``http_5xx`` for the bomb (read as sent, never
  inflated);
- show no terminal control from the bomb's binary body in stdout, stderr or
  the JSON.

Four 10 s runs (about 50 s in all) are this file's cost: a run of two attacks
each on its own for 3 s (8 runs) cost about 40 s and showed neither the issue's duration nor
its bound. The transports' own suite (tests/test_hostile_transports.py)
checks each attack's error kind per client in seconds.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.config import CLIENTS
from tests.misbehaving import ATTACKS, Action, Peer, Request, Script, ScriptedServer, rotating

CMD = [sys.executable, "-m", "tui.cli"]
DURATION_S = 10
PEAK_MAX_KB = 100 * 1024
LATE_MAX_S = 1.0
CONTROLS = ("\x1b", "\x9b", "\x07", "\u202e", "\u2066")
"""ESC, C1 CSI, BEL, a bidi override and isolate: none may pass through raw."""


def noting_first(script: Script, first: list[float]) -> Script:
    """``script``, noting in ``first`` the monotonic time of the first request."""

    def seen(peer: Peer, req: Request) -> Action:
        if not first:
            first.append(time.monotonic())
        return script(peer, req)

    return seen


@pytest.fixture
def hostile() -> Iterator[tuple[ScriptedServer, list[float]]]:
    first: list[float] = []
    srv = ScriptedServer(noting_first(rotating(*ATTACKS), first))
    try:
        yield srv, first
    finally:
        srv.stop()


# The run's own peak: Linux carries a process's RSS high-water mark across
# execve, so a run forked straight from this (by then large) pytest process
# reported pytest's RSS as its own (282 MB under xdist, whatever the run used).
# A small launcher forks the run and reports the run's ru_maxrss from wait4.
_LAUNCH = """\
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


@pytest.mark.parametrize("client", CLIENTS)
def test_a_10s_run_against_every_attack_is_bounded(
    hostile: tuple[ScriptedServer, list[float]], client: str, tmp_path: Path
) -> None:
    srv, first = hostile
    doc, out, err = tmp_path / "run.json", tmp_path / "stdout", tmp_path / "stderr"
    argv = [*CMD, "--no-ui", "--target", srv.url, "--client", client, "--vus", "4"]
    argv += ["--duration", f"{DURATION_S}s", "--timeout", "20s", "--json", str(doc)]
    peak_file = tmp_path / "peak_kb"
    with out.open("wb") as o, err.open("wb") as e:
        proc = subprocess.Popen(
            [sys.executable, "-c", _LAUNCH, str(peak_file), *argv],
            stdin=subprocess.DEVNULL,
            stdout=o,
            stderr=e,
            start_new_session=True,  # the killer ends the launcher and the run
        )
    killer = threading.Timer(60, os.killpg, (proc.pid, signal.SIGKILL))  # bounded, whatever happens
    killer.start()
    try:
        proc.wait()
        ended = time.monotonic()
    finally:
        killer.cancel()
    peak_kb = int(peak_file.read_text())
    assert doc.exists(), err.read_text()
    t = json.loads(doc.read_bytes())
    kinds = t["errors_by_kind"]
    assert t["requests"]["success"] == 0
    assert kinds["oversized"] > 0, kinds
    assert kinds["http_5xx"] > 0, kinds  # the bomb, read as sent
    assert kinds["oversized"] + kinds["http_5xx"] == t["requests"]["errors"], kinds
    assert len(srv.log.requests) >= 4 * len(ATTACKS)  # each attack met, several times
    assert first
    late = ended - first[0] - DURATION_S
    assert late < LATE_MAX_S, f"ended {late:.2f}s after its duration"
    shown = out.read_text("utf-8") + err.read_text("utf-8") + doc.read_text("utf-8")
    assert not [c for c in CONTROLS if c in shown]
    # pyreqwest too: its allocator's settings (engine/transports/pyreqwest_transport.py)
    assert peak_kb < PEAK_MAX_KB, f"peak {peak_kb // 1024} MB"
