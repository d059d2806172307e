"""How the reference target reads a scenario file (engine/scenario/receiver.py):
where each event's id, flow run and state sit, derived from the compiled
templates; each refusal names what is missing; and ``webhookload-target
--scenario`` picks the hand-written service or the file's (no sockets)."""

from __future__ import annotations

import pytest

from engine.config import ConfigError, build_config
from engine.scenario.compiler import compile_scenario
from engine.scenario.loader import load_scenario, parse_scenario
from engine.scenario.receiver import Locator, Receiver, Unreceivable, receiver_for
from engine.scenario.select import with_scenario
from target.__main__ import parse_args

BASE = """
[webhooks.hook]
path = "/hook"

[flows.order]
root = 1
initial = "created"
vars = { order_id = { gen = "id", prefix = "ord_" }, n = { gen = "int", min = 1, max = 9 } }

[flows.order.states.created]
webhook = "hook"
body = "event"
next = { done = 1 }

[flows.order.states.done]
webhook = "hook"
body = "event"

[templates.event]
"""


def _receiver(templates: str, origin: str = "t.toml") -> Receiver:
    return receiver_for(compile_scenario(parse_scenario(BASE + templates, origin)))


def test_stripe_is_read_by_its_type_text_and_a_word_stands_for_its_states() -> None:
    r = receiver_for(compile_scenario(load_scenario("stripe")))
    assert r.identity == ("vars.id", "vars.id")
    readers = r.readers[0]
    closed = [x for x in readers if x.says[0][1] == "closed"]
    assert [r.scenario.flows[1].states[x.state].name for x in closed] == ["won", "lost", "accepted"]
    (at, _), *others = closed[0].says
    assert at == Locator(("type",), "charge.dispute.") and others == []
    assert closed[0].event_id == Locator(("id",))
    assert closed[0].parent is not None and closed[0].parent.key == "parent.id"
    assert at.read({"type": "charge.dispute.closed"}) == "closed"
    assert closed[0].announced({"type": "charge.dispute.closed"}, {})
    assert at.read({"type": "payment_intent.created"}) is None
    assert at.read({"type": 5}) is None and at.read([]) is None


def test_a_child_with_no_id_of_its_own_is_known_by_its_parents() -> None:
    r = receiver_for(compile_scenario(load_scenario("ingest")))
    assert r.identity == ("vars.order_id", "parent.order_id")
    resolution = next(x for x in r.readers[1] if x.says[0][1] == "won")
    assert resolution.says == ((Locator(("meta", "resolution")), "won"),)  # {state} over {word}


def test_an_api_step_that_starts_a_flow_names_its_runs_by_what_the_target_issues() -> None:
    payments = load_scenario("payments")
    text = payments.text.replace('event_id = { gen = "uuid" }', 'correlation_header = "X-Id"')
    r = receiver_for(compile_scenario(parse_scenario(text, "p.toml")))
    assert r.identity == ("vars.provider_tx_id", "parent.provider_tx_id")
    assert r.event_header == "X-Id"
    assert {a.name for a in r.apis} == {"create_payment", "create_held_payment"}


def test_the_readers_tell_ids_run_and_state_by_path() -> None:
    r = _receiver('id = "evt-{event_id}"\nstate = "order.{word}"\no = { id = "{vars.order_id}" }\n')
    (created, done) = r.readers[0]
    assert created.event_id == Locator(("id",), "evt-")
    (run,) = created.run
    assert run.at == Locator(("o", "id"))
    assert done.says == ((Locator(("state",), "order."), "done"),)


@pytest.mark.parametrize(
    ("templates", "message"),
    [
        (
            'state = "{word}"\nid = "{vars.order_id}"\n',
            "t.toml:12: flows.order.states.created.body: no {event_id} in the body",
        ),
        (
            'eid = "{event_id}"\nid = "{vars.order_id}"\n',
            "t.toml:12: flows.order.states.created.body: no {state} or {word} in the body",
        ),
        (
            'eid = "{event_id}"\nstate = "{word}"\nn = "{vars.n}"\n',
            "t.toml:5: flows.order: the reference target cannot tell this flow's runs apart",
        ),
        (  # an id only inside a text is not alone
            'eid = "{event_id}"\nstate = "{word}"\nref = "x-{vars.order_id}-y"\n',
            "flows.order: the reference target cannot tell",
        ),
    ],
)
def test_what_the_target_cannot_tell_is_one_line_naming_it(templates: str, message: str) -> None:
    with pytest.raises(Unreceivable) as info:
        _receiver(templates)
    assert message in str(info.value) and "\n" not in str(info.value)
    assert info.value.exit_code == 2


