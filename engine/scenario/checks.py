"""What a scenario file must satisfy beyond its types: the whole-file checks.

pydantic has checked each key alone (engine/scenario/model.py); here every
name a file uses must name something it defines (did-you-mean from difflib
when not), every placeholder must have a value where it is used, and every
flow must end: each state reachable from ``initial``, at least one terminal
state, every loop bounded by ``max_repeats``, and a way out of every loop once
its bound is reached. The first problem found is raised as a
:class:`~engine.scenario.problem.Problem` with its key path.

The parsed templates and variables are returned, so the compiler does not
parse them again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from engine.scenario.model import ChoiceGen, Flow, ScenarioFile
from engine.scenario.placeholders import Slot
from engine.scenario.problem import Path, Problem, unknown
from engine.scenario.templates import Const, Gen, Node, Obj, Text, parse_value, walk_slots

Vars = tuple[tuple[str, Node, Path], ...]
COUNTERS = ("started", "aborted", "unfinished")
"""A flow's counters besides its terminal states (INTERFACES §3), which
``outcome_labels`` may rename too."""


@dataclass(frozen=True, slots=True)
class Parsed:
    """The file's templates and each flow's variables, parsed into nodes."""

    templates: Mapping[str, Obj]
    vars: Mapping[str, Vars]
    parents: Mapping[str, tuple[str, ...]]  # flow -> the flows that start it as a child


def _known(kind: str, word: str, options: Iterable[str], path: Path) -> None:
    options = list(options)
    if word not in options:
        raise Problem(path, unknown(kind, word, options))


def check(spec: ScenarioFile) -> Parsed:
    """Every whole-file rule, in file order; the first broken one is raised."""
    templates = {
        name: _as_obj(parse_value(body, ("templates", name)), ("templates", name))
        for name, body in spec.templates.items()
    }
    for name, api in spec.api.items():
        for body in api.body or ():
            _known("template", body, templates, ("api", name, "body"))
    _check_aliases(spec)
    parents = _flow_tree(spec)
    flow_vars: dict[str, Vars] = {}
    for fname, flow in spec.flows.items():
        base: Path = ("flows", fname)
        flow_vars[fname] = tuple(
            (k, parse_value(v, (*base, "vars", k)), (*base, "vars", k))
            for k, v in flow.vars.items()
        )
        _check_names(spec, fname, flow, templates)
        _check_graph(fname, flow)
    for fname, flow in spec.flows.items():
        _check_slots(spec, fname, flow, templates, flow_vars, parents)
    return Parsed(templates, flow_vars, parents)


def _as_obj(node: Node, path: Path) -> Obj:
    if not isinstance(node, Obj):  # pydantic made it a table: one with a gen key
        raise Problem(path, "a template is a JSON object, not a generator")
    return node


def _check_names(spec: ScenarioFile, fname: str, flow: Flow, templates: Mapping[str, Obj]) -> None:
    """Names of states, webhooks, API steps, templates, flows and params."""
    base: Path = ("flows", fname)
    states = list(flow.states)
    for s in flow.initial:
        _known("state", s, states, (*base, "initial"))
    for s in flow.words:
        _known("state", s, states, (*base, "words", s))
    for sname, st in flow.states.items():
        sp: Path = (*base, "states", sname)
        if st.webhook is not None:
            _known("webhook", st.webhook, spec.webhooks, (*sp, "webhook"))
        if st.api is not None:
            _known("API step", st.api, spec.api, (*sp, "api"))
        for body in st.body or ():
            _known("template", body, templates, (*sp, "body"))
        for nxt in st.next:
            _known("state", nxt, states, (*sp, "next"))
        if sum(st.next.values()) <= 0 < len(st.next):
            raise Problem((*sp, "next"), "the transitions' weights add up to 0")
        for i, child in enumerate(st.children):
            cp: Path = (*sp, "children", i)
            _known("flow", child.flow, spec.flows, (*cp, "flow"))
            param = child.probability.param
            if param is not None and param not in spec.params and child.probability.default is None:
                raise Problem((*cp, "probability", "param"), unknown("param", param, spec.params))
    terminals = [s for s, st in flow.states.items() if st.terminal]
    for s in flow.outcome_labels:
        # a non-terminal state named here has its accepted events counted (visited)
        _known("outcome", s, [*flow.states, *COUNTERS], (*base, "outcome_labels", s))
    if flow.read is not None:
        for s in flow.read.expect:
            _known("terminal state", s, terminals, (*base, "read", "expect", s))


def _check_aliases(spec: ScenarioFile) -> None:
    """A webhook's other names must not be another endpoint's name or alias."""
    taken = {*spec.webhooks, *spec.api, "reads"}
    for name, hook in spec.webhooks.items():
        for alias in hook.aliases:
            if alias in taken:
                raise Problem(("webhooks", name, "aliases"), f"{alias!r} already names an endpoint")
            taken.add(alias)


def _reach(flow: Flow) -> dict[str, set[str]]:
    """Each state's set of states reachable in one step or more."""
    reach: dict[str, set[str]] = {}
    for start in flow.states:
        seen: set[str] = set()
        todo = list(flow.states[start].next)
        while todo:
            s = todo.pop()
            if s not in seen:
                seen.add(s)
                todo.extend(flow.states[s].next)
        reach[start] = seen
    return reach


