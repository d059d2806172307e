"""``--header`` tokens need not be on the command line (issue 21): ``$NAME`` in
a value is read from the environment, ``--header-file`` reads a file; an
error names the flag, the variable or the file and line, never a value."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.config import ConfigError, expand_header_env, header_values
from tui.cli import parse

TOKEN = "tok-5d1e0c2b9a8f"


def test_a_value_names_environment_variables() -> None:
    env = {"TOKEN": TOKEN, "TENANT": "acme"}
    assert (
        expand_header_env("Authorization: Bearer $TOKEN", env) == f"Authorization: Bearer {TOKEN}"
    )
    assert expand_header_env("X-T: ${TENANT}-1", env) == "X-T: acme-1"
    assert expand_header_env("X-Cost: $$5", env) == "X-Cost: $5"
    assert expand_header_env("X-Plain: acme", {}) == "X-Plain: acme"
    with pytest.raises(ConfigError) as err:
        expand_header_env("Authorization: Bearer $MISSING", env)
    assert "$MISSING is unset or empty" in str(err.value)
    with pytest.raises(ConfigError) as err:
        expand_header_env("Authorization: $TOKEN", {"TOKEN": "a\r\nInjected: 1"})
    assert "Injected" not in str(err.value) and "$TOKEN" in str(err.value)


def test_a_header_file_holds_one_header_a_line(tmp_path: Path) -> None:
    path = tmp_path / "headers"
    path.write_text(
        f"# tokens for staging\n\nAuthorization: Bearer {TOKEN}\nX-Tenant: $NOT_EXPANDED\n"
    )
    got = header_values(["X-A: 1"], [str(path)], {})
    assert got == ["X-A: 1", f"Authorization: Bearer {TOKEN}", "X-Tenant: $NOT_EXPANDED"]
    path.write_text(f"X-A: 1\nAuthorization Bearer {TOKEN}\n")
    with pytest.raises(ConfigError) as err:
        header_values(None, [str(path)], {})
    assert f"{path}, line 2" in str(err.value) and TOKEN not in str(err.value)
    with pytest.raises(ConfigError, match="header-file must be a readable"):
        header_values(None, [str(tmp_path / "absent")], {})
    assert header_values(None, None, {}) is None


def test_the_cli_takes_both_and_keeps_them_out_of_argv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "headers"
    path.write_text("X-Tenant: acme\n")
    monkeypatch.setenv("WL_TEST_TOKEN", TOKEN)
    argv = ["--no-ui", "--header", "Authorization: Bearer $WL_TEST_TOKEN"]
    _, config = parse([*argv, "--header-file", str(path)])
    assert config.header_pairs() == (("Authorization", f"Bearer {TOKEN}"), ("X-Tenant", "acme"))
    monkeypatch.delenv("WL_TEST_TOKEN")
    with pytest.raises(SystemExit) as exit_:
        parse(argv)
    assert exit_.value.code == 2
    assert "--header must be a set environment variable ($WL_TEST_TOKEN" in capsys.readouterr().err
