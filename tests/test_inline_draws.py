"""Draws compiled inline draw what the generators' functions draw.

A flow's ``int`` and ``choice`` values are code in the generated builders now,
not a call to :func:`~engine.scenario.generators.make_generator`'s function,
and its ``id`` variables of one alphabet are cut from one string drawn when the
flow starts (docs/PERFORMANCE.md, section 9): the same values from the same
``--seed`` stream, and ids of the same shape.
"""

from __future__ import annotations

import random
import re
from bisect import bisect_right
from typing import Any

import pytest

from engine.domain.clock import WallClock
from engine.scenario.compiler import compile_scenario
from engine.scenario.generators import ID_ALPHABET, make_generator, seeded_expr
from engine.scenario.loader import load_scenario
from engine.scenario.model import ChoiceGen, Generator, IntGen

SPECS: list[Generator] = [
    IntGen(gen="int", min=-5, max=5),
    IntGen(gen="int", min=1, max=10**12),
    ChoiceGen(gen="choice", values=["a", "b", "c"]),
    ChoiceGen(gen="choice", values=[500, 999, 1499], weights=[6, 10, 8]),
    ChoiceGen(gen="choice", values=["x", {"t": 1}, None], weights=[0.1, 0.7, 0.2]),
    ChoiceGen(gen="choice", values=[1, 2], weights=[0, 3]),
]


class _Top(random.Random):
    """An RNG whose draw is the largest ``random()`` can return: where the
    product may round up to the total of the weights."""

    def random(self) -> float:
        return 1 - 2**-53


def _inline(spec: Generator) -> Any:
    env: dict[str, Any] = {"_int": int, "_bisect": bisect_right}

    def name(value: object) -> str:
        env[f"_k{len(env)}"] = value
        return f"_k{len(env) - 1}"

    code = seeded_expr(spec, name)
    assert code is not None
    exec(f"def draw(rng):\n    return {code}\n", env)
    return env["draw"]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: repr(s)[:40])
def test_inline_draws_are_the_functions_draws(spec: Generator) -> None:
    _, seeded = make_generator(spec, WallClock())
    assert seeded is not None
    inline = _inline(spec)
    a, b = random.Random(5), random.Random(5)
    assert [inline(a) for _ in range(5000)] == [seeded(b) for _ in range(5000)]
    assert inline(_Top()) == seeded(_Top())


def test_a_flows_ids_are_cut_to_their_shapes() -> None:
    flow = compile_scenario(load_scenario("stripe")).flow("payment_intent")
    rng = random.Random(1)
    seen: set[object] = set()
    chars = f"[{ID_ALPHABET}]"
    shapes = {
        "id": f"pi_{chars}{{24}}",
        "secret": f"{chars}{{25}}",
        "charge": f"ch_{chars}{{24}}",
        "payment_method": f"pm_{chars}{{24}}",
        "create_request": f"req_{chars}{{14}}",
        "confirm_request": f"req_{chars}{{14}}",
    }
    for _ in range(2000):  # a few refills of the pool
        v = flow.start(None, rng)
        for var, shape in shapes.items():
            assert re.fullmatch(shape, str(v[var])), (var, v[var])
            seen.add(v[var])
    assert len(seen) == 2000 * len(shapes)
