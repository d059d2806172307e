"""A pydantic error as a :class:`~engine.scenario.problem.Problem`: the key
path as written in the file, and one phrase a user can act on.

pydantic's location has more than the file's keys in it (the tag of a union
member, ``[key]`` for a dict key), so the path is rebuilt by walking the data
along the location and keeping only the steps that are really there. An
unknown key gets a did-you-mean from the keys the model allows at that spot.
"""

from __future__ import annotations

import types
import typing
from typing import Any, Union

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from engine.scenario.model import NAME_PATTERN
from engine.scenario.problem import Path, Problem, unknown

_WORDS = {
    "bool_type": "true or false",
    "dict_type": "a table",
    "float_type": "a number",
    "int_type": "an integer",
    "list_type": "a list",
    "model_type": "a table",
    "string_type": "text",
}


def data_path(data: object, loc: tuple[int | str, ...]) -> Path:
    """The steps of ``loc`` that index into ``data`` (union tags dropped)."""
    out: list[str | int] = []
    cur = data
    for part in loc:
        in_table = isinstance(cur, dict) and isinstance(part, str) and part in cur
        in_list = isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur)
        if in_table or in_list:
            cur = cur[part]  # type: ignore[index]
            out.append(part)
    return tuple(out)


def _unwrap(tp: Any) -> Any:
    """The model (or container) inside ``Annotated``/``Optional``/a union."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            tp = models[0] if models else args[0]
        else:
            return tp


def fields_at(model: type[BaseModel], path: Path) -> list[str]:
    """The keys the model allows at ``path`` (empty when it cannot tell)."""
    tp: Any = model
    for part in path:
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if not isinstance(part, str) or part not in tp.model_fields:
                return []
            tp = tp.model_fields[part].annotation
        elif typing.get_origin(tp) is dict:
            tp = typing.get_args(tp)[1]
        elif typing.get_origin(tp) is list:
            tp = typing.get_args(tp)[0]
        else:
            return []
    tp = _unwrap(tp)
    return list(tp.model_fields) if isinstance(tp, type) and issubclass(tp, BaseModel) else []


def first_error(errors: list[ErrorDetails]) -> ErrorDetails:
    """The error to show: a misspelled key is both an unknown key and a missing
    one; the unknown key names the typo (and gets the did-you-mean), so it wins."""
    return next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])


def explain(err: ErrorDetails, data: object, model: type[BaseModel], prefix: Path = ()) -> Problem:
    """One pydantic error on ``data`` (validated as ``model``) as a Problem
    whose path starts with ``prefix``."""
    loc = tuple(err["loc"])
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden":
        path = data_path(data, loc)
        key = str(path[-1])
        return Problem((*prefix, *path), unknown("key", key, fields_at(model, path[:-1])))
    if kind == "missing":
        return Problem((*prefix, *data_path(data, loc)), f"missing key {loc[-1]!r}")
    path = (*prefix, *data_path(data, loc))
    if kind == "union_tag_invalid":
        tags = [t.strip(" '") for t in str(ctx.get("expected_tags", "")).split(",")]
        return Problem((*path, "gen"), unknown("generator", str(ctx.get("tag")), tags))
    if kind == "string_pattern_mismatch" and ctx.get("pattern") == NAME_PATTERN:
        return Problem(
            path, f"{err['input']!r} is not a name: use letters, digits and _ (no digit first)"
        )
    if kind in _WORDS:
        return Problem(path, f"expected {_WORDS[kind]}, got {_show(err['input'])}")
    msg = str(err["msg"]).removeprefix("Value error, ")
    if kind != "value_error":
        msg = f"{msg[:1].lower()}{msg[1:]}, got {_show(err['input'])}"
    return Problem(path, msg)


def _show(value: object) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
