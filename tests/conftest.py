from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

# `make test` runs the suite on two xdist workers (`-n 2 --dist loadgroup`): most
# tests wait on a fixed-duration run or a server, so one process used ~40 % of
# the machine (docs/ARCHITECTURE.md, "Tests"). A file's tests stay together on
# one worker, as they were written to run; the tests that drive tmux, and those
# that start Ray, run one at a time in their own group whatever their file.
_RAY_FILES_PREFIX = "test_ray"


def _group(item: pytest.Item) -> str:
    module = getattr(item, "module", None)
    if item.get_closest_marker("ray") or item.path.stem.startswith(_RAY_FILES_PREFIX):
        return "ray"
    if item.get_closest_marker("terminal") or hasattr(module, "TmuxApp") or hasattr(module, "Tmux"):
        return "tmux"
    return item.path.stem


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give every test its xdist group (read by ``--dist loadgroup`` only)."""
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(_group(item)))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _collect_garbage() -> Iterator[None]:
    """Collect after every test, so a leaked socket or transport fails the test
    that leaked it (as a ResourceWarning) instead of a random later one."""
    yield
    gc.collect()
