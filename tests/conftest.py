from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _collect_garbage() -> Iterator[None]:
    """Collect after every test, so a leaked socket or transport fails the test
    that leaked it (as a ResourceWarning) instead of a random later one."""
    yield
    gc.collect()
