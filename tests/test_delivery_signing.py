"""Signed webhooks and extra headers, end to end against the reference target
(both profiles, both schemes), and the secret kept out of every output and
process listing (issue 10)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import orjson
import pytest

from engine.config import ConfigError, build_config
from engine.domain.signing import SECRET_ENV, make_verifier
from engine.metrics.stats import Snapshot
from engine.run.sinks import CallbackSink
from engine.scenario.delivery import dressing_for
from engine.shards.worker import ProcessRunner, config_from_argv, config_json, worker_env
from tests.events import ScenarioEvents
from tests.helpers import get_json
from tests.target_http import target_with_output

STRIPE_SECRET = "sk-test-Zq8f3Kx1mV9pLw2cR7tY"
STANDARD_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SECRETS = {"stripe": STRIPE_SECRET, "standard": STANDARD_SECRET}
WRONG = {"stripe": "sk-test-wrong-wrong-wrong", "standard": "whsec_d3JvbmdrZXl3cm9uZ2tleQ=="}
UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


@pytest.mark.parametrize("scheme", ["stripe", "standard"])
def test_dressing_signs_the_exact_body_and_adds_the_headers(scheme: str) -> None:
    raw = {
        "sign": scheme,
        "secret": SECRETS[scheme],
        "headers": ["X-Tenant: acme", "Authorization: Bearer t0k"],
    }
    if scheme == "stripe":  # --signature-header renames stripe's header only
        raw["signature_header"] = "Stripe-Signature"
    cfg = build_config(raw)
    dressing = dressing_for(cfg, wall=lambda: 1_700_000_000.9)
    events = ScenarioEvents()
    event = events.order_event(events.new_order(), "created")
    headers = dressing.headers(event)
    assert headers[: len(event.headers)] == event.headers  # X-Correlation-ID first
    assert ("X-Tenant", "acme") in headers and ("Authorization", "Bearer t0k") in headers
    verifier = make_verifier(scheme, SECRETS[scheme], "Stripe-Signature")
    as_map = dict(headers)
    assert verifier.verify(as_map, event.body, 1_700_000_000) is None
    if scheme == "standard":
        assert as_map["webhook-id"] == event.event_id
    assert verifier.verify(as_map, event.body + b" ", 1_700_000_000) is not None
    assert SECRETS[scheme] not in repr(dressing) and "t0k" not in repr(dressing)


def test_the_secret_stays_out_of_the_config_json_repr_and_worker_argv() -> None:
    cfg = build_config({"sign": "stripe", "secret": STRIPE_SECRET, "headers": ["X-A: b"]})
    assert cfg.as_dict()["secret"] == "set"
    assert build_config({}).as_dict()["secret"] == "unset"
    assert STRIPE_SECRET not in repr(cfg)
    assert STRIPE_SECRET not in orjson.dumps(cfg.as_dict()).decode()
    argv = orjson.dumps(config_json(cfg)).decode()
    assert STRIPE_SECRET not in argv
    env = worker_env(cfg)
    assert env is not None and env[SECRET_ENV] == STRIPE_SECRET
    os.environ[SECRET_ENV] = STRIPE_SECRET
    try:
        assert config_from_argv(argv) == cfg  # the child gets it back from its environment
    finally:
        del os.environ[SECRET_ENV]


@pytest.mark.parametrize(
    ("raw", "flag"),
    [
        ({"headers": ["no colon"]}, "--header"),
        ({"headers": ["bad name: x"]}, "--header"),
        ({"headers": ["X-Empty:"]}, "--header"),
        ({"headers": ["Content-Length: 5"]}, "--header"),
        ({"headers": ["host: evil.example"]}, "--header"),
        ({"sign": "stripe"}, "--sign"),
        ({"secret": STRIPE_SECRET}, "--secret"),
        ({"sign": "standard", "secret": "not-base64-$$$"}, "--secret"),
        ({"sign": "hmac", "secret": "x"}, "--sign"),
        ({"sign": "stripe", "secret": "x", "signature_header": "a b"}, "--signature-header"),
    ],
)
def test_bad_delivery_flags_name_the_flag_never_the_secret(raw: dict[str, Any], flag: str) -> None:
    with pytest.raises(ConfigError) as info:
        build_config(raw)
    assert str(info.value).startswith(flag + " ")
    assert STRIPE_SECRET not in str(info.value) and "not-base64" not in str(info.value)


def test_bad_header_syntax_exits_2_with_one_line() -> None:
    res = subprocess.run(
        [sys.executable, "-m", "tui.cli", "--no-ui", "--header", "X-Tenant acme"],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and "--header must be 'Name: value'" in res.stderr


def _run_cli(
    url: str, secret: str, *args: str, json_path: Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            *(sys.executable, "-m", "tui.cli", "--no-ui", "--target", url, "--seed", "7"),
            *("--duration", "600ms", "--vus", "2", "--json", str(json_path), *args),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env={**os.environ, SECRET_ENV: secret},
    )


@pytest.mark.parametrize("profile", ["strict", "public"])
@pytest.mark.parametrize("scheme", ["stripe", "standard"])
def test_signed_runs_right_secret_all_accepted_wrong_secret_all_401(
    scheme: str, profile: str, tmp_path: Path
) -> None:
    secret = SECRETS[scheme]
    # --signature-header renames stripe's header only (the old default name here)
    rename = ("--signature-header", "Webhook-Signature") if scheme == "stripe" else ()
    target_args = ("--sign", scheme, "--profile", profile, *rename)
    sign_args = ("--sign", scheme, *rename)
    with target_with_output(*target_args, env={SECRET_ENV: secret}) as target:
        good = _run_cli(target.url, secret, *sign_args, json_path=tmp_path / "good.json")
        stats_good = get_json(target.url + "/stats")
        bad = _run_cli(target.url, WRONG[scheme], *sign_args, json_path=tmp_path / "bad.json")
        stats_bad = get_json(target.url + "/stats")
    assert good.returncode == 0, good.stderr
    doc = orjson.loads((tmp_path / "good.json").read_bytes())
    assert doc["requests"]["errors"] == 0 and doc["requests"]["total"] > 0, doc
    assert stats_good["signature_failures_total"] == 0
    # the wrong secret: every webhook refused with 401, counted as an error
    assert bad.returncode == 5, bad.stderr
    bad_doc = orjson.loads((tmp_path / "bad.json").read_bytes())
    sent = bad_doc["requests"]["total"]
    assert bad_doc["requests"]["errors"] == sent > 0
    assert set(bad_doc["status_codes"]) == {"401"}
    mismatches = stats_bad["signature_failures"]["mismatch"]
    # a request cut off at the deadline may have reached the target unanswered
    assert 0 <= mismatches - sent <= bad_doc["cancelled_at_deadline"], (mismatches, sent)
    assert bad_doc["config"]["secret"] == "set"
    for text in (good.stdout, good.stderr, bad.stdout, bad.stderr, target.stdout, target.stderr):
        assert secret not in text and WRONG[scheme] not in text
    for path in ("good.json", "bad.json"):
        raw = (tmp_path / path).read_text()
        assert secret not in raw and WRONG[scheme] not in raw


def _children(pid: int) -> list[int]:
    """Direct children of ``pid``, from /proc (Linux)."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    stat = f.read()
            except OSError:
                continue
            ppid = int(stat.rsplit(b")", 1)[1].split()[1])
            if ppid == pid:
                out.append(int(entry))
    return out


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_worker_and_builtin_target_hold_no_secret_in_their_command_lines() -> None:
    """The TUI's engine process and the builtin target it starts: the secret
    travels in their environment; the signed run is accepted end to end."""
    cfg = build_config(
        {
            "target": "builtin",
            "sign": "standard",
            "secret": STANDARD_SECRET,
            "duration": "1500ms",
            "vus": "2",
        }
    )
    lines: list[bytes] = []

    def on_snapshot(delta: Snapshot) -> None:
        if lines:
            return
        for worker in _children(os.getpid()):
            lines.append(_cmdline(worker))
            lines.extend(_cmdline(t) for t in _children(worker))

    runner = ProcessRunner(cfg, sinks=[CallbackSink(on_snapshot)])
    result = anyio.run(runner.run)
    assert any(b"engine.shards.worker" in c for c in lines), lines
    assert any(b"--sign\x00standard" in c for c in lines), lines  # the target checks
    assert all(STANDARD_SECRET.encode() not in c for c in lines)
    assert result.total.total > 0 and result.total.errors == 0
    assert result.config.secret == STANDARD_SECRET  # the parent kept its own copy


def test_sample_failures_carry_the_correlation_id(tmp_path: Path) -> None:
    """A failed webhook can be found in the service's logs: the summary line and
    the JSON show its X-Correlation-ID (the event id)."""
    out = tmp_path / "s.json"
    with target_with_output("--sign", "stripe", env={SECRET_ENV: STRIPE_SECRET}) as target:
        res = _run_cli(target.url, "another-secret", "--sign", "stripe", json_path=out)
    assert res.returncode == 5, res.stderr
    lines = [line for line in res.stdout.splitlines() if line.startswith("  orders 401")]
    assert lines and all(UUID4.search(line) for line in lines), res.stdout
    samples = orjson.loads(out.read_bytes())["sample_failures"]
    assert samples and all(UUID4.fullmatch(s["correlation_id"]) for s in samples)
