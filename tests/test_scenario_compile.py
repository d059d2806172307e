"""The compiled form of a scenario file: generators, placeholders, headers,
accept tables, overrides, and walking by weight within ``max_repeats``."""

from __future__ import annotations

import random
import re
from collections import Counter

import orjson
import pytest

from engine.domain.clock import WallClock, rfc3339
from engine.scenario.compiled import CompiledScenario, pick
from engine.scenario.compiler import compile_scenario
from engine.scenario.expect import ACCEPTS, Expect
from engine.scenario.generators import ID_ALPHABET, _id, make_generator
from engine.scenario.loader import parse_scenario
from engine.scenario.model import IdGen
from engine.scenario.sample import sample_journey

NOW = 1_800_000_000.25
FILE = """\
[scenario]
event_id = { gen = "id", prefix = "evt_", length = 12 }
correlation_header = "X-Event"

[params]
refund_ratio = 0.25

[webhooks.hook]
path = "/h"
headers = { "Content-Type" = "application/json", "X-Tenant" = "t1" }
accept = { first = ["2xx", 409], early = [404] }

[webhooks.other]
url = "http://127.0.0.1:9/other"

[flows.pay]
root = 1
initial = "made"
max_repeats = 2
vars = { amount = { gen = "int", min = 5, max = 7 }, live = false, ref = "pay-{vars.amount}" }

[flows.pay.states.made]
webhook = "hook"
body = "ev"
next = { retried = 1, done = 1 }

[flows.pay.states.retried]
webhook = "hook"
body = "ev"
next = { retried = 3, done = 1 }

[flows.pay.states.done]
webhook = "other"
body = ["ev", "extra"]
children = [{ flow = "refund", probability = { param = "refund_ratio" } }]

[flows.refund]
initial = "asked"
vars = { of = "{parent.ref}" }
words = { asked = "refund.requested" }

[flows.refund.states.asked]
webhook = "hook"
body = "rf"

[templates.ev]
id = "{event_id}"
kind = "{flow}.{word}"
amount = "{vars.amount}"
live = "{vars.live}"
text = "live={vars.live} {{literal}}"
at = "{unix-1h}"
due = "{now+1d}"
fee = { gen = "decimal", min = 1, max = 2, places = 3 }
tier = { gen = "choice", values = ["gold", "silver"], weights = [0, 1] }
meta = { fixed = [1, 2, { deep = true }] }

[templates.extra]
kind = "replaced in place"
tail = "{state}"

[templates.rf]
of = "{vars.of}"
parent_amount = "{parent.amount}"
status = "{word}"
"""


def _compiled(**kw: object) -> CompiledScenario:
    scenario = parse_scenario(FILE, "t.toml", default_name="t")
    return compile_scenario(scenario, clock=WallClock(now=lambda: NOW), **kw)  # type: ignore[arg-type]


def test_a_body_has_every_kind_of_value() -> None:
    c = _compiled()
    pay = c.flow("pay")
    v = pay.start(None, random.Random(3))
    assert v["amount"] in (5, 6, 7) and v["live"] is False and v["ref"] == f"pay-{v['amount']}"
    build = pay.state("made").build
    assert build is not None
    event = build(v, None, random.Random(3))
    assert re.fullmatch(r"evt_[0-9A-Za-z]{12}", event.event_id)
    body = orjson.loads(event.body)
    assert list(body) == [
        "id", "kind", "amount", "live", "text", "at", "due", "fee", "tier", "meta"
    ]  # fmt: skip
    assert body["id"] == event.event_id
    assert body["kind"] == "pay.made"
    assert body["amount"] == v["amount"]  # a lone placeholder keeps the type
    assert body["live"] is False
    assert body["text"] == "live=false {literal}"
    assert body["at"] == int(NOW) - 3600
    assert body["due"] == rfc3339(NOW + 86_400)
    assert 1 <= body["fee"] <= 2 and round(body["fee"], 3) == body["fee"]
    assert body["tier"] == "silver"  # weight 0 is never drawn
    assert body["meta"] == {"fixed": [1, 2, {"deep": True}]}


