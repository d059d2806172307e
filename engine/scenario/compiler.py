"""Templates compiled once into Python functions: no per-request walk.

Each state's body (its templates merged) becomes the source of one function,
generated and ``exec``'d when the scenario is compiled:

    def build(v, p, rng):
        eid = _eid()
        return _Event(eid, ((_ch, eid),), (_k1 % (eid, v['order_id'], _stamp(0.0),)).encode())

where ``_k1`` is the body's JSON encoded once, with a slot per drawn value
(``'{"provider_event_id":"%s","order_id":"%s","status":"created",...}'``:
engine/scenario/json_text.py), so a request pays a ``%`` and an ``encode``, not
a dict and ``orjson.dumps`` (bench/ compares it with the hand-written builder):
the state's word and name are constants in the text, each generator is one
call. Everything from the file enters the source through ``repr()`` (text,
keys, numbers) or as a named global (texts, tables, generators), never as code.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Mapping
from typing import Any

from engine.domain.clock import WallClock
from engine.domain.contracts import Event
from engine.scenario.checks import _reach, header_nodes
from engine.scenario.compiled import (
    CompiledApi,
    CompiledFlow,
    CompiledRead,
    CompiledScenario,
    CompiledState,
    CompiledWebhook,
    Vars,
    json_path,
)
from engine.scenario.expect import ACCEPTS, STATUS_CODES, Expect, Table
from engine.scenario.generators import chars, make_generator, poolable
from engine.scenario.json_text import Kinds
from engine.scenario.loader import Scenario
from engine.scenario.model import Accept, Flow, IdGen, State
from engine.scenario.source import Source
from engine.scenario.templates import Const, Gen, Node, Obj, Text, merge, parse_value


def _table(rules: list[int | str]) -> Table:
    codes = {r for r in rules if isinstance(r, int)}
    classes = {int(r[0]) for r in rules if isinstance(r, str)}
    return tuple(s in codes or s // 100 in classes for s in range(STATUS_CODES))


def _webhook(
    name: str, path: str | None, url: str | None, method: str, acc: Accept
) -> CompiledWebhook:
    def rule(rules: list[int | str] | None, expect: Expect) -> Table:
        return ACCEPTS[expect] if rules is None else _table(rules)

    return CompiledWebhook(
        name,
        method,
        url or path or "",
        url is not None,
        rule(acc.first, Expect.FIRST),
        rule(acc.duplicate, Expect.DUPLICATE),
        rule(acc.early, Expect.EARLY),
    )


def compile_scenario(
    scenario: Scenario,
    params: Mapping[str, float] | None = None,
    *,
    clock: WallClock | None = None,
    max_repeats: int | None = None,
) -> CompiledScenario:
    """Compile a checked scenario. ``params`` override the file's ``[params]``
    (``--dispute-ratio``); ``max_repeats`` overrides every flow's (``--max-updates``);
    0 there means no state on a loop is entered at all (ingest's ``updated``: the
    transitions into them are dropped where another is left)."""
    spec = scenario.spec
    clock = clock or WallClock()
    values = {**spec.params, **(params or {})}
    hooks = {n: i for i, n in enumerate(spec.webhooks)}
    webhooks = tuple(
        _webhook(n, w.path, w.url, w.method, w.accept) for n, w in spec.webhooks.items()
    )
    kinds = _kinds(scenario)
    apis = {n: _api(scenario, n, clock) for n in spec.api}
    flow_index = {n: i for i, n in enumerate(spec.flows)}
    flows = tuple(
        _flow(scenario, i, n, f, clock, hooks, apis, flow_index, values, max_repeats, kinds)
        for i, (n, f) in enumerate(spec.flows.items())
    )
    roots = tuple(f.index for f in flows if f.root is not None)
    return CompiledScenario(
        scenario.name,
        scenario,
        webhooks,
        apis,
        flows,
        roots,
        tuple(flows[i].root or 0.0 for i in roots),
        values,
    )


def _event_builder(
    scenario: Scenario,
    flow: str,
    state: str,
    word: str,
    body: Obj,
    clock: WallClock,
    kinds: Kinds,
) -> Callable[[Vars, Vars | None, random.Random], Event]:
    meta = scenario.spec.scenario
    src = Source(clock, flow, state, word, kinds)
    drawn, _ = make_generator(meta.event_id, clock)
    src.env["_eid"] = drawn
    headers = _headers(src, scenario, flow, state)
    code = (
        "def build(v, p, rng):\n"
        "    eid = _eid()\n"
        f"    return _Event(eid, {headers}, {src.body(body)})\n"
    )
    return src.function("build", code)


def _headers(src: Source, scenario: Scenario, flow: str, state: str) -> str:
    """The expression of an event's headers: the constant ones as one shared
    tuple (no work per request when every header is constant, as before), each
    templated one a text expression evaluated with the body (``X-GitHub-Delivery:
    {event_id}``: every delivery of the event carries the same value)."""
    meta = scenario.spec.scenario
    fixed: list[tuple[str, str]] = []
    parts: list[str] = []
    for name, node, _ in header_nodes(scenario.spec, flow, state):
        if isinstance(node, Const):
            fixed.append((name, str(node.value)))
            continue
        if fixed:
            parts.append(src.name(tuple(fixed)))
            fixed = []
        if isinstance(node, Gen):  # drawn once per event, sent as text
            parts.append(f"(({name!r}, _s({src.expr(node)})),)")
            continue
        assert isinstance(node, Text)  # else a text or a constant
        parts.append(f"(({name!r}, {src.text(node)}),)")
    if meta.correlation_header:
        if fixed:
            parts.append(src.name(tuple(fixed)))
            fixed = []
        parts.append(f"(({src.name(meta.correlation_header)}, eid),)")
    if fixed:
        parts.append(src.name(tuple(fixed)))
    return " + ".join(parts) if parts else "()"


def _id_blocks(
    src: Source, items: tuple[tuple[str, Node, Any], ...], lines: list[str]
) -> dict[str, str]:
    """A flow's ``id`` variables of one alphabet drawn as one string when it
    starts (a line added to ``lines``) and cut from it: the code of each."""
    groups: dict[str | None, list[tuple[str, str, int]]] = {}
    for var, node, _ in items:
        spec = node.spec if isinstance(node, Gen) else None
        if isinstance(spec, IdGen) and poolable(spec.alphabet):
            groups.setdefault(spec.alphabet, []).append((var, spec.prefix, spec.length))
    code: dict[str, str] = {}
    for n, (alphabet, ids) in enumerate(g for g in groups.items() if len(g[1]) > 1):
        lines.append(f"    _t{n} = {src.name(chars(sum(i[2] for i in ids), alphabet))}()")
        at = 0
        for var, prefix, length in ids:
            cut = f"_t{n}[{at}:{at + length}]"
            code[var] = f"{prefix!r} + {cut}" if prefix else cut
            at += length
    return code


def _kinds(scenario: Scenario) -> Kinds:
    """What each flow's variables are known to be, for the bodies' slots."""
    spec, parsed = scenario.spec, scenario.parsed
    return Kinds(
        {f: tuple((n, node) for n, node, _ in items) for f, items in parsed.vars.items()},
        frozenset(c for api in spec.api.values() for c in api.capture),
        parsed.parents,
        spec.scenario.event_id,
    )


def _text_builder(src: Source, text: str) -> Callable[[Vars, Vars | None, random.Random], str]:
    node = parse_value(text, ())
    code = f"def text(v, p, rng):\n    eid = ''\n    return {src.expr(node)}\n"
    return src.function("text", code)


def _api(scenario: Scenario, name: str, clock: WallClock) -> CompiledApi:
    api = scenario.spec.api[name]
    src = Source(clock, f"api.{name}")
    src.env["_eid"] = make_generator(scenario.spec.scenario.event_id, clock)[0]
    body = None
    if api.body:
        obj = merge(scenario.parsed.templates, api.body)
        code = f"def body(v, p, rng):\n    eid = _eid()\n    return {src.body(obj)}\n"
        body = src.function("body", code)
    return CompiledApi(
        name,
        api.method,
        _text_builder(src, api.url),
        tuple(api.headers.items()),
        body,
        _table(api.accept),
        tuple((var, json_path(p)) for var, p in api.capture.items()),
    )


def _flow(
    scenario: Scenario,
    index: int,
    name: str,
    flow: Flow,
    clock: WallClock,
    hooks: Mapping[str, int],
    apis: Mapping[str, CompiledApi],
    flow_index: Mapping[str, int],
    params: Mapping[str, float],
    max_repeats: int | None,
    kinds: Kinds,
) -> CompiledFlow:
    order = {s: i for i, s in enumerate(flow.states)}
    bound = flow.max_repeats if max_repeats is None or flow.max_repeats is None else max_repeats
    never: frozenset[str] = frozenset()
    if bound == 0:  # entered once at most off a loop; never on one
        reach = _reach(flow)
        never = frozenset(s for s in flow.states if s in reach[s])
        bound = 1
    states = tuple(
        _state(
            scenario,
            name,
            flow,
            s,
            st,
            i,
            clock,
            hooks,
            apis,
            order,
            flow_index,
            params,
            bound,
            kinds,
        )
        for i, (s, st) in enumerate(flow.states.items())
    )
    if never:
        states = tuple(_without(st, never, order) for st in states)
    src = Source(clock, name)
    lines = ["def start(p, rng):", "    v = {}", "    eid = ''"]
    cut = _id_blocks(src, scenario.parsed.vars[name], lines)
    for var, node, _ in scenario.parsed.vars[name]:
        lines.append(f"    v[{var!r}] = {cut.get(var) or src.expr(node)}")
    lines.append("    return v")
    read = None
    if flow.read is not None:
        r = flow.read
        read = CompiledRead(
            _text_builder(Source(clock, name), r.url),
            json_path(r.status),
            dict(r.expect),
            tuple(json_path(p) for p in r.items),
            tuple(
                (json_path(k), _text_builder(Source(clock, name), v)) for k, v in r.match.items()
            ),
            tuple(r.lists),
        )
    return CompiledFlow(
        name,
        index,
        flow.label or name,
        flow.root,
        states,
        tuple(order[s] for s in flow.initial),
        tuple(flow.initial.values()),
        src.function("start", "\n".join(lines) + "\n"),
        read,
        dict(flow.outcome_labels),
    )


def _state(
    scenario: Scenario,
    flow_name: str,
    flow: Flow,
    name: str,
    st: State,
    index: int,
    clock: WallClock,
    hooks: Mapping[str, int],
    apis: Mapping[str, CompiledApi],
    order: Mapping[str, int],
    flow_index: Mapping[str, int],
    params: Mapping[str, float],
    bound: int | None,
    kinds: Kinds,
) -> CompiledState:
    word = flow.words.get(name, name)
    build = None
    if st.body is not None:
        body = merge(scenario.parsed.templates, st.body)
        build = _event_builder(scenario, flow_name, name, word, body, clock, kinds)
    children = []
    for child in st.children:
        prob = child.probability
        value = params.get(prob.param) if prob.param is not None else None
        children.append(
            (flow_index[child.flow], value if value is not None else prob.default or 0.0)
        )
    return CompiledState(
        name,
        index,
        word,
        st.terminal,
        hooks[st.webhook] if st.webhook is not None else -1,
        apis[st.api] if st.api is not None else None,
        build,
        tuple(order[s] for s in st.next),
        tuple(st.next.values()),
        st.max_repeats if st.max_repeats is not None else bound,
        tuple(children),
    )


def _without(
    state: CompiledState, never: frozenset[str], order: Mapping[str, int]
) -> CompiledState:
    """``state`` without its transitions into ``never`` (``--max-updates 0``),
    unless none would be left."""
    banned = {order[s] for s in never}
    kept = [(n, w) for n, w in zip(state.next, state.weights, strict=True) if n not in banned]
    if not kept or len(kept) == len(state.next):
        return state
    return dataclasses.replace(
        state, next=tuple(n for n, _ in kept), weights=tuple(w for _, w in kept)
    )
