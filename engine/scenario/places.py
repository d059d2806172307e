"""Where placeholders sit in a compiled template: the JSON paths of a body's
texts, and the one placeholder a text holds with the literal text around it.

Apart from engine/scenario/receiver.py because both halves of the reference
target's reading use it: telling a flow's runs apart
(engine/scenario/run_identity.py: which variables sit alone in every event)
and the receiver's own locators (where the event id and state sit).
Read-only walks over :mod:`engine.scenario.templates`' nodes.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.scenario.placeholders import Slot
from engine.scenario.reading import Keys, Locator
from engine.scenario.templates import Arr, Const, Node, Obj, Text, parse_value

__all__ = ["find", "lone_vars", "one_slot", "slot_key", "texts", "url_parts"]


def texts(node: Node, keys: Keys) -> Iterator[tuple[Keys, Text]]:
    """Every text of a body with its JSON path."""
    if isinstance(node, Text):
        yield keys, node
    elif isinstance(node, Obj):
        for k, v, _ in node.items:
            yield from texts(v, (*keys, k))
    elif isinstance(node, Arr):
        for i, (v, _) in enumerate(node.items):
            yield from texts(v, (*keys, i))


def one_slot(text: Text) -> tuple[Slot, str, str] | None:
    """The text's only placeholder with the literal text around it, or None."""
    parts = text.parts
    slots = [p for p in parts if isinstance(p, Slot)]
    if len(slots) != 1:
        return None
    i = parts.index(slots[0])
    before = "".join(p for p in parts[:i] if isinstance(p, str))
    after = "".join(p for p in parts[i + 1 :] if isinstance(p, str))
    return slots[0], before, after


def find(body: Obj, kinds: tuple[str, ...]) -> Locator | None:
    for keys, text in texts(body, ()):
        found = one_slot(text)
        if found is not None and found[0].kind in kinds and not found[0].keys:
            return Locator(keys, found[1], found[2])
    return None


def lone_vars(body: Obj) -> dict[str, Locator]:
    """``{"vars.order_id": Locator(("order_id",))}``: each variable placed alone."""
    out: dict[str, Locator] = {}
    for keys, text in texts(body, ()):
        slot = text.lone
        if slot is not None and slot.kind in ("vars", "parent") and not slot.keys:
            out.setdefault(f"{slot.kind}.{slot.name}", Locator(keys))
    return out


def slot_key(text: str) -> str:
    """``"{parent.order_id}"`` as ``parent.order_id``; "" for any other text."""
    node = parse_value(text, ())
    lone = node.lone if isinstance(node, Text) else None
    if lone is None or lone.kind not in ("vars", "parent"):
        return ""
    return f"{lone.kind}.{lone.name}"


def url_parts(node: Node) -> tuple[str | Slot, ...]:
    """A URL template's literal parts and placeholders."""
    if isinstance(node, Text):
        return node.parts
    return (str(node.value) if isinstance(node, Const) else "",)
