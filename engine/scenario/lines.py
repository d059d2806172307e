"""Where a key path is written in a TOML file, for ``file:line`` in an error.

``tomllib`` gives values, not positions, so the file's lines are scanned for
table headers (``[flows.order.states.created]``, ``[[...]]`` with its index)
and ``key = value`` lines (dotted keys, and the first level of an inline
table on the same line). A path is placed at the line of its longest known
prefix: a key inside a multi-line array is placed at the array's key.
"""

from __future__ import annotations

import re

from engine.scenario.problem import Path

_PART = r"""(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')"""
_DOTTED = rf"{_PART}(?:\s*\.\s*{_PART})*"
_HEADER = re.compile(rf"^\s*(\[\[?)\s*({_DOTTED})\s*\]\]?")
_KEY = re.compile(rf"^\s*({_DOTTED})\s*=(.*)$")
_INLINE_KEY = re.compile(rf"[{{,]\s*({_DOTTED})\s*=")


def _split(dotted: str) -> tuple[str, ...]:
    return tuple(p.strip("\"'") for p in re.findall(_PART, dotted))


def key_lines(text: str) -> dict[Path, int]:
    """Every key path the scan finds, with the (1-based) line it is first on."""
    lines: dict[Path, int] = {}
    table: Path = ()
    arrays: dict[Path, int] = {}
    for no, line in enumerate(text.splitlines(), 1):
        if m := _HEADER.match(line):
            path: Path = _split(m.group(2))
            for end in range(1, len(path)):  # [a.b.c] is where a.b is first seen too
                lines.setdefault(path[:end], no)
            if m.group(1) == "[[":
                arrays[path] = arrays.get(path, -1) + 1
                lines.setdefault(path, no)
                path = (*path, arrays[path])
            table = path
            lines.setdefault(table, no)
        elif m := _KEY.match(line):
            key = (*table, *_split(m.group(1)))
            lines.setdefault(key, no)
            rest = m.group(2)
            if rest.lstrip().startswith("{"):
                for inner in _INLINE_KEY.finditer(rest):
                    lines.setdefault((*key, *_split(inner.group(1))), no)
    return lines


def line_of(text: str, path: Path) -> int | None:
    """The line of ``path``, or of its longest prefix written in the file."""
    lines = key_lines(text)
    for end in range(len(path), 0, -1):
        if (found := lines.get(path[:end])) is not None:
            return found
    return None
