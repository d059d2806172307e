"""A template's JSON body compiled into one format string with slots.

A body used to be built per request as a dict literal and encoded with
``orjson.dumps``: for Stripe's objects (some 40 keys, most of them constant
nulls, 1.2-1.8 KB) that was 3.5-6.5 µs a request, two thirds of it building the
dict (docs/PERFORMANCE.md, section 9). Most of a body never changes, so it is
encoded once, when the scenario is compiled, into the text orjson would write
for it, with a ``%s`` where a value is drawn per request:

    '{"id":"%s","object":"event","api_version":"2023-08-16","created":%s,...}'
        % (eid, _int(_time() + 0.0), ...)

and the request pays one ``%`` and one ``.encode()``. Each value is written
the way orjson writes it, byte for byte (a golden test compares them):

- constants (and constant sub-tables) are encoded by orjson itself, at compile
  time, keys included;
- a value whose kind is known when the scenario is compiled goes in raw: text
  that needs no JSON escaping (ids from an alphabet of plain characters, UUIDs,
  RFC 3339 stamps, a choice among such texts) between quotes, an integer (Unix
  seconds, ``int``, a choice among integers, all in orjson's 64-bit range) as
  its digits;
- anything else (a decimal, a table, a variable an API step binds, a text
  around such a value) is ``orjson.dumps(value).decode()`` per request, as
  before.

What "needs no escaping" means is asked of orjson, character by character (its
escaping is per character), so this module holds no copy of JSON's rules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Literal

import orjson

from engine.scenario.generators import ID_ALPHABET
from engine.scenario.model import (
    ChoiceGen,
    DecimalGen,
    Generator,
    IdGen,
    IntGen,
    NowGen,
    UnixGen,
    UuidGen,
)
from engine.scenario.offsets import parse_offset
from engine.scenario.placeholders import Slot
from engine.scenario.templates import Arr, Const, Gen, Node, Obj, Text

Kind = Literal["text", "int"] | None
"""What a value is known to be at compile time: text that JSON writes between
quotes as it is, an integer orjson writes as its digits, or unknown."""
TEXT: Kind = "text"
INT: Kind = "int"
_I64, _U64 = -(2**63), 2**64 - 1  # orjson's integer range
_CONSTS = ("word", "state", "flow")  # slots that are constants of a state


def plain(text: str) -> bool:
    """True when JSON writes ``text`` between quotes unchanged (as orjson does)."""
    try:
        return orjson.dumps(text) == b'"' + text.encode() + b'"'
    except (UnicodeEncodeError, orjson.JSONEncodeError):  # a lone surrogate
        return False


def _int_kind(lo: float, hi: float) -> Kind:
    return INT if lo >= _I64 and hi <= _U64 else None


def gen_kind(spec: Generator) -> Kind:
    """The kind of the values a generator draws."""
    if isinstance(spec, UuidGen | NowGen):
        return TEXT  # hex digits and dashes; digits, '-', ':', 'T', 'Z'
    if isinstance(spec, IdGen):
        return TEXT if plain(spec.prefix + (spec.alphabet or ID_ALPHABET)) else None
    if isinstance(spec, UnixGen):
        return INT if abs(parse_offset(spec.offset)) < 1e15 else None
    if isinstance(spec, IntGen):
        return _int_kind(spec.min, spec.max)
    if isinstance(spec, DecimalGen):  # round(x) with no places is an int
        return _int_kind(spec.min, spec.max) if spec.places == 0 else None
    assert isinstance(spec, ChoiceGen)
    values = spec.values
    if all(type(v) is str and plain(v) for v in values):
        return TEXT
    if all(type(v) is int and _I64 <= v <= _U64 for v in values):
        return INT
    return None


class Kinds:
    """The kind of every variable of every flow, for the slots that name them.

    A variable an API step may bind is unknown (its value comes from an
    answer); so is one whose value is a table or mixes kinds.
    """

    def __init__(
        self,
        flow_vars: Mapping[str, tuple[tuple[str, Node], ...]],
        captured: frozenset[str],
        parents: Mapping[str, tuple[str, ...]],
        event_id: Generator,
    ) -> None:
        self.parents = parents
        self.event_id = gen_kind(event_id)
        self.vars: dict[str, dict[str, Kind]] = {}
        for flow, items in flow_vars.items():
            mine: dict[str, Kind] = {}
            for name, node in items:  # a var may name the ones before it
                kind = None if name in captured else self.node(node, flow, mine)
                mine[name] = kind
            self.vars[flow] = mine

    def node(self, node: Node, flow: str, mine: Mapping[str, Kind] | None = None) -> Kind:
        if isinstance(node, Gen):
            return gen_kind(node.spec)
        if isinstance(node, Const):
            v = node.value
            if type(v) is str:
                return TEXT if plain(v) else None
            return INT if type(v) is int and _I64 <= v <= _U64 else None
        if isinstance(node, Text):
            if (lone := node.lone) is not None:
                return self.slot(lone, flow, mine)
            ok = all(isinstance(p, str) or self.slot(p, flow, mine) is not None for p in node.parts)
            return TEXT if ok and all(plain(p) for p in node.parts if isinstance(p, str)) else None
        return None

    def slot(self, slot: Slot, flow: str, mine: Mapping[str, Kind] | None = None) -> Kind:
        """The kind of a placeholder's value (a word, state or flow: by its text)."""
        if slot.kind == "event_id":
            return self.event_id
        if slot.kind == "now":
            return TEXT
        if slot.kind == "unix":
            return INT if abs(slot.offset) < 1e15 else None
        if slot.keys or slot.kind not in ("vars", "parent"):
            return None
        if slot.kind == "vars":
            return (self.vars.get(flow, {}) if mine is None else mine).get(slot.name)
        kinds = {self.vars.get(p, {}).get(slot.name) for p in self.parents.get(flow, ())}
        return kinds.pop() if len(kinds) == 1 else None