def _check_graph(fname: str, flow: Flow) -> None:
    """Reachable, terminating, bounded: every run of the flow ends."""
    base: Path = ("flows", fname)
    reach = _reach(flow)
    if not any(st.terminal for st in flow.states.values()):
        raise Problem((*base, "states"), "no terminal state (a state without next)")
    reachable = set(flow.initial).union(*(reach[s] for s in flow.initial))
    for sname in flow.states:
        if sname not in reachable:
            start = " or ".join(repr(s) for s in flow.initial)
            raise Problem((*base, "states", sname), f"state {sname!r} is unreachable from {start}")
    for sname, st in flow.states.items():
        if st.terminal:
            continue
        sp: Path = (*base, "states", sname, "next")
        looped = sname in reach[sname]
        if looped and st.max_repeats is None and flow.max_repeats is None:
            raise Problem(
                sp,
                f"state {sname!r} loops back to itself with no bound "
                f"(set flows.{fname}.max_repeats or the state's max_repeats)",
            )
        if not any(t != sname and sname not in reach[t] for t in st.next):
            raise Problem(
                sp,
                f"state {sname!r} has no way to a terminal state that does not loop back "
                "(once its loop's bound is reached it would be stuck)",
            )


def _flow_tree(spec: ScenarioFile) -> dict[str, tuple[str, ...]]:
    """Which flows start which: at least one root, every flow started, no
    flow its own ancestor."""
    parents: dict[str, list[str]] = {f: [] for f in spec.flows}
    for fname, flow in spec.flows.items():
        for st in flow.states.values():
            for child in st.children:
                if child.flow in parents and fname not in parents[child.flow]:
                    parents[child.flow].append(fname)
    if not any(flow.root is not None for flow in spec.flows.values()):
        first = next(iter(spec.flows))
        raise Problem(("flows", first), "no flow has a root weight: set root = 1.0 on one")
    for fname, flow in spec.flows.items():
        if flow.root is None and not parents[fname]:
            raise Problem(
                ("flows", fname), f"flow {fname!r} is never started (no root, no state's child)"
            )
    for fname in spec.flows:
        seen: set[str] = set()
        todo = list(parents[fname])
        while todo:
            p = todo.pop()
            if p == fname:
                raise Problem(("flows", fname), f"flow {fname!r} starts itself as a child")
            if p not in seen:
                seen.add(p)
                todo.extend(parents[p])
    return {f: tuple(p) for f, p in parents.items()}