def test_headers_are_the_webhooks_then_the_correlation_header() -> None:
    pay = _compiled().flow("pay")
    build = pay.state("made").build
    assert build is not None
    event = build(pay.start(None, random.Random(1)), None, random.Random(1))
    assert event.headers == (
        ("Content-Type", "application/json"),
        ("X-Tenant", "t1"),
        ("X-Event", event.event_id),
    )


def test_merged_templates_replace_in_place_and_append() -> None:
    pay = _compiled().flow("pay")
    build = pay.state("done").build
    assert build is not None
    body = orjson.loads(build(pay.start(None, random.Random(1)), None, random.Random(1)).body)
    assert list(body)[1] == "kind" and body["kind"] == "replaced in place"
    assert list(body)[-1] == "tail" and body["tail"] == "done"


def test_child_flows_see_their_parents_vars_and_words() -> None:
    c = _compiled()
    parent = c.flow("pay").start(None, random.Random(2))
    refund = c.flow("refund")
    v = refund.start(parent, random.Random(2))
    assert v == {"of": parent["ref"]}
    build = refund.state("asked").build
    assert build is not None
    body = orjson.loads(build(v, parent, random.Random(2)).body)
    assert body == {
        "of": parent["ref"],
        "parent_amount": parent["amount"],
        "status": "refund.requested",
    }


def test_seeded_values_repeat_ids_do_not() -> None:
    pay = _compiled().flow("pay")
    build = pay.state("made").build
    assert build is not None
    a = orjson.loads(build({"amount": 1, "live": True}, None, random.Random(9)).body)
    b = orjson.loads(build({"amount": 1, "live": True}, None, random.Random(9)).body)
    assert a["fee"] == b["fee"]
    assert a["id"] != b["id"]


def test_accept_tables() -> None:
    c = _compiled()
    hook, other = c.webhooks
    assert [s for s in range(1000) if hook.first[s]] == [*range(200, 300), 409]
    assert [s for s in range(1000) if hook.early[s]] == [404]
    assert hook.duplicate == ACCEPTS[Expect.DUPLICATE]  # not given: today's rule
    assert other.first == ACCEPTS[Expect.FIRST] and other.absolute and other.url.endswith("/other")


def test_params_and_max_repeats_can_be_overridden() -> None:
    c = _compiled()
    assert c.flow("pay").state("done").children == ((1, 0.25),)
    assert c.flow("pay").state("retried").max_repeats == 2
    c = _compiled(params={"refund_ratio": 0.5}, max_repeats=4)
    assert c.flow("pay").state("done").children == ((1, 0.5),)
    assert c.flow("pay").state("retried").max_repeats == 4


def test_walks_stay_within_max_repeats_and_follow_weights() -> None:
    c = _compiled()
    longest = Counter[int]()
    for seed in range(300):
        states = [r.state for r in sample_journey(c, random.Random(seed)) if r.flow == "pay"]
        assert states[0] == "made" and states[-1] == "done"
        longest[states.count("retried")] += 1
    assert set(longest) == {0, 1, 2}  # never a third retry
    assert longest[0] > 100  # made -> done half the time


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_pick_with_equal_weights_draws_as_the_journeys_do(n: int) -> None:
    """The hand-written walker drew ``options[int(rng.random() * len)]``."""
    items = tuple(range(10, 10 + n))
    a, b = random.Random(4), random.Random(4)
    for _ in range(200):
        assert pick(a, items, (1.0,) * n) == items[int(b.random() * n)]


def test_ingest_shape_is_todays() -> None:
    """engine/domain/shape.py's INGEST_SHAPE / PLAN_SHAPE (the names helper's;
    INTERFACES §1 with its CHANGED lines): the built-in files must compile to
    them, so every output of an ingest run keeps its names."""
    from engine.domain.shape import INGEST_SHAPE, PLAN_SHAPE
    from engine.scenario.loader import load_scenario

    for name, shape in (("ingest", INGEST_SHAPE), ("plan", PLAN_SHAPE)):
        compiled = compile_scenario(load_scenario(name))
        assert compiled.shape_json() == shape.as_json()
        assert compiled.shape == shape


