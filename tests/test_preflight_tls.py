"""The preflight of an ``https://`` target shakes hands: a plain-HTTP port behind
an https URL is one clear line and exit 3 before any load, not a run in which
every request fails (exit 5)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from engine.config import build_config
from engine.errors import EXIT_UNREACHABLE
from engine.run.preflight import TargetUnreachable, check_reachable
from engine.run.runner import Runner
from tests.helpers import raw_server, target_process


def test_https_to_a_plain_http_target_is_one_line_and_exit_3() -> None:
    with target_process() as url:
        https = url.replace("http://", "https://")
        res = subprocess.run(
            [sys.executable, "-m", "tui.cli", "--no-ui", "--target", https, "--duration", "30s"],
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
    assert res.returncode == EXIT_UNREACHABLE == 3, res.stderr
    assert res.stderr.count("\n") == 1, res.stderr
    line = res.stderr.strip()
    assert f"cannot reach target {https} (TLS handshake failed: " in line, line
    assert line.endswith(f": is it plain http? Then use {url}"), line
    assert "Start the ingest service" not in line  # it is there: it speaks plain http
    assert "SUMMARY" not in res.stdout


@pytest.mark.anyio
@pytest.mark.parametrize("behaviour", ["hang", "reset"])
async def test_a_tls_handshake_that_fails_or_hangs_is_named(behaviour: str) -> None:
    """A server that reads the ClientHello and says nothing, or hangs up on it."""
    async with raw_server(behaviour) as url:
        https = url.replace("http://", "https://")
        with pytest.raises(TargetUnreachable) as err:
            await check_reachable(https, limit_s=0.5)
        await check_reachable(url)  # the same port as http:// is reachable: TCP only
    assert err.value.reason.startswith("TLS handshake failed: "), err.value.reason
    assert str(err.value).endswith(f"is it plain http? Then use {url}")
    assert err.value.exit_code == EXIT_UNREACHABLE


@pytest.mark.anyio
async def test_an_https_read_api_on_a_plain_http_port_gets_the_same_hint() -> None:
    with target_process() as url:
        https = url.replace("http://", "https://")
        cfg = build_config({"target": url, "read_api": https, "verify": "1", "duration": "1s"})
        with pytest.raises(TargetUnreachable) as err:
            await Runner(cfg).run()
    message = str(err.value)
    assert message.startswith(f"cannot reach the read API (--read-api) at {https} (TLS handshake")
    assert message.endswith(f"is it plain http? Then use {url}"), message