class Body:
    """One body's format string and the code of its slots' values, in order."""

    def __init__(
        self,
        kinds: Kinds,
        flow: str,
        consts: Mapping[str, str],
        expr: Callable[[Node], str],
        slot: Callable[[Slot], str],
    ) -> None:
        self._kinds, self._flow, self._consts = kinds, flow, consts
        self._expr, self._slot = expr, slot
        self.parts: list[str] = []
        self.args: list[str] = []

    def fmt(self) -> str:
        return "".join(self.parts)

    def _lit(self, json: str) -> None:
        self.parts.append(json.replace("%", "%%"))

    def _arg(self, code: str, kind: Kind) -> None:
        if kind is TEXT:
            self.parts.append('"%s"')
        elif kind is INT:
            self.parts.append("%s")
        else:
            self.parts.append("%s")
            code = f"_dumps({code}).decode()"
        self.args.append(code)

    def add(self, node: Node) -> None:
        """Append ``node``'s JSON: constant text, or a slot with its code."""
        if static(node):
            self._lit(orjson.dumps(const_value(node)).decode())
        elif isinstance(node, Gen):
            self._arg(self._expr(node), gen_kind(node.spec))
        elif isinstance(node, Text):
            self._text(node)
        elif isinstance(node, Obj):
            self._lit("{")
            for i, (key, value, _) in enumerate(node.items):
                self._lit(("," if i else "") + orjson.dumps(key).decode() + ":")
                self.add(value)
            self._lit("}")
        else:
            assert isinstance(node, Arr)
            self._lit("[")
            for i, (value, _) in enumerate(node.items):
                if i:
                    self._lit(",")
                self.add(value)
            self._lit("]")

    def _text(self, node: Text) -> None:
        if (lone := node.lone) is not None and lone.kind not in _CONSTS:
            self._arg(self._slot(lone), self._kinds.slot(lone, self._flow))
            return
        pieces: list[str | Slot] = []  # literal text (constant slots resolved) or slots
        for p in node.parts:
            if isinstance(p, Slot) and p.kind in _CONSTS:
                pieces.append(self._consts[p.kind])
            elif isinstance(p, Slot) and self._kinds.slot(p, self._flow) is None:
                self._arg(self._expr(node), None)  # some value needs escaping
                return
            else:
                pieces.append(p)
        self._lit('"')
        for piece in pieces:
            if isinstance(piece, str):
                self._lit(orjson.dumps(piece).decode()[1:-1])  # escaping is per character
            else:
                self.parts.append("%s")
                self.args.append(self._slot(piece))  # text, or an int's digits
        self._lit('"')


def static(node: Node) -> bool:
    if isinstance(node, Const):
        return True
    if isinstance(node, Obj):
        return all(static(v) for _, v, _ in node.items)
    if isinstance(node, Arr):
        return all(static(v) for v, _ in node.items)
    return False


def const_value(node: Node) -> object:
    if isinstance(node, Const):
        return node.value
    if isinstance(node, Obj):
        return {k: const_value(v) for k, v, _ in node.items}
    assert isinstance(node, Arr)
    return [const_value(v) for v, _ in node.items]
