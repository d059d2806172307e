"""The README works from a fresh clone: its links resolve inside the project,
its examples write nowhere git would pick up, and it shows how to install the
command-line tool on its own."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_links_stay_inside_the_project() -> None:
    links = re.findall(r"\]\(([^)#]+)\)", README)
    assert links
    for link in links:
        if link.startswith(("http://", "https://")):
            continue
        assert not link.startswith(".."), link
        assert (ROOT / link).exists(), link
    assert "../shared" not in README


def test_the_contract_is_the_projects_own_doc() -> None:
    assert "(docs/CONTRACT.md)" in README
    contract = (ROOT / "docs" / "CONTRACT.md").read_text()
    for section in (
        "## Responses (both webhook endpoints)",
        "## Order events",
        "## Read API",
        "## What the public service answers on edge cases",
    ):
        assert section in contract
    assert "seed/" not in contract  # nothing a clone does not have


def test_json_examples_write_where_git_does_not_look() -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    paths = re.findall(r"--json ([^\s`]+)", README)
    assert paths
    for path in paths:
        if path.startswith("/tmp/") or path == "PATH":
            continue
        ignored = subprocess.run(
            ["git", "check-ignore", "--no-index", "-q", path], cwd=ROOT, check=False
        )
        assert ignored.returncode == 0, f"{path} is not ignored by git"


def test_shows_an_isolated_install_beside_the_make_commands() -> None:
    assert "make demo" in README and "make test" in README
    assert "pipx install ." in README or "uv tool install ." in README


def test_documents_exit_code_5() -> None:
    assert "`5` no request" in README


def test_documents_exit_code_99_and_thresholds() -> None:
    assert (
        "`99` a `--threshold`" in README
        and "When several apply, the first of 130, 99, 5, 4" in README
    )
    assert "| `--threshold EXPR` |" in README and "| `--abort-on-fail` |" in README


def test_names_every_debian_package_make_install_installs() -> None:
    """The Makefile apt-installs test tools (tmux, chromium): the README's install
    paragraph and its make-target table say which, so nobody is surprised."""
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\n$(STAMP):", 1)[1].split("\n\n", 1)[0]  # make install's
    packages = re.findall(r"apt-get install -y -qq (\S+);", recipe)
    assert packages
    paragraph = README.split("`make install` (run by both)", 1)[1].split("\n\n", 1)[0]
    row = next(line for line in README.splitlines() if line.startswith("| `install` |"))
    for package in packages:
        assert f"`{package}`" in paragraph and f"`{package}`" in row, package


def test_retries_say_duplicates_are_not_retried_nor_errors() -> None:
    row = next(line for line in README.splitlines() if line.startswith("| `--retries N` |"))
    assert "duplicates (`--duplicate-rate`) are never retried" in row
    # issue 19: a 5xx on a duplicate is an error, not only a status code
    assert "early event answered 5xx is an error (in `Errors`), never retried" in " ".join(
        README.split()
    )
