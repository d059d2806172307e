"""``--verify`` after delivery faults: orders and disputes read back against the
status the run drove them to, on real loopback sockets (the reference target,
both profiles and read-API shapes, and a variant of it whose replays move orders)."""

from __future__ import annotations

import json
import subprocess
import sys
from contextlib import AbstractContextManager
from pathlib import Path

import orjson
import pytest

from engine.config import build_config
from engine.metrics.stats import Snapshot
from engine.run.runner import Runner
from engine.run.sinks import Phase
from engine.run.verify import Verification, _dispute_statuses
from engine.run.verify_result import MAX_MISMATCHES, Mismatch, Tally
from engine.shards.coordinator import merge_verifications
from tests.events import ScenarioEvents
from tests.helpers import get_json, post, target_process

pytestmark = pytest.mark.anyio

SEED = "11"


def replaying_target() -> AbstractContextManager[str]:
    """tests/replaying_target.py (the reference target whose replays move orders)."""
    return target_process(module="tests.replaying_target")


def _config(url: str, **extra: str) -> dict[str, str]:
    return {
        "target": url,
        "vus": "4",
        "duration": "1500ms",
        "think": "0",
        "seed": SEED,
        "duplicate_rate": "1",
        "verify": "20",
        "verify_wait": "500ms",
        **extra,
    }


async def test_verify_finds_orders_a_late_replay_moved() -> None:
    """Every order event is replayed; the target re-applies each replay after the
    order's next event, so every order ends one status back: each is reported
    with what the run drove it to, what the read API shows, and its last event."""
    with replaying_target() as url:
        cfg = build_config(_config(url, dispute_ratio="0"))
        result = await Runner(cfg).run()
        v = result.verification
        assert v is not None and not v.ok
        o = v.tally("orders")
        assert o.sampled > 0 and o.applied == 0 and o.other_status == o.sampled
        assert v.mismatched == o.sampled and len(v.mismatches) == min(o.sampled, 10)
        for m in v.mismatches:
            assert m.kind == "order" and m.flow == "orders"
            assert m.expected in ("success", "failed")
            assert m.found in ("created", "updated") and m.event_id
            assert get_json(f"{url}/orders/{m.order_id}")["status"] == m.found
    assert result.total.delivery["duplicates_accepted"] > 0


@pytest.mark.parametrize("profile", ["strict", "public"])
async def test_replays_move_nothing_on_the_reference_target(profile: str) -> None:
    """The same faults against the reference target: strict refuses replays
    (409), public as the service was measured to (500 for a replay the lifecycle
    would apply, which rolls back; 422 on a terminal order), so no order or
    dispute moves; the disputes are read from either read-API
    shape (``{"disputes": [...]}``, or the public bare array) and all found."""
    with target_process("--profile", profile, "--error-delay", "0") as url:
        cfg = build_config(_config(url, dispute_ratio="1"))
        result = await Runner(cfg).run()
    v = result.verification
    assert v is not None
    assert v.ok, v.lines()
    o, d = v.tally("orders"), v.tally("disputes")
    assert o.applied == o.sampled > 0
    assert d.sampled > 0 and d.applied == d.sampled
    assert v.mismatches == () and v.mismatched == 0
    delivery = result.total.delivery
    if profile == "strict":
        assert delivery["duplicates_rejected"] == delivery["duplicates_sent"] > 0
    else:  # measured (issue 19): no replay is ever accepted, the 500s are errors
        assert delivery.get("duplicates_accepted", 0) == 0
        assert delivery["duplicates_5xx"] > 0
        assert (
            delivery["duplicates_5xx"] + delivery["duplicates_refused"]
            == delivery["duplicates_sent"]
        )
        assert result.total.errors >= delivery["duplicates_5xx"]


