"""--grace (issue 19 §4): at the deadline nothing new is sent and the requests
in flight may finish, counted apart; what is still in flight when the grace is
over is cancelled. Checked against what a real loopback target received."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from engine.config import ConfigError, build_config
from tests.helpers import get_json, target_process

VUS = 4


def _run(url: str, json_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], Any]:
    res = subprocess.run(
        [
            *(sys.executable, "-m", "tui.cli", "--no-ui", "--target", url, "--seed", "5"),
            *("--duration", "1s", "--vus", str(VUS), "--think", "0", "--json", str(json_path)),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    return res, orjson.loads(json_path.read_bytes())


def test_requests_in_flight_at_the_deadline_finish_within_the_grace(tmp_path: Path) -> None:
    """Every webhook takes 300 ms: at the deadline each VU has one in flight.
    With the default grace all of them finish, and the target received exactly
    what the tool counted: nothing was abandoned mid-flight."""
    with target_process("--delay", "300ms") as url:
        res, doc = _run(url, tmp_path / "s.json")
        stats = get_json(url + "/stats")
    assert res.returncode == 0, res.stderr
    assert doc["config"]["grace"] == "1s"
    assert doc["cancelled_at_deadline"] == 0
    assert doc["finished_in_grace"] == VUS
    assert stats["received_total"] == doc["requests"]["total"], (stats["received"], doc["requests"])
    assert f"Finished in grace: {VUS} (in flight at the deadline" in res.stdout
    sc = doc["scenarios"]  # outcomes still add up; no journey began in the grace
    ended = ("orders_success", "orders_failed", "orders_aborted", "orders_unfinished")
    assert sc["orders_started"] == sum(sc[k] for k in ended)
    assert sc["orders_unfinished"] <= VUS


def test_a_scenario_files_flows_drain_too(tmp_path: Path) -> None:
    """``--scenario`` runs the FlowWalker, which sends through the same Sender
    and Faults: its requests in flight finish within the grace as well, with
    duplicates and early events in the mix, and no flow begins in the grace."""
    with target_process("--delay", "300ms") as url:
        res, doc = _run(
            url,
            tmp_path / "s.json",
            *("--scenario", "ingest", "--duplicate-rate", "0.3", "--reorder-rate", "0.3"),
        )
        stats = get_json(url + "/stats")
    assert res.returncode == 0, res.stderr
    assert doc["cancelled_at_deadline"] == 0
    assert doc["finished_in_grace"] == VUS
    assert stats["received_total"] == doc["requests"]["total"], (stats["received"], doc["requests"])
    for name, flow in doc["flows"].items():
        ended = sum(flow["ended"].values()) + flow["aborted"] + flow["unfinished"]
        assert flow["started"] == ended, (name, flow)
    assert doc["flows"]["order"]["unfinished"] <= VUS


def test_grace_0_cancels_at_once_as_before(tmp_path: Path) -> None:
    with target_process("--delay", "300ms") as url:
        res, doc = _run(url, tmp_path / "s.json", "--grace", "0")
        stats = get_json(url + "/stats")
    assert res.returncode == 0, res.stderr
    assert doc["finished_in_grace"] == 0 and doc["cancelled_at_deadline"] == VUS
    assert "Finished in grace" not in res.stdout
    # the target saw requests the tool abandoned (it answers them after the client left)
    assert stats["received_total"] <= doc["requests"]["total"] + VUS


def test_a_target_slower_than_the_grace_is_cancelled_when_it_ends(tmp_path: Path) -> None:
    """Answers take 7 s, the grace is 200 ms: the run ends with the grace, not
    with the answers (at 7 s); every request in flight is cancelled. (The
    answers took 4 s and the bound was 3.5 s, which a loaded machine's
    start-up outran.)"""
    with target_process("--delay", "7s") as url:
        began = time.monotonic()
        res, doc = _run(url, tmp_path / "s.json", "--grace", "200ms")
        took = time.monotonic() - began
    assert res.returncode == 5, res.stderr  # nothing completed
    assert doc["cancelled_at_deadline"] == VUS and doc["finished_in_grace"] == 0
    assert doc["duration_s"] == pytest.approx(1.0, abs=0.2)  # the load's, without the grace
    assert took < 6, took  # ~1.2 s and start-up, where waiting for answers takes 7 s


def test_grace_is_a_duration() -> None:
    assert build_config({"grace": "250ms"}).grace == 0.25
    assert build_config({}).grace == 1.0
    with pytest.raises(ConfigError) as err:
        build_config({"grace": "soon"})
    assert "grace" in str(err.value) and "500ms" in str(err.value)