def _check_slots(
    spec: ScenarioFile,
    fname: str,
    flow: Flow,
    templates: Mapping[str, Obj],
    flow_vars: Mapping[str, Vars],
    parents: Mapping[str, tuple[str, ...]],
) -> None:
    """Every placeholder used by this flow has a value when it is used."""
    base: Path = ("flows", fname)
    mine = [k for k, _, _ in flow_vars[fname]]
    captured = [c for st in flow.states.values() if st.api for c in spec.api[st.api].capture]
    known = mine + captured

    def names_of(flow_name: str) -> list[str]:
        f = spec.flows[flow_name]
        caps = [c for st in f.states.values() if st.api for c in spec.api[st.api].capture]
        return [k for k, _, _ in flow_vars[flow_name]] + caps

    def ok(slot: Slot, path: Path, have: list[str], where: str = "") -> None:
        if where and slot.kind in ("event_id", "word", "state"):
            raise Problem(path, f"{slot} has no value in {where}")
        if slot.kind == "vars" and slot.name not in have:
            raise Problem(path, unknown("variable", slot.name, have, f"in flow {fname!r}"))
        if slot.kind == "vars" and slot.keys:
            _check_keys(slot, path, flow_vars[fname])
        if slot.kind == "parent":
            if not parents[fname]:
                raise Problem(path, f"{slot} in flow {fname!r}, which no flow starts as a child")
            for p in parents[fname]:
                if slot.name not in (theirs := names_of(p)):
                    raise Problem(
                        path, unknown("variable", slot.name, theirs, f"in parent flow {p!r}")
                    )
                if slot.keys:
                    _check_keys(slot, path, flow_vars[p])

    for i, (_, node, path) in enumerate(flow_vars[fname]):
        for slot, at in walk_slots(node, path):
            ok(slot, at, mine[:i], "a flow's vars (drawn when the flow starts)")
    uses: list[tuple[Node, Path, str]] = []
    for sname, st in flow.states.items():
        uses += [(templates[b], ("templates", b), "") for b in st.body or ()]
        if st.webhook is not None:  # header values are text templates, as bodies are
            uses += [(n, p, "") for _, n, p in header_nodes(spec, fname, sname)]
        if st.api is not None:
            api = spec.api[st.api]
            up: Path = ("api", st.api, "url")
            uses.append((parse_value(api.url, up), up, "an API step's url"))
            uses += [(templates[b], ("templates", b), "an API step's body") for b in api.body or ()]
    if flow.read is not None:
        rp: Path = (*base, "read")
        uses.append((parse_value(flow.read.url, (*rp, "url")), (*rp, "url"), "a read-back"))
        for k, v in flow.read.match.items():
            uses.append((parse_value(v, (*rp, "match", k)), (*rp, "match", k), "a read-back"))
    for node, path, where in uses:
        for slot, at in walk_slots(node, path):
            ok(slot, at, known, where)


def header_nodes(spec: ScenarioFile, fname: str, sname: str) -> list[tuple[str, Node, Path]]:
    """A webhook state's headers, values parsed: its webhook's ``headers``, then
    the state's own; a state's header replaces the webhook's of the same name
    (names compared without case, as HTTP does) in its place."""
    st = spec.flows[fname].states[sname]
    hook: Path = ("webhooks", st.webhook or "")
    own: Path = ("flows", fname, "states", sname)
    out: dict[str, tuple[str, Node, Path]] = {}
    for headers, path in ((spec.webhooks[st.webhook or ""].headers, hook), (st.headers, own)):
        for name, value in headers.items():
            at: Path = (*path, "headers", name)
            node = parse_value(value, at)  # a table: its generator, checked
            if not isinstance(node, Text | Gen) and not (
                isinstance(node, Const) and isinstance(node.value, str)
            ):
                raise Problem(at, "a header's value is text or a generator ({ gen = ... })")
            out[name.lower()] = (name, node, at)
    return list(out.values())


def _check_keys(slot: Slot, path: Path, variables: Vars) -> None:
    """``{vars.plan.refund}``: ``plan`` is a table (or a choice of tables) with
    ``refund`` in every value, so the lookup cannot fail during a run."""
    node = next((n for k, n, _ in variables if k == slot.name), None)
    if isinstance(node, Gen) and isinstance(node.spec, ChoiceGen):
        values: list[object] = list(node.spec.values)
    elif isinstance(node, Const):
        values = [node.value]
    elif isinstance(node, Obj):
        values = [{k: None for k, _, _ in node.items}] if len(slot.keys) == 1 else []
    else:
        values = []
    if not values:
        raise Problem(path, f"{slot}: only a table or a choice of tables has keys")
    for value in values:
        for depth, key in enumerate(slot.keys):
            if not isinstance(value, dict) or key not in value:
                at = ".".join((slot.name, *slot.keys[:depth]))
                raise Problem(path, f"{slot}: {at} has no key {key!r} in every value it can take")
            value = value[key]
