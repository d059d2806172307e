"""More --workers than cores: one warning line (the shards share the cores; they
used to start late too, until the start became a handshake: test_shard_ready)."""

from __future__ import annotations

import os

import pytest

import tui.headless
from engine.shards.plan import workers_warning
from tui.cli import main


def test_workers_warning_only_past_the_cores() -> None:
    line = workers_warning(64, 2)
    assert line is not None and "--workers 64" in line and "2 cores" in line
    assert "share them" in line and "start" not in line  # they no longer start late
    assert "\n" not in line
    assert workers_warning(2, 2) is None and workers_warning(1, None) is None


@pytest.mark.parametrize(("workers", "warned"), [("3", True), ("2", False), ("1", False)])
def test_the_cli_warns_once_when_workers_exceed_the_cores(
    workers: str, warned: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(tui.headless, "run_headless", lambda *a, **k: 0)
    argv = ["--no-ui", "--workers", workers, "--vus", "4", "--target", "http://127.0.0.1:9"]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert err.count("more than this machine's 2 cores") == (1 if warned else 0), err
