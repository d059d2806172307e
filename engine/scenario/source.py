"""The generated Python source of a scenario's builders, one module at a time.

Apart from :mod:`engine.scenario.compiler` because it is the one place where
text from a file becomes code: every value enters the source through
``repr()`` (text, keys, numbers) or as a named global (texts, tables,
generators), never as code, and each node of a template becomes one
expression; the compiler decides what to build, this writes it.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from itertools import count
from typing import Any

import orjson

from engine.domain.clock import WallClock
from engine.domain.contracts import Event
from engine.scenario.generators import make_generator, seeded_expr
from engine.scenario.json_text import Body, Kinds, const_value, static
from engine.scenario.model import UuidGen
from engine.scenario.placeholders import Slot
from engine.scenario.templates import Const, Gen, Node, Obj, Text

_TEXT_KINDS = ("event_id", "word", "state", "flow", "now")  # slots whose value is text


class Source:
    """One generated module: its globals (named constants, generators) and the
    expression of each node, for one state's constants."""

    def __init__(
        self,
        clock: WallClock,
        flow: str,
        state: str = "",
        word: str = "",
        kinds: Kinds | None = None,
    ) -> None:
        self.env: dict[str, Any] = {
            "_Event": Event,
            "_dumps": orjson.dumps,
            "_stamp": clock.stamp,
            "_time": clock.time,
            "_int": int,
            "_bisect": bisect_right,
            "_s": _text,
        }
        self.clock = clock
        self.consts = {"flow": flow, "state": state, "word": word}
        self.kinds = kinds
        self._n = count()

    def name(self, value: object) -> str:
        """A global holding ``value``; its name in the source."""
        name = f"_k{next(self._n)}"
        self.env[name] = value
        return name

    def expr(self, node: Node) -> str:
        if isinstance(node, Const):
            v = node.value
            return repr(v) if isinstance(v, str | bool | int) else self.name(v)
        if isinstance(node, Gen):
            if (inline := seeded_expr(node.spec, self.name)) is not None:
                return inline
            drawn, seeded = make_generator(node.spec, self.clock)
            return f"{self.name(drawn)}()" if drawn is not None else f"{self.name(seeded)}(rng)"
        if isinstance(node, Text):
            if (lone := node.lone) is not None:
                return self.slot(lone)
            parts = [repr(p) if isinstance(p, str) else self._as_text(p) for p in node.parts]
            return "(" + " + ".join(parts) + ")"
        if isinstance(node, Obj):
            if static(node):
                return self.name(const_value(node))
            return "{" + ", ".join(f"{k!r}: {self.expr(v)}" for k, v, _ in node.items) + "}"
        if static(node):
            return self.name(const_value(node))
        return "[" + ", ".join(self.expr(v) for v, _ in node.items) + "]"

    def body(self, node: Obj) -> str:
        """The expression of a body's bytes: its JSON as one format string,
        filled per request (engine/scenario/json_text.py)."""
        kinds = self.kinds or Kinds({}, frozenset(), {}, UuidGen(gen="uuid"))
        body = Body(kinds, self.consts["flow"], self.consts, self.expr, self.slot)
        body.add(node)
        if not body.args:  # nothing drawn: the same bytes every time
            return self.name((body.fmt() % ()).encode())
        return f"({self.name(body.fmt())} % ({', '.join(body.args)},)).encode()"

    def slot(self, slot: Slot) -> str:
        if slot.kind == "event_id":
            return "eid"
        if slot.kind in self.consts:
            return repr(self.consts[slot.kind])
        keys = "".join(f"[{k!r}]" for k in slot.keys)  # checked at load: every value has them
        if slot.kind == "vars":
            return f"v[{slot.name!r}]{keys}"
        if slot.kind == "parent":
            return f"p[{slot.name!r}]{keys}"
        if slot.kind == "now":
            return f"_stamp({slot.offset!r})"
        return f"_int(_time() + {slot.offset!r})"  # unix

    def text(self, node: Text) -> str:
        """A text node as an expression of type str, even a lone placeholder."""
        if (lone := node.lone) is not None:
            return self._as_text(lone)
        return self.expr(node)

    def _as_text(self, slot: Slot) -> str:
        code = self.slot(slot)
        return code if slot.kind in _TEXT_KINDS else f"_s({code})"

    def function(self, name: str, src: str) -> Callable[..., Any]:
        exec(compile(src, f"<scenario {self.consts['flow']}.{name}>", "exec"), self.env)
        fn: Callable[..., Any] = self.env[name]
        return fn


def _text(value: object) -> str:
    """A value formatted into text as JSON would show it (``true``, not ``True``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)
