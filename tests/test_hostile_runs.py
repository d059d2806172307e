"""A whole ``--no-ui`` run against a hostile target, per client (issue 21): the
run counts every answer past a bound as ``oversized`` (never a success) and
the process's peak memory stays bounded (its own ``ru_maxrss``, from wait4).
Without the bounds, each of these runs grew by gigabytes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.config import CLIENTS
from tests.misbehaving import Script, ScriptedServer, endless_body, endless_head

CMD = [sys.executable, "-m", "tui.cli"]
PEAK_MAX_KB = 400 * 1024
"""Generous: the CLI with every library loaded peaks near 150 MB on a plain run."""


@pytest.fixture
def hostile(request: pytest.FixtureRequest) -> Iterator[ScriptedServer]:
    script: Script = request.param
    srv = ScriptedServer(script)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.mark.parametrize("hostile", [endless_head, endless_body], indirect=True)
@pytest.mark.parametrize("client", CLIENTS)
def test_a_run_counts_oversized_answers_in_bounded_memory(
    hostile: ScriptedServer, client: str, tmp_path: Path
) -> None:
    doc, log = tmp_path / "run.json", tmp_path / "stderr"
    argv = [*CMD, "--no-ui", "--target", hostile.url, "--client", client]
    argv += ["--vus", "2", "--duration", "3s", "--timeout", "20s", "--json", str(doc)]
    with log.open("wb") as err:
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err
        )
    killer = threading.Timer(60, proc.kill)  # bounded, whatever happens
    killer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own peak, nobody else's
    finally:
        killer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert doc.exists(), log.read_text()
    t = json.loads(doc.read_bytes())
    assert t["requests"]["success"] == 0
    assert t["errors_by_kind"]["oversized"] > 0, t["errors_by_kind"]
    assert t["errors_by_kind"]["oversized"] == t["requests"]["errors"]
    assert usage.ru_maxrss < PEAK_MAX_KB, f"peak {usage.ru_maxrss // 1024} MB"
