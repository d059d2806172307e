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
    choices = _ids.choices

    def draw() -> str:
        return prefix + "".join(choices(alphabet, k=length))

    return draw


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