ENVELOPE = """\
[scenario]
event_id = { gen = "id", prefix = "evt_", length = 24 }

[webhooks.events]
path = "/stripe"

[flows.payment_intent]
root = 1
initial = "created"
words = { created = "payment_intent.created", succeeded = "payment_intent.succeeded" }

[flows.payment_intent.vars]
pi = { gen = "id", prefix = "pi_", length = 24 }
amount = { gen = "int", min = 50, max = 99999 }
currency = { gen = "choice", values = ["usd", "eur"] }

[flows.payment_intent.states.created]
webhook = "events"
body = ["event", "requires_method"]
next = { succeeded = 1 }

[flows.payment_intent.states.succeeded]
webhook = "events"
body = ["event", "succeeded"]

[templates.event]
id = "{event_id}"
object = "event"
created = "{unix}"
type = "{word}"
livemode = false

[templates.event.data.object]
id = "{vars.pi}"
object = "payment_intent"
amount = "{vars.amount}"
currency = "{vars.currency}"
status = ""

[templates.requires_method]
data = { object = { status = "requires_payment_method" } }

[templates.succeeded.data]
object = { status = "succeeded", amount_received = "{vars.amount}" }
previous_attributes = { status = "processing" }
"""


def test_templates_merge_deep_into_an_envelope() -> None:
    """A later template sets fields inside the earlier one's tables, in place."""
    scenario = parse_scenario(ENVELOPE, "stripe.toml")
    flow = compile_scenario(scenario, clock=WallClock(now=lambda: NOW)).flow("payment_intent")
    v = flow.start(None, random.Random(5))
    bodies = []
    for state in ("created", "succeeded"):
        build = flow.state(state).build
        assert build is not None
        bodies.append(orjson.loads(build(v, None, random.Random(5)).body))
    created, succeeded = bodies
    assert list(created) == ["id", "object", "created", "type", "livemode", "data"]
    assert created["type"] == "payment_intent.created" and created["created"] == int(NOW)
    assert created["data"] == {
        "object": {
            "id": v["pi"],
            "object": "payment_intent",
            "amount": v["amount"],
            "currency": v["currency"],
            "status": "requires_payment_method",
        }
    }
    assert list(succeeded["data"]) == ["object", "previous_attributes"]
    assert succeeded["data"]["object"]["status"] == "succeeded"
    assert list(succeeded["data"]["object"])[-1] == "amount_received"
    assert succeeded["data"]["previous_attributes"] == {"status": "processing"}
    assert re.fullmatch(r"pi_[0-9A-Za-z]{24}", str(v["pi"]))


def test_id_characters_are_uniform_over_the_alphabet() -> None:
    """``gen = "id"`` maps random bytes to characters (dropping the 8 bytes of 256
    that would favour the alphabet's first characters): every id has its length,
    and over 20,000 ids each of the 62 characters comes about equally often."""
    for length in (1, 3, 24, 128):
        draw = _id("x_", length, ID_ALPHABET)
        assert all(
            len(s) == 2 + length and s.startswith("x_") for s in (str(draw()) for _ in range(500))
        )
    draw = _id("", 31, ID_ALPHABET)
    seen = Counter("".join(str(draw()) for _ in range(20_000)))
    assert set(seen) == set(ID_ALPHABET)
    expected = 20_000 * 31 / 62  # 10,000 each; a bias of 5/4 (no drop) would be 12,500
    assert all(abs(n - expected) < 600 for n in seen.values()), seen.most_common(3)
    for alphabet in ("ab", "0123456789abcdefghjkmnpqrstvwxyz", "x" * 129 + "y", "äö"):
        got = {str(_id("", 8, alphabet)()) for _ in range(50)}
        assert all(len(i) == 8 and set(i) <= set(alphabet) for i in got), got


def test_an_id_generator_draws_from_its_alphabet() -> None:
    """Paddle's ids are lower case (txn_01hv8wptq8987qeep44cyrewp9): ``alphabet``."""
    draw, _ = make_generator(
        IdGen(gen="id", prefix="txn_01", length=24, alphabet="0123456789abcdefghjkmnpqrstvwxyz"),
        WallClock(),
    )
    assert draw is not None
    ids = {str(draw()) for _ in range(50)}
    assert all(re.fullmatch(r"txn_01[0-9a-hjkmnp-tv-z]{24}", i) for i in ids) and len(ids) == 50
    default, _ = make_generator(IdGen(gen="id", length=100), WallClock())
    assert default is not None and re.search(r"[A-Z]", "".join(str(default()) for _ in range(9)))
