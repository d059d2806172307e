"""The built-in ``ingest`` and ``plan`` files send today's bytes.

For the same ids (engine.domain.ids' generator reseeded alike for both
sides), the same clock and the same order of draws, every event kind the
hand-written builders ``--contract`` used until December 2026 make (kept
verbatim in bench/baseline_contracts.py: each order status;
each dispute status, closed with either resolution) is byte-identical when
built from the compiled scenario file: body, headers and event id.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

import engine.domain.ids as ids
from engine.domain.clock import WallClock
from engine.domain.contracts import Event
from engine.scenario.compiler import compile_scenario
from engine.scenario.loader import load_scenario

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from baseline_contracts import make_contract

NOW = 1_764_000_000.7
ORDER_STATES = ("created", "updated", "success", "failed")
# the contract's (status, resolution) for each state of the file's dispute flow
DISPUTE_STATES = {
    "opened": ("opened", None),
    "updated": ("updated", None),
    "won": ("closed", "won"),
    "lost": ("closed", "lost"),
}


def _seed_ids(monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    monkeypatch.setattr(ids, "_getrandbits", random.Random(seed).getrandbits)


def _today(name: str, clock: WallClock) -> list[Event]:
    """One order, each of its events, then its dispute's: the hand-written way."""
    contract = make_contract(name, clock)
    order = contract.new_order()
    events = [contract.order_event(order, status) for status in ORDER_STATES]
    for status, resolution in DISPUTE_STATES.values():
        events.append(contract.chargeback_event(order, status, resolution))
    return events


def _from_file(name: str, clock: WallClock) -> list[Event]:
    """The same, from the built-in file compiled."""
    compiled = compile_scenario(load_scenario(name), clock=clock)
    rng = random.Random(7)
    order, dispute = compiled.flow("order"), compiled.flow("dispute")
    v = order.start(None, rng)
    events = []
    for state in ORDER_STATES:
        build = order.state(state).build
        assert build is not None
        events.append(build(v, None, rng))
    dv = dispute.start(v, rng)
    for state in DISPUTE_STATES:
        build = dispute.state(state).build
        assert build is not None
        events.append(build(dv, v, rng))
    return events


@pytest.mark.parametrize("name", ["ingest", "plan"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_builtin_bodies_are_byte_identical(
    monkeypatch: pytest.MonkeyPatch, name: str, seed: int
) -> None:
    clock = WallClock(now=lambda: NOW + seed * 86_400)
    _seed_ids(monkeypatch, seed)
    today = _today(name, clock)
    _seed_ids(monkeypatch, seed)
    compiled = _from_file(name, clock)
    assert len(today) == len(compiled) == 8
    for kind, want, got in zip([*ORDER_STATES, *DISPUTE_STATES], today, compiled, strict=True):
        assert got.body == want.body, kind
        assert got.headers == want.headers, kind
        assert got.event_id == want.event_id, kind


def test_the_comparison_can_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    """Different ids give different bytes: the golden test compares something."""
    clock = WallClock(now=lambda: NOW)
    _seed_ids(monkeypatch, 1)
    today = _today("ingest", clock)
    _seed_ids(monkeypatch, 2)
    compiled = _from_file("ingest", clock)
    assert all(a.body != b.body for a, b in zip(today, compiled, strict=True))


def test_evidence_deadline_and_resolution_follow_the_state() -> None:
    """The parts the file composes per state (ingest): evidence_due_at on
    opened (+14 days) and updated (+7 days), meta.resolution only when closed."""
    import orjson

    clock = WallClock(now=lambda: NOW)
    compiled = compile_scenario(load_scenario("ingest"), clock=clock)
    dispute = compiled.flow("dispute")
    parent = compiled.flow("order").start(None, random.Random(1))
    bodies = {}
    for state in DISPUTE_STATES:
        build = dispute.state(state).build
        assert build is not None
        bodies[state] = orjson.loads(build({}, parent, random.Random(1)).body)
    assert bodies["opened"]["evidence_due_at"] == clock.stamp(14 * 86_400)
    assert bodies["updated"]["evidence_due_at"] == clock.stamp(7 * 86_400)
    assert "meta" not in bodies["opened"] and "evidence_due_at" not in bodies["won"]
    assert bodies["won"]["meta"] == {"resolution": "won"}
    assert bodies["lost"] == {**bodies["won"], "meta": {"resolution": "lost"}} | {
        k: bodies["lost"][k] for k in ("provider_event_id",)
    }
    assert bodies["won"]["status"] == bodies["lost"]["status"] == "closed"
