"""Per-event headers (issue 22): a webhook's and a state's ``headers`` are text
templates over the same placeholders as bodies, compiled once; constant
headers stay one shared tuple; a redelivery (the same Event) repeats them."""

from __future__ import annotations

import random

import pytest

from engine.domain.clock import WallClock
from engine.errors import UsageError
from engine.scenario.compiler import compile_scenario
from engine.scenario.loader import parse_scenario

FILE = """
[scenario]
correlation_header = "X-Correlation-ID"

[webhooks.hook]
path = "/hook"

[webhooks.hook.headers]
"Content-Type" = "application/json"
"X-Event" = "order.{word}"
"X-Delivery" = "{event_id}"
"X-Hook" = "{vars.hook}"
"X-At" = "{now}"
"X-Unix" = "{unix}"

[flows.order]
root = 1.0
initial = "created"
vars = { hook = { gen = "int", min = 5, max = 5 } }
words = { paid = "completed" }

[flows.order.states.created]
webhook = "hook"
body = "t"
next = { paid = 1 }

[flows.order.states.paid]
webhook = "hook"
body = "t"

[flows.order.states.paid.headers]
"x-event" = "{flow}/{state}"
"X-Only-Here" = "yes"
"X-Id" = { gen = "int", min = 7, max = 7 }

[templates.t]
id = "{event_id}"
"""

CONSTANT = """
[webhooks.hook]
path = "/hook"
headers = { "Content-Type" = "application/json", "User-Agent" = "Hookshot/1" }

[flows.f]
root = 1.0
initial = "s"
states.s = { webhook = "hook", body = "t" }

[templates.t]
a = 1
"""


def test_templated_headers_take_the_events_values() -> None:
    compiled = compile_scenario(
        parse_scenario(FILE, "t.toml"), clock=WallClock(lambda: 1_764_000_000.5)
    )
    flow = compiled.flow("order")
    rng = random.Random(1)
    v = flow.start(None, rng)
    created, paid = flow.state("created").build, flow.state("paid").build
    assert created is not None and paid is not None
    e = created(v, None, rng)
    assert e.headers == (
        ("Content-Type", "application/json"),
        ("X-Event", "order.created"),
        ("X-Delivery", e.event_id),
        ("X-Hook", "5"),  # an int variable, formatted as text
        ("X-At", "2025-11-24T16:00:00Z"),
        ("X-Unix", "1764000000"),
        ("X-Correlation-ID", e.event_id),
    )
    e2 = paid(v, None, rng)
    names = [k for k, _ in e2.headers]
    # the state's x-event replaced the webhook's X-Event in its place; its own header follows
    assert names[:2] == ["Content-Type", "x-event"] and "X-Only-Here" in names
    assert dict(e2.headers)["x-event"] == "order/paid"
    assert dict(e2.headers)["X-Id"] == "7"  # a generator: drawn per event, sent as text


def test_constant_headers_are_one_shared_tuple() -> None:
    compiled = compile_scenario(parse_scenario(CONSTANT, "t.toml"))
    build = compiled.flow("f").state("s").build
    assert build is not None
    rng = random.Random(1)
    a, b = build({}, None, rng), build({}, None, rng)
    assert a.headers is b.headers  # built at load, not per event
    assert a.headers == (("Content-Type", "application/json"), ("User-Agent", "Hookshot/1"))


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('"X-Hook" = "{vars.hook}"', '"X-Hook" = "{vars.hok}"', "webhooks.hook.headers.X-Hook"),
        ('"X-Only-Here" = "yes"', '"X-Only-Here" = "{wrod}"', "states.paid.headers.X-Only-Here"),
        ('"X-Hook" = "{vars.hook}"', '"X-Hook" = 5', "X-Hook: expected text, got 5"),
        ('"X-Hook" = "{vars.hook}"', '"X-Hook" = { gen = "uuidd" }', "unknown generator 'uuidd'"),
        ('"X-Hook" = "{vars.hook}"', '"X-Hook" = { a = 1 }', "text or a generator"),
        ('"X-Hook" = "{vars.hook}"', '"X-Hook" = { gen = "null" }', "text or a generator"),
    ],
)
def test_a_bad_placeholder_in_a_header_is_one_line(old: str, new: str, message: str) -> None:
    with pytest.raises(UsageError) as err:
        parse_scenario(FILE.replace(old, new), "t.toml")
    assert message in str(err.value)


def test_an_api_state_takes_no_headers_of_its_own() -> None:
    text = (
        CONSTANT
        + """
[api.create]
url = "/x"

[flows.g]
root = 1.0
initial = "s"
states.s = { api = "create", headers = { "X-A" = "1" } }
"""
    )
    with pytest.raises(UsageError) as err:
        parse_scenario(text, "t.toml")
    assert "an api state takes its headers from [api.NAME]" in str(err.value)


def test_a_transport_leaves_out_its_own_header_the_file_gives() -> None:
    """GitHub's User-Agent and the file's Content-Type go once: the run builds its
    transport with those names replaced, as for a --header of that name."""
    from engine.config import build_config
    from engine.scenario.select import header_names, with_scenario
    from engine.transports.base import replaced

    raw = {"scenario": "github"}
    names = header_names(with_scenario(build_config(raw), set(raw)))
    assert {"User-Agent", "Content-Type", "X-GitHub-Event"} <= set(names)
    assert replaced(names) == {"user-agent", "content-type"}
    assert header_names(build_config({})) == ()
