"""Typed generators (``{ gen = "int", min = 1, max = 9 }``) as plain callables.

Each generator becomes one small function, made once when the scenario is
compiled; the generated builders call it directly. Ids (``uuid``, ``id``)
come from a private unseeded generator (engine/domain/ids.py), so a re-run
under the same ``--seed`` never replays the last run's event ids; values
(``int``, ``decimal``, ``choice``) draw from the journey's RNG, so ``--seed``
repeats them. Clock values read the run's wall clock (engine/domain/clock.py),
whose text is cached per second.
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Callable
from itertools import accumulate

from engine.domain.clock import WallClock
from engine.domain.ids import new_uuid
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

ID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ids = random.Random()

Drawn = Callable[[], object]
"""A generator that needs no RNG: ids and clocks."""
Seeded = Callable[[random.Random], object]
"""A generator that draws from the journey's RNG."""


def make_generator(spec: Generator, clock: WallClock) -> tuple[Drawn | None, Seeded | None]:
    """The generator's function: ``(drawn, None)`` or ``(None, seeded)``."""
    if isinstance(spec, UuidGen):
        return new_uuid, None
    if isinstance(spec, IdGen):
        return _id(spec.prefix, spec.length, spec.alphabet or ID_ALPHABET), None
    if isinstance(spec, NowGen):
        stamp, offset = clock.stamp, parse_offset(spec.offset)
        return (lambda: stamp(offset)), None
    if isinstance(spec, UnixGen):
        now, offset = clock.time, parse_offset(spec.offset)
        return (lambda: int(now() + offset)), None
    return None, _seeded(spec)


def _id(prefix: str, length: int, alphabet: str) -> Drawn:
    """``prefix`` and ``length`` characters of ``alphabet``, each uniform.

    From random bytes mapped by ``bytes.translate`` (0.36 µs for 24 characters),
    not ``Random.choices`` (a Python loop: 3 µs, a fifth of a ``stripe`` request's
    CPU; docs/PERFORMANCE.md, section 9): byte ``b`` is ``alphabet[b % m]``, and the
    ``256 % m`` highest byte values are dropped so that no character is favoured;
    a few bytes more are drawn than needed, and more in the rare case they fell
    short. An alphabet beyond one byte per character (or over 256 of them) is
    drawn with ``Random.choices``."""
    m = len(alphabet)
    if m > 256 or not alphabet.isascii():
        choices = _ids.choices

        def draw_any() -> str:
            return prefix + "".join(choices(alphabet, k=length))

        return draw_any
    to_char = bytes(ord(alphabet[b % m]) for b in range(256))
    kept = 256 - 256 % m
    dropped = bytes(range(kept, 256))
    bits = _ids.getrandbits  # Random.randbytes, without its Python frame
    n = max(4096, 64 * length)  # random bytes per refill: ids are cut from a pool
    pool = ""
    at = 0

    def draw() -> str:
        # a slice of characters drawn ahead, 4 KiB at a time: one id was a
        # getrandbits, a to_bytes, a translate and a decode (0.9 µs under
        # cProfile, the first entry of a signed stripe run's profile)
        nonlocal pool, at
        end = at + length
        if end > len(pool):
            fresh = bits(8 * n).to_bytes(n).translate(to_char, dropped).decode()
            pool, at, end = pool[at:] + fresh, 0, length
        text = pool[at:end]
        at = end
        return prefix + text

    return draw


def poolable(alphabet: str | None) -> bool:
    """Ids of this alphabet can be cut from one string of random characters."""
    a = alphabet or ID_ALPHABET
    return len(a) <= 256 and a.isascii()


def chars(length: int, alphabet: str | None) -> Drawn:
    """``length`` random characters of ``alphabet`` per call, each uniform: a
    flow's ids of one alphabet drawn at once (a call and a slice per id less:
    a ``stripe`` payment draws six when it starts)."""
    return _id("", length, alphabet or ID_ALPHABET)


def seeded_expr(spec: Generator, name: Callable[[object], str]) -> str | None:
    """The code of a seeded generator's draw, inline (a function call less per
    value; ``name`` makes a global of a value), computing exactly what
    :func:`make_generator`'s function computes from the same ``rng``."""
    if isinstance(spec, IntGen):
        return f"({name(spec.min)} + _int(rng.random() * {name(spec.max - spec.min + 1)}))"
    if not isinstance(spec, ChoiceGen):
        return None
    values = tuple(spec.values)
    if spec.weights is None:
        return f"{name(values)}[_int(rng.random() * {name(len(values))})]"
    cum = tuple(accumulate(spec.weights))
    # bisect may return len(values) (the draw rounded up to the total): the
    # last value again at that index, as _seeded's min(..., last)
    return f"{name((*values, values[-1]))}[_bisect({name(cum)}, rng.random() * {name(cum[-1])})]"


def _seeded(spec: IntGen | DecimalGen | ChoiceGen) -> Seeded:
    if isinstance(spec, IntGen):
        lo, span = spec.min, spec.max - spec.min + 1
        return lambda rng: lo + int(rng.random() * span)
    if isinstance(spec, DecimalGen):
        low, width, places = spec.min, spec.max - spec.min, spec.places
        if places == 0:
            return lambda rng: round(low + rng.random() * width)
        return lambda rng: round(low + rng.random() * width, places)
    values = tuple(spec.values)
    if spec.weights is None:
        n = len(values)
        return lambda rng: values[int(rng.random() * n)]
    cum = tuple(accumulate(spec.weights))
    total = cum[-1]
    last = len(values) - 1
    return lambda rng: values[min(bisect(cum, rng.random() * total), last)]