def test_payments_has_no_event_id_so_the_hand_written_service_receives_it() -> None:
    with pytest.raises(Unreceivable, match=r"no \{event_id\} in the body"):
        receiver_for(compile_scenario(load_scenario("payments")))
    config = parse_args(["--scenario", "payments", "--profile", "public"])
    assert (config.scenario, config.contract, config.profile) == ("", "ingest", "public")
    assert parse_args(["--scenario", "plan"]).contract == "plan"
    assert parse_args(["--scenario", "stripe"]).scenario == "stripe"


@pytest.mark.parametrize(
    "flags", [["--profile", "public"], ["--mode", "queue"], ["--contract", "plan"]]
)
def test_a_scenario_file_is_received_sync_and_strict(
    flags: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        parse_args(["--scenario", "stripe", *flags])
    assert done.value.code == 2
    assert f"{flags[0]} {flags[1]}: a scenario file is received sync and strict" in (
        capsys.readouterr().err
    )


def test_the_builtin_target_takes_stripe_sync_only() -> None:
    raw = {"target": "builtin", "scenario": "stripe"}
    assert with_scenario(build_config(raw), set(raw)).scenario == "stripe"
    raw["target_mode"] = "queue"
    with pytest.raises(ConfigError, match="--target-mode must be sync with this scenario"):
        with_scenario(build_config(raw), set(raw))


def test_github_is_told_by_its_headers_and_keyed_by_several_variables() -> None:
    r = receiver_for(compile_scenario(load_scenario("github")))
    # push: its head sha alone; a PR: its head sha; an issue: id and node_id together
    # (node_id's 62^8 values are under 2^48 alone)
    assert r.identity == ("vars.before", "vars.head", "vars.id+vars.node_id")
    push = next(x for x in r.readers[0] if x.flow == 0)
    assert push.event_id == Locator((), header="X-GitHub-Delivery")
    assert push.says == ((Locator((), header="X-GitHub-Event"), "push"),)  # {flow} alone
    opened = [x for x in r.readers[0] if x.state == 0 and x.flow in (1, 2)]
    assert [x.says[1][0].header for x in opened] == ["X-GitHub-Event"] * 2
    pr = {"action": "opened"}
    assert [x.announced(pr, {"X-GitHub-Event": "issues"}) for x in opened] == [False, True]
    assert [len(x.run) for x in opened] == [1, 2]


def test_shopify_reads_its_topic_and_id_headers_and_keys_refunds_by_two_ints() -> None:
    r = receiver_for(compile_scenario(load_scenario("shopify")))
    assert r.identity == ("vars.token", "vars.id+vars.transaction")
    first = r.readers[0][0]
    assert first.event_id == Locator((), header="X-Shopify-Event-Id")
    assert first.says == ((Locator((), header="X-Shopify-Topic"), "orders/create"),)


def test_standard_is_received_signed_only() -> None:
    r = receiver_for(compile_scenario(load_scenario("standard")))
    assert r.needs_sign == "standard" and r.readers[0][0].event_id == Locator(
        (), header="webhook-id"
    )
    raw = {"target": "builtin", "scenario": "standard"}
    with pytest.raises(ConfigError, match="--sign must be standard with --target builtin"):
        with_scenario(build_config(raw), set(raw))


def test_a_key_of_several_counts_each_generator_once() -> None:
    """``ts`` is made of ``micro``: together they are still 10^6 values, refused;
    two ints drawn apart multiply (10^7 x 10^8 = 2^53), received as one key."""
    small = (
        'micro = { gen = "id", length = 6, alphabet = "0123456789" }, ts = "{unix}.{vars.micro}"'
    )
    body = 'eid = "{event_id}"\nstate = "{word}"\nm = "{vars.micro}"\nts = "{vars.ts}"\n'
    text = BASE.replace('order_id = { gen = "id", prefix = "ord_" }', small) + body
    with pytest.raises(Unreceivable, match=r"take 2\^20 values together"):
        receiver_for(compile_scenario(parse_scenario(text, "t.toml")))
    ints = 'a = { gen = "int", min = 1, max = 10000000 }, '
    ints += 'b = { gen = "int", min = 1, max = 100000000 }'
    body = 'eid = "{event_id}"\nstate = "{word}"\na = "{vars.a}"\nb = "{vars.b}"\n'
    text = BASE.replace('order_id = { gen = "id", prefix = "ord_" }', ints) + body
    r = receiver_for(compile_scenario(parse_scenario(text, "t.toml")))
    assert r.identity == ("vars.a+vars.b",)
