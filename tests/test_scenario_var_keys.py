"""``{vars.plan.refund}``: keys into a variable drawn as a table.

A ``choice`` of tables draws several numbers together, so they stay
consistent (the payments built-in: a payment's amount and the refunds that
add up to it); the checks make sure every value has the keys.
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

[flows.pay]
root = 1
initial = "made"

[flows.pay.vars]
fixed = {{ a = 1 }}

[flows.pay.vars.plan]
gen = "choice"
values = [
  {{ amount = 1000, refund = {{ part = 400, rest = 600 }} }},
  {{ amount = 2500, refund = {{ part = 500, rest = 2000 }} }},
]

[flows.pay.states.made]
webhook = "hook"
body = "pay"
children = [{{ flow = "refund", probability = 1 }}]

[flows.refund]
initial = "done"

[flows.refund.states.done]
webhook = "hook"
body = "refund"

[templates.pay]
amount = "{{vars.plan.amount}}"
fixed = "{{vars.fixed.a}}"
text = "paid {{vars.plan.amount}}"

[templates.refund]
part = "{{parent.plan.refund.part}}"
rest = "{{parent.plan.refund.rest}}"
amount = "{{parent.{amount}}}"
"""


def _bodies(text: str, seed: int) -> tuple[object, object]:
    c = compile_scenario(parse_scenario(text, "t.toml"))
    pay, refund = c.flow("pay"), c.flow("refund")
    rng = random.Random(seed)
    v = pay.start(None, rng)
    made, done = pay.states[0], refund.states[0]
    assert made.build is not None and done.build is not None
    first = orjson.loads(made.build(v, None, rng).body)
    second = orjson.loads(done.build(refund.start(v, rng), v, rng).body)
    return first, second


@pytest.mark.parametrize("seed", range(6))
def test_keys_read_one_draw_so_the_numbers_agree(seed: int) -> None:
    pay, refund = _bodies(FILE.format(amount="plan.amount"), seed)
    assert isinstance(pay, dict) and isinstance(refund, dict)
    assert pay["amount"] in (1000, 2500) and pay["fixed"] == 1
    assert pay["text"] == f"paid {pay['amount']}"
    assert refund["part"] + refund["rest"] == pay["amount"] == refund["amount"]


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("plan.amont", "{parent.plan.amont}: plan has no key 'amont' in every value"),
        ("plan.refund.all", "plan.refund has no key 'all' in every value it can take"),
        ("plan.amount.x", "plan.amount has no key 'x'"),
    ],
)
def test_a_key_some_value_lacks_is_refused_at_load(amount: str, message: str) -> None:
    with pytest.raises(ScenarioError) as exc:
        _bodies(FILE.format(amount=amount), 0)
    assert "templates.refund.amount" in str(exc.value)
    assert message in str(exc.value)


def test_keys_into_a_scalar_variable_are_refused() -> None:
    text = FILE.format(amount="plan.amount")
    text = text.replace("fixed = { a = 1 }", 'fixed = { gen = "uuid" }')
    with pytest.raises(ScenarioError) as exc:
        _bodies(text, 0)
    assert "{vars.fixed.a}: only a table or a choice of tables has keys" in str(exc.value)
