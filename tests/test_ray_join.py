"""``--ray-address`` where nothing listens: one line and exit 1 at once, not
Ray's "Failed to connect to GCS" retried for minutes, deaf to Ctrl+C."""

from __future__ import annotations

import subprocess
import sys

import pytest

from engine.errors import EXIT_FAILED
from engine.shards.ray_backend import RayJoinError, head_address, probe_head
from tests.helpers import free_port


@pytest.mark.ray
def test_a_ray_address_where_nothing_listens_is_one_line_and_exit_1() -> None:
    address = f"127.0.0.1:{free_port()}"
    res = subprocess.run(
        [
            *(sys.executable, "-m", "tui.cli", "--no-ui", "--target", "builtin"),
            *("--backend", "ray", "--ray-address", address, "--workers", "2"),
            *("--duration", "2s"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert res.returncode == EXIT_FAILED, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert f"--ray-address {address}: nothing answers there" in lines[0]
    assert "Traceback" not in res.stdout + res.stderr


def test_the_probed_address_of_each_spelling(monkeypatch: pytest.MonkeyPatch) -> None:
    assert head_address("127.0.0.1:6379") == ("127.0.0.1", 6379)
    assert head_address("ray://127.0.0.1:10001") == ("127.0.0.1", 10001)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    assert head_address("auto") is None  # Ray finds the cluster this machine belongs to
    monkeypatch.setenv("RAY_ADDRESS", "ray://127.0.0.1:10001")
    assert head_address("auto") == ("127.0.0.1", 10001)


@pytest.mark.parametrize("spelling", ["auto", "ray://{}", "{}"])
def test_probe_names_the_address_nothing_answers_at(
    spelling: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    address = f"127.0.0.1:{free_port()}"
    monkeypatch.setenv("RAY_ADDRESS", address)
    given = spelling.format(address)
    with pytest.raises(RayJoinError) as err:
        probe_head(given)
    text = str(err.value)
    assert text.startswith(f"--ray-address {given}") and "nothing answers there" in text
    assert "\n" not in text and err.value.exit_code == EXIT_FAILED
    if spelling == "auto":
        assert f"(RAY_ADDRESS={address})" in text
