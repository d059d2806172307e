"""Placeholders in a scenario's text: ``"{vars.order_id}"``, ``"order {word}"``.

A text is split once, at load, into literal parts and :class:`Slot`s; the
compiler turns the slots into code and the checks make sure each names
something that exists. ``{{`` and ``}}`` are literal braces.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from engine.scenario.offsets import parse_offset

SIMPLE = ("event_id", "word", "state", "flow")
"""Placeholders without a name or an offset."""
SCOPES = ("vars", "parent")
"""Placeholders naming a variable: this flow run's, or its parent's."""
CLOCKS = ("now", "unix")
"""Placeholders for the wall clock, with an optional offset: ``{now+14d}``."""
ALL = (*SIMPLE, *(f"{s}.NAME" for s in SCOPES), "now", "now+OFFSET", "unix", "unix+OFFSET")

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_NAMED = re.compile(r"^(vars|parent)\.([A-Za-z_][A-Za-z0-9_]*)((?:\.[A-Za-z_][A-Za-z0-9_]*)*)$")
_CLOCK = re.compile(r"^(now|unix)(?:([+-].*))?$")


@dataclass(frozen=True, slots=True)
class Slot:
    """One placeholder: its kind (``event_id``, ``vars``, ``now``...), the
    variable it names (``vars``/``parent``) with the keys into its value
    (``{vars.plan.refund}``: a table drawn by ``choice``, so several numbers
    are drawn together and stay consistent), or its offset in seconds (clocks)."""

    kind: str
    name: str = ""
    offset: float = 0.0
    keys: tuple[str, ...] = ()

    def __str__(self) -> str:
        if self.kind in SCOPES:
            return "{" + ".".join((self.kind, self.name, *self.keys)) + "}"
        return f"{{{self.kind}}}"


Part = str | Slot


def parse_slot(inner: str) -> Slot:
    """The placeholder between the braces; a ValueError says what is expected."""
    if inner in SIMPLE:
        return Slot(inner)
    if m := _NAMED.match(inner):
        return Slot(m.group(1), m.group(2), keys=tuple(m.group(3).split(".")[1:]))
    if m := _CLOCK.match(inner):
        return Slot(m.group(1), offset=parse_offset(m.group(2) or ""))
    close = difflib.get_close_matches(inner, [*SIMPLE, *CLOCKS], n=1, cutoff=0.6)
    hint = f" (did you mean {{{close[0]}}}?)" if close else f" (expected one of {', '.join(ALL)})"
    raise ValueError(f"unknown placeholder {{{inner}}}{hint}")


def parse_text(text: str) -> tuple[Part, ...]:
    """A text as literal parts and slots (adjacent literals joined)."""
    parts: list[Part] = []
    pos = 0
    for m in _TOKEN.finditer(text):
        lit = text[pos : m.start()]
        tok = m.group(0)
        if tok in ("{{", "}}"):
            lit += tok[0]
        elif tok in ("{", "}"):
            raise ValueError(f"a lone {tok!r} in {text!r}: write {tok * 2} for a literal brace")
        if lit:
            if parts and isinstance(parts[-1], str):
                parts[-1] += lit
            else:
                parts.append(lit)
        if m.group(1) is not None:
            parts.append(parse_slot(m.group(1)))
        pos = m.end()
    tail = text[pos:]
    if tail:
        if parts and isinstance(parts[-1], str):
            parts[-1] += tail
        else:
            parts.append(tail)
    return tuple(parts)


def slots(parts: tuple[Part, ...]) -> tuple[Slot, ...]:
    return tuple(p for p in parts if isinstance(p, Slot))
