"""``{ gen = "null" }`` writes JSON's null, which TOML has no literal for.

Stripe's objects carry every field and most are null (the stripe built-in);
without this a file could only leave them out or fake them as "".
"""

from __future__ import annotations

import random

import orjson
import pytest

from engine.scenario.compiler import compile_scenario
from engine.scenario.loader import ScenarioError, parse_scenario

FILE = """\
[webhooks.hook]
path = "/h"

[flows.f]
root = 1
initial = "a"
vars = {{ nothing = {{ gen = "null" }} }}

[flows.f.states.a]
webhook = "hook"
body = "t"

[templates.t]
customer = {nul}
nested = {{ card = {{ code = {{ gen = "null" }} }} }}
copied = "{{vars.nothing}}"
kept = 1
"""


def _body(text: str) -> object:
    compiled = compile_scenario(parse_scenario(text, "t.toml"))
    state = compiled.flows[0].states[0]
    assert state.build is not None
    v = compiled.flows[0].start(None, random.Random(1))
    return orjson.loads(state.build(v, None, random.Random(1)).body)


def test_null_in_a_template_a_nested_table_and_a_variable() -> None:
    body = _body(FILE.format(nul='{ gen = "null" }'))
    assert body == {"customer": None, "nested": {"card": {"code": None}}, "copied": None, "kept": 1}


def test_null_takes_no_other_key() -> None:
    with pytest.raises(ScenarioError) as exc:
        _body(FILE.format(nul='{ gen = "null", min = 1 }'))
    assert "templates.t.customer.min" in str(exc.value)
    assert "takes no 'min'" in str(exc.value)


def test_a_misspelled_generator_suggests_null() -> None:
    with pytest.raises(ScenarioError) as exc:
        _body(FILE.format(nul='{ gen = "nul" }'))
    assert "did you mean 'null'?" in str(exc.value)
