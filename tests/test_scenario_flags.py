"""A flag a scenario gives no meaning to is refused (one line naming it, exit
2) instead of silently changing nothing: ``--read-ratio`` with no flow
read-back, ``--dispute-ratio`` with no ``dispute_ratio`` param (as ``--verify``
without a read-back already is)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.cli import parse

REPO_HOOKS = Path(__file__).parent / "data" / "repo_hooks.toml"
TARGET = ("--target", "http://127.0.0.1:9")


def _refused(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as exc:
        parse([*TARGET, *argv])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.count("\n") == 1, err
    return err


def test_read_ratio_is_refused_for_a_scenario_without_a_read_back(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for scenario in ("stripe", str(REPO_HOOKS)):
        err = _refused(capsys, "--scenario", scenario, "--read-ratio", "0.5")
        assert "--read-ratio must be 0 with a scenario whose flows have no read-back" in err
    # a scenario that reads back takes it; 0 (the default) is fine anywhere
    assert parse([*TARGET, "--scenario", "ingest", "--read-ratio", "0.5"])[1].read_ratio == 0.5
    assert parse([*TARGET, "--scenario", "stripe", "--read-ratio", "0"])[1].scenario == "stripe"


def test_dispute_ratio_is_refused_for_a_scenario_without_the_param(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for scenario in ("payments", str(REPO_HOOKS)):
        err = _refused(capsys, "--scenario", scenario, "--dispute-ratio", "0.2")
        assert "--dispute-ratio must be used with a scenario that has a dispute_ratio param" in err
    for scenario in ("ingest", "plan", "stripe"):  # theirs: the flag wins over the file's
        config = parse([*TARGET, "--scenario", scenario, "--dispute-ratio", "0.2"])[1]
        assert config.dispute_ratio == 0.2 and "dispute_ratio" in config.scenario_overrides
    assert parse([*TARGET, "--contract", "plan", "--dispute-ratio", "0.2"])[1].dispute_ratio == 0.2
