"""One second's signing with one secret, compiled to one Python function: the
hot path of a signed run (engine/domain/signing.py's :class:`SchemeSigner`
builds one per second, docs/PERFORMANCE.md section 6).

Why generated code: a signed delivery's cost beyond the HMAC itself was the
interpretation of the scheme per message (which header holds what, whether
the signed string starts with the id, hex or base64), a few hundred
nanoseconds on every request. The generated function holds none of that: for
``stripe`` it is two hash-state copies, one update over the body, the outer
hash and one concatenation. Only names made here appear in its source; every
value (header names, texts, the hash states) is passed in its namespace, so
nothing from a scheme file is ever parsed as code. The source is compiled once
per shape (lru_cache); each second only runs the compiled definition again in
a fresh namespace.
"""

from __future__ import annotations

from binascii import b2a_base64
from collections.abc import Callable
from functools import lru_cache
from types import CodeType
from typing import cast

from engine.domain.signing_base import Hmac

Pairs = tuple[tuple[str, str], ...]
Row = tuple[str, int, str | tuple[str, ...], str | tuple[str, ...]]
"""A header of this second: its name, its kind (0 ready text, 1 the signature
between two ready texts, 2 text cut at ``{id}``, 3 any other), its two parts."""
Sign = Callable[[Pairs, bytes, str], Pairs]
"""(the event's own headers, body, event id) -> those headers and the signed
ones after them: one tuple made per delivery, not two (``()`` for the signed
ones alone: a tuple added to ``()`` is returned as is)."""


@lru_cache(maxsize=64)
def _code(source: str) -> CodeType:
    return compile(source, "<signing>", "exec")


def _around(middle: str, left: str, right: str, i: int, env: dict[str, object]) -> str:
    """The expression ``left + middle + right``, its empty texts left out."""
    parts = []
    if left:
        env[f"l{i}"] = left
        parts.append(f"l{i}")
    parts.append(middle)
    if right:
        env[f"r{i}"] = right
        parts.append(f"r{i}")
    return " + ".join(parts)


def compile_second(
    mac: Hmac, b64: bool, head: bytes | tuple[str, ...], rows: tuple[Row, ...]
) -> Sign | None:
    """This second's signing, for a signed string that ends with the body
    (``head``: its part before the body, ready bytes or pieces to join with the
    id) and the header ``rows``; None where the general path must do it (a
    header of kind 3: a signature header with an ``{id}``, or several
    signatures). A ``head`` without ``{id}`` (all built-ins but standard and
    svix) is hashed into the inner state here, once a second."""
    if any(kind == 3 for _, kind, _, _ in rows):
        return None
    pieces = head if isinstance(head, tuple) else ()
    inner, outer = mac.states(head if isinstance(head, bytes) else b"")
    env: dict[str, object] = {
        "new_inner": inner.copy,
        "new_outer": outer.copy,
        "pieces": pieces,
        "b2a": b2a_base64,
    }
    src = ["def sign(headers, body, event_id):", "    h = new_inner()"]
    if pieces:
        src.append("    h.update(event_id.join(pieces).encode())")
    src += ["    h.update(body)", "    o = new_outer()", "    o.update(h.digest())"]
    src.append(
        "    s = b2a(o.digest(), newline=False).decode()" if b64 else "    s = o.hexdigest()"
    )
    out = []
    for i, (name, kind, left, right) in enumerate(rows):
        env[f"n{i}"] = name
        if kind == 0:
            env[f"v{i}"] = left
            value = f"v{i}"
        elif kind == 1:
            assert isinstance(left, str) and isinstance(right, str)
            value = _around("s", left, right, i, env)
        elif len(left) == 2:  # kind 2, one {id}: "{id}" itself in all built-ins
            value = _around("event_id", left[0], left[1], i, env)
        else:
            env[f"p{i}"] = left
            value = f"event_id.join(p{i})"
        out.append(f"(n{i}, {value})")
    src.append(f"    return headers + ({', '.join(out)},)")
    exec(_code("\n".join(src)), env)
    return cast(Sign, env["sign"])
