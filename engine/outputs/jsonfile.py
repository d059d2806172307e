"""Writing the JSON summary: checked before the run, written atomically after."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import orjson


def check_json_path(path: str) -> str | None:
    """None if ``path`` can be written, else what is wrong (said before any load)."""
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    if p.is_dir():
        return "a file path, not a directory"
    if not parent.is_dir():
        return f"a path in an existing directory ({parent} does not exist)"
    if not os.access(parent, os.W_OK):
        return f"a path in a writable directory ({parent} is not writable)"
    return None


def write_json(path: str, doc: dict[str, Any]) -> None:
    """Write ``doc`` to ``path`` via a temporary file, so a reader never sees half."""
    p = Path(path)
    fd, tmp = tempfile.mkstemp(dir=p.parent if str(p.parent) else ".", prefix=".webhookload-")
    with os.fdopen(fd, "wb") as f:
        f.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n")
    os.replace(tmp, p)
