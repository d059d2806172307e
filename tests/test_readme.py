"""The README works from a fresh clone: its links (and the docs pages' links)
resolve inside the project, its examples write nowhere git would pick up, it
shows how to install the command-line tool on its own, and it stays a short
front door: every flag in its table, "Test your own service" near the top."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
DOCS = sorted((ROOT / "docs").glob("*.md"))


def _anchors(markdown: str) -> set[str]:
    """GitHub's anchors for a page's headings: lower case, punctuation dropped,
    spaces to hyphens."""
    heads = re.findall(r"^#+ (.+)$", markdown, flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in heads}


@pytest.mark.parametrize("page", [ROOT / "README.md", *DOCS], ids=lambda p: p.name)
def test_links_stay_inside_the_project_and_resolve(page: Path) -> None:
    text = page.read_text()
    for link, anchor in re.findall(r"\]\(([^)#\s]*)(?:#([^)\s]+))?\)", text):
        if link.startswith(("http://", "https://")):
            continue
        target = (page.parent / link).resolve() if link else page
        assert target.is_relative_to(ROOT), link
        assert target.exists(), f"{page.name}: {link}"
        if anchor and target.suffix == ".md":
            assert anchor in _anchors(target.read_text()), f"{page.name}: {link}#{anchor}"
    assert "../shared" not in text


def test_is_a_short_front_door() -> None:
    lines = README.splitlines()
    assert len(lines) <= 250
    assert "## Test your own service" in lines[:80]
    assert "**Contents**" in "\n".join(lines[:20])


def test_the_flag_table_lists_every_flag_the_cli_takes() -> None:
    from tui.flags import build_parser

    rows = [line for line in README.splitlines() if line.startswith("| `--")]
    for action in build_parser()._actions:
        for flag in action.option_strings:
            if flag.startswith("--") and flag != "--help":
                assert any(f"`{flag}" in row.split(" | ")[0] for row in rows), flag


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
    paths = [
        p
        for page in (ROOT / "README.md", *DOCS)
        for p in re.findall(r"--json ([^\s`]+)", page.read_text())
    ]
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
    assert "| `5` | no request succeeded" in README


def test_documents_exit_code_99_and_thresholds() -> None:
    assert (
        "| `99` | a `--threshold` failed" in README
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
    delivery = (ROOT / "docs" / "DELIVERY.md").read_text()
    # issue 19: a 5xx on a duplicate is an error, not only a status code
    assert "early event answered 5xx is an error (in `Errors`), never retried" in " ".join(
        delivery.split()
    )
