"""A template value as a tree of nodes, parsed once at load.

A template (``[templates.NAME]``), a variable's value and a URL are parsed
into :data:`Node`s: constants, generators, texts with placeholders, objects
and arrays. The checks walk the nodes to see every placeholder names
something that exists; the compiler turns them into code. Parsing happens
once per file, never per request.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError

from engine.scenario.explain import explain, first_error
from engine.scenario.model import (
    GENERATORS,
    ChoiceGen,
    DecimalGen,
    Generator,
    IdGen,
    IntGen,
    NowGen,
    UnixGen,
    UuidGen,
)
from engine.scenario.placeholders import Part, Slot, parse_text
from engine.scenario.problem import Path, Problem, unknown

_GENERATOR: TypeAdapter[Generator] = TypeAdapter(Generator)
_CLASSES = (UuidGen, IdGen, NowGen, UnixGen, IntGen, DecimalGen, ChoiceGen)  # GENERATORS' order


@dataclass(frozen=True, slots=True)
class Const:
    value: object


@dataclass(frozen=True, slots=True)
class Gen:
    spec: Generator


@dataclass(frozen=True, slots=True)
class Text:
    parts: tuple[Part, ...]

    @property
    def lone(self) -> Slot | None:
        """The placeholder when the text is nothing else (it keeps its type)."""
        return self.parts[0] if len(self.parts) == 1 and isinstance(self.parts[0], Slot) else None


@dataclass(frozen=True, slots=True)
class Obj:
    items: tuple[tuple[str, Node, Path], ...]  # key, value, the value's key path


@dataclass(frozen=True, slots=True)
class Arr:
    items: tuple[tuple[Node, Path], ...]


Node = Const | Gen | Text | Obj | Arr


NULL = "null"
"""``{ gen = "null" }``: JSON's null, which TOML cannot write (Stripe's objects
carry every field, most of them null)."""


def generator(value: Mapping[str, Any], path: Path) -> Generator:
    """A ``{ gen = ... }`` table as its validated generator."""
    gen = value.get("gen")
    if not isinstance(gen, str) or gen not in GENERATORS:
        raise Problem((*path, "gen"), unknown("generator", str(gen), (*GENERATORS, NULL)))
    try:
        return _GENERATOR.validate_python(dict(value))
    except ValidationError as exc:
        model = _CLASSES[GENERATORS.index(gen)]
        raise explain(first_error(exc.errors()), dict(value), model, path) from None


def parse_value(value: object, path: Path) -> Node:
    """The node for one value of a template (or a variable)."""
    if isinstance(value, str):
        try:
            parts = parse_text(value)
        except ValueError as exc:
            raise Problem(path, str(exc)) from None
        if all(isinstance(p, str) for p in parts):
            return Const("".join(p for p in parts if isinstance(p, str)))
        return Text(parts)
    if isinstance(value, dict):
        if value.get("gen") == NULL:
            if len(value) > 1:
                extra = next(k for k in value if k != "gen")
                raise Problem((*path, extra), f'{{ gen = "null" }} takes no {extra!r}')
            return Const(None)
        if "gen" in value:
            return Gen(generator(value, path))
        return Obj(tuple((k, parse_value(v, (*path, k)), (*path, k)) for k, v in value.items()))
    if isinstance(value, list):
        return Arr(tuple((parse_value(v, (*path, i)), (*path, i)) for i, v in enumerate(value)))
    if isinstance(value, float) and not math.isfinite(value):
        raise Problem(path, f"{value} is not a JSON number")
    if isinstance(value, bool | int | float):
        return Const(value)
    raise Problem(path, f"a TOML {type(value).__name__} cannot go into JSON: write it as text")


def walk_slots(node: Node, path: Path) -> list[tuple[Slot, Path]]:
    """Every placeholder in a node, with the key path it is written at."""
    if isinstance(node, Text):
        return [(p, path) for p in node.parts if isinstance(p, Slot)]
    if isinstance(node, Obj):
        return [s for _, v, p in node.items for s in walk_slots(v, p)]
    if isinstance(node, Arr):
        return [s for v, p in node.items for s in walk_slots(v, p)]
    return []


def merge(templates: Mapping[str, Obj], names: list[str]) -> Obj:
    """Templates merged in order: a later key replaces an earlier one in
    place, new keys go at the end (``body = ["chargeback", "resolution"]``);
    where both are tables they merge key by key, so a small template can set
    one field deep in an envelope (``data.object.status``)."""
    merged = templates[names[0]]
    for name in names[1:]:
        merged = _merge_two(merged, templates[name])
    return merged


def _merge_two(base: Obj, over: Obj) -> Obj:
    items = {item[0]: item for item in base.items}
    for key, node, path in over.items:
        old = items.get(key)
        if old is not None and isinstance(old[1], Obj) and isinstance(node, Obj):
            items[key] = (key, _merge_two(old[1], node), old[2])
        else:
            items[key] = (key, node, path)
    return Obj(tuple(items.values()))
