"""Signing from the command line (issue 22 part 1, issue 18 papercut 3): any
built-in scheme, several secrets (repeated --secret, one per line in
WEBHOOKLOAD_SECRET), --signature-header refused where the scheme does not use
it, and every attempt signed at its own send time with the event's same id."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import anyio
import orjson
import pytest

from engine.config import build_config
from engine.domain.signing import SECRET_ENV, make_verifier
from engine.load.clock import FakeClock
from engine.run import runner as runner_module
from engine.run.runner import Runner
from engine.scenario.delivery import dressing_for
from engine.transports.fake import FakeRequest, FakeTransport
from tests.helpers import get_json
from tests.target_http import target_with_output
from tui.cli import parse

OLD, NEW = "whsec_stripe_old_7f3a9c", "whsec_stripe_new_0b1d2e"


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", "--no-ui", *args],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env={**{k: v for k, v in os.environ.items() if k != SECRET_ENV}, **(env or {})},
    )


def test_secret_repeated_or_one_per_line_of_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SECRET_ENV, raising=False)
    _, cfg = parse(["--sign", "stripe", "--secret", OLD, "--secret", NEW])
    assert cfg.secret == f"{OLD}\n{NEW}" and OLD not in repr(cfg)
    monkeypatch.setenv(SECRET_ENV, f"{OLD}\n{NEW}\n")
    _, cfg = parse(["--sign", "paddle"])
    assert cfg.sign == "paddle" and cfg.secret.split() == [OLD, NEW]
    assert cfg.signature_header == ""  # the scheme's own header
    monkeypatch.setenv(SECRET_ENV, "It's a Secret to Everybody")  # spaces are fine
    _, cfg = parse(["--sign", "github"])  # any built-in scheme
    assert cfg.secret == "It's a Secret to Everybody"


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (
            ["--sign", "standard", "--signature-header", "X-Sig"],
            "whsec_QUJDREVGR0hJSktMTU5PUA==",
            "--signature-header must be left out with --sign standard: its header "
            "webhook-signature is fixed",
        ),
        (
            ["--sign", "github", "--signature-header", "X-Sig"],
            "s",
            "--signature-header must be left out with --sign github",
        ),
        (["--sign", "github"], "old\nnew", "--secret must be one secret for --sign github"),
        (["--sign", "adyen"], "s", "--sign must be a scheme webhookload can sign; Adyen signs"),
        (["--sign", "twilio"], "s", "Twilio signs the URL plus the form parameters"),
        (["--sign", "paypal"], "s", "PayPal signs with RSA"),
        (["--sign", "hmac"], "s", "--sign must be one of github, github-sha1, paddle"),
    ],
)
def test_bad_signing_flags_are_one_line(args: list[str], env: str, message: str) -> None:
    res = _cli(*args, env={SECRET_ENV: env})
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], res.stderr
    assert "old" not in res.stderr.replace("--sign", "")


def _run(target: str, secret: str, *args: str, json_path: Path) -> dict[str, object]:
    res = _cli(
        *("--target", target, "--seed", "7", "--duration", "600ms", "--vus", "2"),
        *("--json", str(json_path), *args),
        env={SECRET_ENV: secret},
    )
    assert res.returncode == 0, res.stderr
    doc: dict[str, object] = orjson.loads(json_path.read_bytes())
    return doc


@pytest.mark.parametrize(("scheme", "old", "new"), [("stripe", OLD, NEW), ("paddle", OLD, NEW)])
def test_a_rolling_secret_every_request_passes_a_receiver_holding_either(
    scheme: str, old: str, new: str, tmp_path: Path
) -> None:
    for held in (old, new):
        with target_with_output("--sign", scheme, env={SECRET_ENV: held}) as target:
            doc = _run(target.url, f"{old}\n{new}", "--sign", scheme, json_path=tmp_path / "r.json")
            stats = get_json(target.url + "/stats")
        requests = doc["requests"]
        assert isinstance(requests, dict)
        assert requests["errors"] == 0 and requests["total"] > 0, doc
        assert stats["signature_failures_total"] == 0


def test_a_non_stripe_scheme_end_to_end_against_the_builtin_target(tmp_path: Path) -> None:
    """The builtin target checks the run's scheme too (here GitHub's)."""
    doc = _run(
        "builtin", "It's a Secret to Everybody", "--sign", "github", json_path=tmp_path / "g.json"
    )
    requests = doc["requests"]
    assert isinstance(requests, dict)
    assert requests["errors"] == 0 and requests["total"] > 0, doc


@pytest.mark.anyio
async def test_every_attempt_is_signed_at_its_send_time_with_the_same_id(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """First deliveries, retries (--retries) and redeliveries (--duplicate-rate): each
    carries a timestamp of its own send time and a signature valid for it, and the
    event's one id."""
    wall = itertools.count(1_790_000_000)  # a new second at every signing
    monkeypatch.setattr(
        runner_module, "dressing_for", lambda cfg: dressing_for(cfg, wall=lambda: next(wall))
    )
    attempts: dict[str, list[dict[str, str]]] = defaultdict(list)

    def handler(r: FakeRequest) -> int:
        if r.method != "POST":
            return 200
        event_id = str(orjson.loads(r.body)["provider_event_id"])
        attempts[event_id].append(dict(r.headers))
        headers = dict(r.headers)
        verifier = make_verifier("standard", "whsec_QUJDREVGR0hJSktMTU5PUA==")
        assert verifier.verify(headers, r.body, int(headers["webhook-timestamp"])) is None
        return 503 if len(attempts[event_id]) == 1 else 202  # the first attempt fails

    cfg = build_config(
        {
            "target": "http://127.0.0.1:9",
            **{"vus": "2", "duration": "3s", "think": "100ms", "seed": "3"},
            **{"sign": "standard", "secret": "whsec_QUJDREVGR0hJSktMTU5PUA=="},
            **{"retries": "2", "duplicate_rate": "0.5"},
        }
    )

    async def reachable(_: str) -> None:
        return None

    with anyio.fail_after(30):
        async with FakeClock() as clock:
            runner = Runner(
                cfg,
                clock=clock,
                transport_factory=lambda _: FakeTransport(handler, clock=clock.now),
                preflight=reachable,
            )
            result = await runner.run()
    assert result is not None
    retried = [a for a in attempts.values() if len(a) >= 2]
    redelivered = [a for a in attempts.values() if len(a) >= 3]
    assert retried and redelivered
    for tries in attempts.values():
        assert {h["webhook-id"] for h in tries} == {tries[0]["webhook-id"]}  # the same id
        stamps = [int(h["webhook-timestamp"]) for h in tries]
        assert stamps == sorted(set(stamps))  # a fresh timestamp at every attempt
        assert len({h["webhook-signature"] for h in tries}) == len(tries)
