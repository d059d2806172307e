"""``--scenario stripe --sign stripe`` end to end against a receiver written from
Stripe's docs (tests/receivers/stripe_receiver.py): the issue's acceptance run
(duplicates, reordering, two shards), 0 rejected, and the counts agree."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
import stripe
from aiohttp import web

from engine.config import build_config
from engine.scenario.select import with_scenario
from tests.receivers.loopback import run_cli
from tests.receivers.stripe_receiver import StripeReceiver, serve

SECRET = "whsec_e2e_0123456789abcdefghijklmnop"


@contextmanager
def running(receiver: StripeReceiver) -> Iterator[str]:
    """The receiver on its own event loop in a thread; its base URL."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    base: list[str] = []

    def run() -> None:
        runner, url = loop.run_until_complete(serve(receiver))
        base.append(url)
        ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield base[0]
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


def test_a_run_with_faults_and_two_shards_is_all_accepted(tmp_path: Path) -> None:
    out = tmp_path / "s.json"
    receiver = StripeReceiver(SECRET)
    with running(receiver) as url:
        res = subprocess.run(
            [
                *(sys.executable, "-m", "tui.cli", "--no-ui", "--seed", "5", "--think", "0"),
                *("--duration", "2s", "--vus", "4", "--workers", "2", "--json", str(out)),
                *("--target", url, "--scenario", "stripe", "--sign", "stripe"),
                *("--duplicate-rate", "0.1", "--reorder-rate", "0.1"),
            ],
            capture_output=True,
            text=True,
            timeout=90,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "WEBHOOKLOAD_SECRET": SECRET},
        )
    assert res.returncode == 0, res.stderr + res.stdout
    assert receiver.rejected == []  # the file's Stripe-Signature header, Stripe's shapes
    doc = orjson.loads(out.read_bytes())
    req, d, cut = doc["requests"], doc["delivery"], doc["cancelled_at_deadline"]
    assert req["errors"] == 0 and req["total"] > 50, doc["sample_failures"]
    received = sum(receiver.accepted.values()) + receiver.duplicates
    assert 0 <= received - req["total"] <= cut
    assert d["duplicates_sent"] > 0 and d["early_sent"] > 0, d
    assert 0 <= receiver.duplicates - d["duplicates_sent"] <= cut
    # flows as the receiver saw them (an event cut off at the deadline may have arrived;
    # one answered within --grace arrived, and its flow was cut after it: unfinished)
    cut += doc["finished_in_grace"]
    pi, dp = doc["flows"]["payment_intent"], doc["flows"]["dispute"]
    got = receiver.accepted
    assert pi["started"] - pi["unfinished"] <= got["payment_intent.created"] <= pi["started"]
    assert 0 <= got["payment_intent.succeeded"] - pi["ended"]["succeeded"] <= cut
    assert 0 <= got["payment_intent.payment_failed"] - pi["ended"]["payment_failed"] <= cut
    assert dp["started"] - dp["unfinished"] <= got["charge.dispute.created"] <= dp["started"]
    closed = sum(dp["ended"].values())
    assert 0 <= got["charge.dispute.closed"] - closed <= cut
    assert dp["started"] > 0


def test_the_files_signature_header_is_the_default_and_the_flag_wins() -> None:
    raw = {"scenario": "stripe", "sign": "stripe", "secret": SECRET}
    config = with_scenario(build_config(raw), set(raw))
    assert config.signature_header == "Stripe-Signature"
    raw["signature_header"] = "X-Sig"
    config = with_scenario(build_config(raw), set(raw))
    assert config.signature_header == "X-Sig"


NEW_SECRET = "whsec_e2e_rotated_9876543210zyxwvutsrqpon"


class _AlsoHoldingTheNewSecret(StripeReceiver):
    """Checks every request with Stripe's library under the new secret alone too,
    before the receiver's own check under the old one alone: one endpoint standing
    for the receiver that holds only the old secret and the one that holds only the new."""

    refused_by_new: list[str]

    async def handle(self, request: web.Request) -> web.Response:
        payload = await request.read()
        try:
            stripe.Webhook.construct_event(payload, request.headers["Stripe-Signature"], NEW_SECRET)
        except (ValueError, stripe.SignatureVerificationError) as exc:
            self.refused_by_new.append(str(exc))
        return await super().handle(request)


def test_two_secrets_while_one_rolls_pass_a_receiver_holding_either(tmp_path: Path) -> None:
    """``--secret`` twice: every request carries ``v1=`` for each, and Stripe's own
    ``construct_event`` accepts each request under the old secret alone and under the
    new one alone (the unit check is tests/test_provider_signatures.py)."""
    out = tmp_path / "s.json"
    receiver = _AlsoHoldingTheNewSecret(SECRET)
    receiver.refused_by_new = []
    with running(receiver) as url:
        res, doc = run_cli(
            url,
            "stripe",
            [SECRET, NEW_SECRET],
            out,
            *("--duration", "500ms", "--vus", "2", "--grace", "30s", "--sign", "stripe"),
            *("--duplicate-rate", "0.1"),
        )
    assert res.returncode == 0, res.stderr + res.stdout
    received = sum(receiver.accepted.values()) + receiver.duplicates
    assert receiver.rejected == [] and receiver.refused_by_new == []
    assert received == doc["requests"]["total"] > 10 and doc["requests"]["errors"] == 0
