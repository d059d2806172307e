"""A broken scenario file gets one line: the file, the line, the key path, what
was expected (and a did-you-mean when a name is close to one that exists).

Each case breaks one thing in a small valid file and expects the exact line.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import EXIT_USAGE
from engine.scenario.loader import ScenarioError, load_scenario

GOOD = """\
[scenario]
name = "shop"

[webhooks.orders]
path = "/hooks/orders"

[flows.order]
root = 1.0
initial = "created"
max_repeats = 2
vars = { order_id = { gen = "uuid" } }

[flows.order.states.created]
webhook = "orders"
body = "order"
next = { updated = 1, success = 1 }

[flows.order.states.updated]
webhook = "orders"
body = "order"
next = { updated = 1, success = 1 }

[flows.order.states.success]
webhook = "orders"
body = "order"

[templates.order]
id = "{event_id}"
order_id = "{vars.order_id}"
status = "{word}"
amount = { gen = "int", min = 100, max = 900 }
"""

CASES = [
    (
        "next = { updated = 1, success = 1 }\n\n[flows.order.states.updated]",
        "next = { updated = 1, sucess = 1 }\n\n[flows.order.states.updated]",
        "16: flows.order.states.created.next: unknown state 'sucess' (did you mean 'success'?)",
    ),
    (
        "max_repeats = 2",
        "max_repeat = 2",
        "10: flows.order.max_repeat: unknown key 'max_repeat' (did you mean 'max_repeats'?)",
    ),
    (
        'webhook = "orders"\nbody = "order"\n\n[templates',
        'webhook = "order"\nbody = "order"\n\n[templates',
        "24: flows.order.states.success.webhook: unknown webhook 'order' (did you mean 'orders'?)",
    ),
    (
        'body = "order"\n\n[templates',
        'body = "ordr"\n\n[templates',
        "25: flows.order.states.success.body: unknown template 'ordr' (did you mean 'order'?)",
    ),
    (
        '"{vars.order_id}"',
        '"{vars.orderid}"',
        "29: templates.order.order_id: unknown variable 'orderid' in flow 'order'"
        " (did you mean 'order_id'?)",
    ),
    (
        "[templates.order]",
        '[flows.order.states.failed]\nwebhook = "orders"\nbody = "order"\n\n[templates.order]',
        "27: flows.order.states.failed: state 'failed' is unreachable from 'created'",
    ),
    (
        'body = "order"\n\n[templates',
        'body = "order"\nnext = { created = 1 }\n\n[templates',
        "13: flows.order.states: no terminal state (a state without next)",
    ),
    (
        "max_repeats = 2\n",
        "",
        "20: flows.order.states.updated.next: state 'updated' loops back to itself with no"
        " bound (set flows.order.max_repeats or the state's max_repeats)",
    ),
    (
        "max_repeats = 2",
        'max_repeats = "2"',
        "10: flows.order.max_repeats: expected an integer, got '2'",
    ),
    (
        'gen = "int"',
        'gen = "integer"',
        "31: templates.order.amount.gen: unknown generator 'integer' (did you mean 'int'?)",
    ),
    (
        "min = 100, max = 900",
        "min = 900, max = 100",
        "31: templates.order.amount: min 900 is above max 100",
    ),
    (
        '"{word}"',
        '"{wrd}"',
        "30: templates.order.status: unknown placeholder {wrd} (did you mean {word}?)",
    ),
    (
        'path = "/hooks/orders"',
        'path = "/hooks/orders"\naccept = { first = ["2xx", 500] }',
        "6: webhooks.orders.accept.first[1]: expected a status code 100-499 or a class"
        " '1xx'..'4xx' (a 5xx is never accepted), got 500",
    ),
    (
        'initial = "created"\n',
        "",
        "7: flows.order: missing key 'initial'",
    ),
    (
        '"{vars.order_id}"',
        '"{parent.order_id}"',
        "29: templates.order.order_id: {parent.order_id} in flow 'order', which no flow"
        " starts as a child",
    ),
    (
        'path = "/hooks/orders"',
        'path = "/hooks/orders"\nurl = "http://127.0.0.1:9/x"',
        "4: webhooks.orders: give either path (joined to --target) or url, not both or neither",
    ),
    (
        "root = 1.0",
        "root = 0.0",
        "8: flows.order.root: input should be greater than 0, got 0.0",
    ),
    (
        "root = 1.0",
        'root = 1.0\noutcome_labels = { sucess = "ok" }',
        "9: flows.order.outcome_labels.sucess: unknown outcome 'sucess' (did you mean 'success'?)",
    ),
    (
        "max = 900",
        "maxx = 900",
        "31: templates.order.amount.maxx: unknown key 'maxx' (did you mean 'max'?)",
    ),
    (
        "initial = ",
        "intial = ",
        "9: flows.order.intial: unknown key 'intial' (did you mean 'initial'?)",
    ),
    (
        'status = "{word}"',
        "status = nan",
        "30: templates.order.status: nan is not a JSON number",
    ),
    (
        "[flows.order]",
        "[flows.Order-1]\n[flows.order]",
        "7: flows.Order-1: 'Order-1' is not a name: use letters, digits and _ (no digit first)",
    ),
]


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "shop.toml"
    path.write_text(text)
    return str(path)


def test_the_good_file_loads(tmp_path: Path) -> None:
    scenario = load_scenario(_write(tmp_path, GOOD))
    assert scenario.name == "shop"
    assert list(scenario.spec.flows["order"].states) == ["created", "updated", "success"]


@pytest.mark.parametrize(("old", "new", "expected"), CASES, ids=[c[2][:40] for c in CASES])
def test_a_broken_file_gets_its_line(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert GOOD.count(old) == 1, old  # the case breaks exactly one place
    path = _write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value) == f"{path}:{expected}"
    assert info.value.exit_code == EXIT_USAGE
    assert "\n" not in str(info.value)


def test_toml_syntax_gets_tomllib_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        GOOD.replace(
            "success = 1 }\n\n[flows.order.states.updated]",
            "success = }\n\n[flows.order.states.updated]",
        ),
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value).startswith(f"{path}:16: TOML syntax: ")


def test_a_toml_date_is_refused_where_it_is(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace('status = "{word}"', "status = 2026-01-01"))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value) == (
        f"{path}:30: templates.order.status: a TOML date cannot go into JSON: write it as text"
    )


def test_an_unknown_builtin_gets_a_suggestion() -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario("ingset")
    assert str(info.value).startswith(
        "no scenario file or built-in named 'ingset' (did you mean 'ingest'?); built-ins: "
    )
