"""``import engine`` is lazy: a shard process imports only what it runs.

Every ``--workers`` shard (and the TUI's engine process) starts a fresh
interpreter; the eager ``engine/__init__`` cost each of them ~60 ms of CPU for
modules it never uses, which ``make bench``'s ``--workers 2`` per-CPU-second
row pays twice per run.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import engine

INIT = Path(engine.__file__)


def _type_checking_imports() -> dict[str, tuple[str, str]]:
    """Name -> (module, name) of the imports under ``if TYPE_CHECKING:``."""
    tree = ast.parse(INIT.read_text())
    found: dict[str, tuple[str, str]] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for imp in node.body:
                assert isinstance(imp, ast.ImportFrom) and imp.module, ast.unparse(imp)
                for alias in imp.names:
                    found[alias.asname or alias.name] = (imp.module, alias.name)
    return found


def test_the_lazy_table_is_the_type_checked_imports_and_all() -> None:
    """mypy reads the imports, the runtime the table: they must name the same
    objects, and ``__all__`` must be exactly their names."""
    table = engine._LAZY
    assert _type_checking_imports() == table
    assert sorted(engine.__all__) == sorted(table)


def test_every_public_name_resolves_to_its_modules_object() -> None:
    import importlib

    for name, (module, attr) in engine._LAZY.items():
        assert getattr(engine, name) is getattr(importlib.import_module(module), attr), name
    assert set(engine._LAZY) <= set(dir(engine))


def test_an_unknown_name_is_an_attribute_error() -> None:
    try:
        engine.no_such_name  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("engine.no_such_name resolved")


THIRD_PARTY = ("prometheus_client", "textual", "httpx", "ray")


def test_a_shard_process_does_not_import_the_outputs() -> None:
    """The shard's entry module, in a fresh interpreter: the runner and the
    transports' registry, but no report writers, no Prometheus, no Textual."""
    code = (
        "import sys, engine.shards.worker_main\n"
        "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        f"('engine', {', '.join(map(repr, THIRD_PARTY))}))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    assert "engine.run.runner" in out  # the scan sees the shard's own imports
    unneeded = [m for m in out if m.startswith("engine.outputs") or m in THIRD_PARTY]
    assert unneeded == [], unneeded
