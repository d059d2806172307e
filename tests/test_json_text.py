"""Bodies compiled into format strings are the bytes orjson wrote, byte for byte.

Until December 2026 a state's body was built per request as a dict literal and
encoded with ``orjson.dumps`` (engine/scenario/compiler.py then); it is now one
format string with slots (engine/scenario/json_text.py). For every state and API
step of every built-in scenario, and of a file made of the awkward cases (text
that needs escaping, ``%``, non-ASCII, decimals, tables, texts around them, API
captures, a parent's variables), both ways are evaluated on the same variables,
the same RNG state and the same drawn ids and clock, and must agree.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import orjson
import pytest

import engine.scenario.compiler as compiler
import engine.scenario.generators as generators
import engine.scenario.source as source
from engine.domain.clock import WallClock
from engine.scenario.compiler import _kinds, compile_scenario
from engine.scenario.json_text import Kinds, plain
from engine.scenario.loader import Scenario, builtin_names, load_scenario, parse_scenario
from engine.scenario.source import Source
from engine.scenario.templates import merge

NOW = 1_764_000_000.7

AWKWARD = """\
[scenario]
event_id = { gen = "id", prefix = "ev\\"_", length = 8 }

[webhooks.hook]
path = "/h"

[api.make]
method = "POST"
url = "/make"
body = ["made"]
capture = { token = "$.token" }

[flows.f]
root = 1
initial = "a"

[flows.f.vars]
id = { gen = "id", prefix = "x_", length = 10 }
odd = { gen = "id", prefix = "q", length = 6, alphabet = "a\\"b\\\\c\\n%é" }
price = { gen = "decimal", min = 0.5, max = 1e6, places = 2 }
whole = { gen = "decimal", min = 1, max = 90, places = 0 }
n = { gen = "int", min = -5, max = 5 }
big = { gen = "int", min = 18446744073709551000, max = 18446744073709551615 }
word = { gen = "choice", values = ["plain", "with \\"quote\\"", "100%"] }
safe = { gen = "choice", values = ["usd", "eur"] }
mixed = { gen = "choice", values = [1, "one", true, 1.5] }
plan = { gen = "choice", values = [{ refund = 5, note = "a\\tb" }, { refund = 7, note = "ü" }] }
label = "{vars.safe}/{vars.n}"
loose = "{vars.word}-{vars.id}"
uid = { gen = "uuid" }
when = "{now-1h}"
at = "{unix+30s}"

[flows.f.states.a]
api = "make"
next = { b = 1 }

[flows.f.states.b]
webhook = "hook"
body = ["t"]
children = [{ flow = "g", probability = 1.0 }]

[flows.g]
initial = "c"
vars = { own = { gen = "id", prefix = "g_", length = 5 } }

[flows.g.states.c]
webhook = "hook"
body = ["u"]

[templates.made]
id = "{vars.id}"
price = "{vars.price}"
pct = "100% {vars.safe} é"

[templates.t]
id = "{event_id}"
"k\\"ey%" = "%s {word} {state} {flow} \\u00e9\\n"
id2 = "{vars.id}"
odd = "{vars.odd}"
around_odd = "<{vars.odd}>"
price = "{vars.price}"
price_text = "EUR {vars.price}"
whole = "{vars.whole}"
n = "{vars.n}"
big = "{vars.big}"
word = "{vars.word}"
word_text = "[{vars.word}]"
safe = "{vars.safe}"
mixed = "{vars.mixed}"
mixed_text = "m={vars.mixed}"
plan = "{vars.plan}"
refund = "{vars.plan.refund}"
note = "n:{vars.plan.note}"
label = "{vars.label}"
loose = "{vars.loose}"
token = "{vars.token}"
token_text = "t {vars.token}"
uid = "{vars.uid}"
when = "{vars.when}"
at = "{vars.at}"
now = "{now+1d}"
unix = "{unix-5m}"
gens = [
  { gen = "int", min = 1, max = 3 }, { gen = "decimal", min = 0, max = 1 },
  { gen = "choice", values = ["a", "b\\"", 3] }, { gen = "id", length = 4 },
  { gen = "now" }, { gen = "unix" },
]
const = { a = [1, 2.5, "x\\"", true, false, { gen = "null" }], b = {} }
empty = []
deep = { list = ["{vars.id}", 3, { x = "{vars.n}" }] }

[templates.u]
id = "{event_id}"
parent = "{parent.id}"
parent_price = "{parent.price}"
parent_n = "{parent.n}"
parent_token = "{parent.token}"
own = "{vars.own}"
"""


CAPTURED: list[Callable[[random.Random], object]] = [
    lambda rng: f"tx_{rng.randrange(10**9)}",
    lambda rng: f"t\\{rng.random()}\u2028\"'%",
    lambda rng: rng.randrange(-(10**6), 10**6),
    lambda rng: rng.random() * 100,
    lambda rng: None,
    lambda rng: {"k": [1.25, "é"]},
]


class _Replay:
    """Drawn generators (ids, clocks) that give the second evaluation of a body
    exactly the values the first one drew."""

    def __init__(self) -> None:
        self.log: list[object] = []
        self.at: int | None = None  # None: drawing (and recording)

    def wrap(self, fn: Callable[[], object]) -> Callable[[], object]:
        def drawn() -> object:
            if self.at is None:
                self.log.append(value := fn())
                return value
            value = self.log[self.at]
            self.at += 1
            return value

        return drawn


def _two_ways(
    scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> list[tuple[str, str, Callable[..., Any]]]:
    """For each body (state or API step): its flow and a function ``(v, p, rng)``
    returning the bytes built the old way and the new way, with the same draws."""
    replay = _Replay()
    real = generators.make_generator

    def make(spec: Any, clock: WallClock) -> Any:
        drawn, seeded = real(spec, clock)
        return (replay.wrap(drawn) if drawn is not None else None), seeded

    monkeypatch.setattr(compiler, "make_generator", make)  # the event id
    monkeypatch.setattr(source, "make_generator", make)  # the body's generators
    clock = WallClock(lambda: NOW)
    kinds = _kinds(scenario)
    spec, parsed = scenario.spec, scenario.parsed
    bodies: list[tuple[str, str, str, str, Any]] = []
    for fname, flow in spec.flows.items():
        for sname, st in flow.states.items():
            if st.body is not None:
                word = flow.words.get(sname, sname)
                bodies.append((fname, fname, sname, word, st.body))
            if st.api is not None and spec.api[st.api].body:
                bodies.append((fname, f"api.{st.api}", "", "", spec.api[st.api].body))
    out = []
    for fname, consts_flow, sname, word, names in bodies:
        src = Source(clock, consts_flow, sname, word, kinds)
        src.env["_eid"] = make(spec.scenario.event_id, clock)[0]
        node = merge(parsed.templates, names)
        code = (
            "def both(v, p, rng):\n"
            "    eid = _eid()\n"
            "    state = rng.getstate()\n"
            "    mark = len(_replay.log)\n"
            f"    old = _dumps({src.expr(node)})\n"
            "    rng.setstate(state)\n"
            "    _replay.at = mark\n"
            f"    new = {src.body(node)}\n"
            "    _replay.at = None\n"
            "    return old, new\n"
        )
        src.env["_replay"] = replay
        out.append((fname, f"{consts_flow}.{sname}", src.function("both", code)))
    return out


def _check(scenario: Scenario, monkeypatch: pytest.MonkeyPatch, rounds: int = 40) -> int:
    compiled = compile_scenario(scenario, clock=WallClock(lambda: NOW))
    captured = {c for api in scenario.spec.api.values() for c in api.capture}
    rng = random.Random(11)
    checked = 0
    for fname, label, both in _two_ways(scenario, monkeypatch):
        flow = compiled.flow(fname)
        for _ in range(rounds):
            parents = scenario.parsed.parents.get(flow.name, ())
            p = compiled.flow(parents[0]).start(None, rng) if parents else None
            v = flow.start(p, rng)
            for run in (v, p or {}):  # what API answers bind: anything JSON has
                for var in captured:
                    run.setdefault(var, rng.choice(CAPTURED)(rng))
            old, new = both(v, p, rng)
            assert new == old, label
            orjson.loads(new)
            checked += 1
    return checked


@pytest.mark.parametrize("name", builtin_names())
def test_builtin_bodies_are_what_orjson_wrote(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _check(load_scenario(name), monkeypatch) > 0


def test_awkward_values_are_escaped_as_orjson_escapes_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert _check(parse_scenario(AWKWARD, "awkward.toml"), monkeypatch, rounds=200) > 0


def test_the_comparison_can_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    """A kind wrongly taken for plain text shows up as a difference."""
    monkeypatch.setattr(Kinds, "slot", lambda self, slot, flow, mine=None: "text")
    with pytest.raises(AssertionError):
        _check(parse_scenario(AWKWARD, "awkward.toml"), monkeypatch, rounds=50)


def test_plain_is_orjsons_own_judgement() -> None:
    for code in [*range(0, 0x3000), 0x2028, 0x2029, 0xFEFF, 0x1F600, 0xD800]:
        ch = chr(code)
        try:
            written = orjson.dumps(ch)
        except orjson.JSONEncodeError:
            assert not plain(ch)
            continue
        assert plain(ch) == (written == b'"' + ch.encode() + b'"')
    assert plain("evt_ABCxyz019") and not plain('a"b') and not plain("a\\b")
