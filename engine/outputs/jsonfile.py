"""Writing the JSON summary: checked before the run, written atomically after."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import orjson

from engine.errors import WebhookloadError


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


class JsonWriteError(WebhookloadError):
    """The summary could not be written after the run (exit 1): one line, no traceback."""


def write_json(path: str, doc: dict[str, Any]) -> None:
    """Write ``doc`` to ``path`` via a temporary file, so a reader never sees half.

    The file gets the usual ``0666 & ~umask`` mode (a temporary file's 0600 would
    keep a CI artifact step running as another user from reading it)."""
    p = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=p.parent if str(p.parent) else ".", prefix=".webhookload-")
        with os.fdopen(fd, "wb") as f:
            f.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, p)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise JsonWriteError(f"--json could not be written to {path!r} ({reason})") from None
