"""What is wrong with a scenario file, where: a key path and one sentence.

The checks and the compiler raise :class:`Problem` with the key path of what
they refuse; the loader (engine/scenario/loader.py) adds the file and the line
and turns it into the one line a user sees.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

Path = tuple[str | int, ...]


class Problem(ValueError):
    """A key path (``("flows", "order", "states", "created", "next")``) and what
    is wrong there, without the file's name or line."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


def dotted(path: Path) -> str:
    """``flows.order.states.created.next``; list indexes as ``[0]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """`` (did you mean 'success'?)`` when one option is close, else ``""``."""
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown(kind: str, word: str, options: Iterable[str], where: str = "") -> str:
    """``unknown state 'sucess' (did you mean 'success'?)``; with no close one,
    the names there are (a few), so the user sees what is allowed."""
    options = list(options)
    hint = did_you_mean(word, options)
    if not hint and options:
        shown = ", ".join(repr(o) for o in options[:6]) + (", ..." if len(options) > 6 else "")
        hint = f" (expected one of {shown})"
    elif not options:
        hint = f" (there are no {kind}s)"
    return f"unknown {kind} {word!r}{where and ' ' + where}{hint}"