async def test_nothing_is_flagged_that_a_queue_mode_target_applies_late() -> None:
    """Queue mode answers 202 and applies 1 s later; with 400 ms between an
    order's steps, the orders finished last are read half applied (``created``
    or ``updated``: behind, not terminal) or not at all (404) when the check
    starts: read again until they catch up, never reported."""
    with target_process("--mode", "queue", "--lag", "1s", "--profile", "public") as url:
        cfg = build_config(
            _config(
                url,
                vus="20",
                think="400ms",
                duration="2s",
                dispute_ratio="1",
                verify="200",
                verify_wait="10s",
            )
        )
        result = await Runner(cfg).run()
    v = result.verification
    assert v is not None
    assert v.ok, v.lines()
    assert v.tally("orders").sampled > 0 and v.tally("disputes").sampled > 0
    assert v.mismatches == ()


class FlipDisputes:
    """When verifying starts, every closed dispute is reopened and closed again
    with the other resolution (the public service does no state check): a change
    behind the run's back, as a late replay or another writer would make."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.flipped: dict[str, str] = {}  # order id -> the status it now shows

    def on_snapshot(self, delta: Snapshot) -> None:
        pass

    def on_phase(self, phase: Phase) -> None:
        if phase.name != "verifying":
            return
        contract = ScenarioEvents("ingest")
        hook = self.url + "/webhooks/payments/chargebacks"
        for d in get_json(self.url + "/disputes"):
            other = "lost" if d["status"] == "won" else "won"
            order = contract.new_order(d["order_id"])
            for status, resolution in (("opened", None), ("closed", other)):
                code, _ = post(hook, contract.chargeback_event(order, status, resolution).body)
                assert code == 202, code
            self.flipped[d["order_id"]] = other


async def test_verify_reports_disputes_changed_behind_the_runs_back() -> None:
    """Each flipped dispute is reported, expected vs found, with the run's last
    event for it; a found terminal status settles it at once (no waiting out
    --verify-wait for a status nothing the run sent can change)."""
    with target_process("--profile", "public") as url:
        flip = FlipDisputes(url)
        cfg = build_config(
            {**_config(url, dispute_ratio="1", verify_wait="60s"), "duplicate_rate": "0"}
        )
        result = await Runner(cfg, sinks=[flip]).run()
    v = result.verification
    assert v is not None and not v.ok
    o = v.tally("orders")
    assert o.applied == o.sampled > 0  # the orders were left alone
    d = v.tally("disputes")
    assert d.sampled > 0 and d.applied == 0 and d.other_status == d.sampled
    assert v.waited_s < cfg.verify_wait  # settled, not waited out
    assert {(m.kind, m.flow) for m in v.mismatches} == {("dispute", "disputes")}
    for m in v.mismatches:
        assert m.found == flip.flipped[m.order_id] != m.expected and m.event_id


def test_mismatches_in_the_summary_the_json_and_exit_4(tmp_path: Path) -> None:
    out = tmp_path / "v.json"
    with replaying_target() as url:
        res = subprocess.run(
            [
                *(sys.executable, "-m", "tui.cli", "--no-ui", "--target", url),
                *("--seed", SEED, "--duration", "1s", "--dispute-ratio", "0"),
                *("--duplicate-rate", "1", "--verify", "3", "--verify-wait", "300ms"),
                *("--json", str(out)),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
    assert res.returncode == 4, res.stderr
    assert "Verified: 0 of 3 sampled orders applied; after" in res.stdout
    v = json.loads(out.read_text())["verification"]
    assert (v["ok"], v["sampled"], v["other_status"], v["mismatched"]) == (False, 3, 3, 3)
    assert v["disputes"] == {
        "sampled": 0,
        "applied": 0,
        "missing": 0,
        "other_status": 0,
        "errors": 0,
    }
    assert len(v["mismatches"]) == 3
    for m in v["mismatches"]:
        assert m["kind"] == "order" and m["why"] == "other_status" and m["event_id"]
        line = f"  order {m['order_id']}: expected {m['expected']}, found {m['found']}"
        assert f"{line} (last event accepted: {m['event_id']})\n" in res.stdout


def test_dispute_lists_are_read_in_both_shapes() -> None:
    """The public bare array and the strict ``{"disputes": [...]}``; anything else
    is unreadable (None), and malformed items are skipped."""

    def answer(body: object, code: int = 200) -> tuple[int, bytes]:
        return code, orjson.dumps(body)

    item = {"dispute_id": "d", "order_id": "o1", "status": "won"}
    assert _dispute_statuses(*answer([item])) == {"o1": "won"}
    assert _dispute_statuses(*answer({"disputes": [item]})) == {"o1": "won"}
    assert _dispute_statuses(*answer({"items": [item]})) is None
    assert _dispute_statuses(*answer([item], 500)) is None
    assert _dispute_statuses(*answer([{"order_id": 3}, "x"])) == {}


def test_shards_merge_disputes_and_keep_a_bounded_sample_of_mismatches() -> None:
    def part(n: int, kind: str) -> Verification:
        label = f"{kind}s"
        found = [Mismatch(kind, f"{kind}{i}", "won", "open", f"e{i}", label) for i in range(n)]
        disputes = Tally(n, 0, 0, n, 0) if kind == "dispute" else Tally(2, 2, 0, 0, 0)
        return Verification(
            "u", (("orders", Tally(4, 4)), ("disputes", disputes)), 1.0, tuple(found)
        )

    merged = merge_verifications([part(8, "dispute"), None, part(9, "dispute")])
    assert merged is not None and not merged.ok
    assert merged.tally("disputes") == Tally(17, 0, 0, 17, 0)
    assert merged.tally("orders").sampled == 8
    assert merged.labels == ("orders", "disputes")
    assert merged.mismatched == 17 and len(merged.mismatches) == MAX_MISMATCHES
    assert merged.lines()[-1] == f"  … and {17 - MAX_MISMATCHES} more"


def test_flows_past_the_second_are_checked_counted_and_merged() -> None:
    """A scenario file with three flows that read back: the third is not
    dropped (it was: two tallies only); it counts in the verdict, has its own
    line and JSON key, and shards add it by its label."""
    miss = Mismatch("refund", "http://r/refunds/1", "refunded", "(missing)", "evt_1", "refunds")
    flows = (("payments", Tally(2, 2)), ("chargebacks", Tally(1, 1)), ("refunds", Tally(2, 1, 1)))
    one = Verification("http://r", flows, 0.5, mismatches=(miss,))
    assert one.mismatched == 1 and not one.ok
    assert "Verified: 1 of 2 sampled refunds in their final status; 1 missing" in one.lines()
    doc = one.as_json()
    assert doc["flows"] == {label: t.as_json() for label, t in flows}
    assert list(doc["flows"]) == ["payments", "chargebacks", "refunds"]  # the file's order
    assert "disputes" not in doc  # ingest's key, for a flow labelled so only
    assert doc["mismatches"] == [miss.as_json()] and miss.as_json()["flow"] == "refunds"
    both = merge_verifications([one, one])
    assert both is not None and both.tally("refunds") == Tally(4, 2, 2)
    assert both.labels == ("payments", "chargebacks", "refunds")
    assert both.mismatched == 2
    with pytest.raises(KeyError):
        one.tally("orders")


def test_each_flow_keeps_its_share_of_the_mismatches_kept() -> None:
    """Thousands of one flow's mismatches do not crowd out another's: each flow
    with a read-back keeps an even share, the moved ones first, in the flows'
    order; what is left of the bound goes to whichever has more."""

    def miss(kind: str, i: int, found: str) -> Mismatch:
        return Mismatch(kind, f"{kind}{i}", "done", found, f"e{i}", f"{kind}s")

    many = [miss("payment", i, "(missing)") for i in range(50)]
    few = [miss("refund", 0, "(missing)"), miss("refund", 1, "open")]
    flows = (("payments", Tally(50, 0, 50)), ("refunds", Tally(2, 0, 1, 1)))
    v = Verification("http://r", flows, 1.0, mismatches=(*many, *few)).bounded()
    assert len(v.mismatches) == MAX_MISMATCHES
    assert v.mismatches[0] == few[1]  # moved, before any missing one
    assert [m.kind for m in v.mismatches[1:]] == ["payment"] * 8 + ["refund"]
    assert v.lines()[-1] == f"  … and {52 - MAX_MISMATCHES} more"
