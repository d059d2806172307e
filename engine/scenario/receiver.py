"""A scenario read from the receiving side: how to recognise each event.

The reference target (``webhookload-target --scenario NAME|PATH``, and
``--target builtin`` with such a file) receives any scenario file by reading
it the way the load tester writes it: from the compiled templates, where
each event carries

- its **event id**: the JSON path where ``{event_id}`` sits (alone, or inside
  a text such as ``"evt-{event_id}"``), else the header whose template holds
  it (GitHub's ``X-GitHub-Delivery``), else the file's ``correlation_header``,
  else the id header of the file's ``sign`` scheme (``standard``'s
  ``webhook-id``: only a request signed so carries it);
- its **flow run**: the paths of variables fixed for one run of its flow,
  present in every event of the flow: ``{vars.X}`` where ``X`` is drawn by an
  ``id``/``uuid``/``int`` generator (or is a text of such), or is an id an API
  step captured (the target issues it); one with at least :data:`BOUND`
  values, else the fewest whose values multiply to that (a key of several);
  a child flow with none is known by its parent's (``{parent.X}``, one run of
  it per parent run);
- its **state**: the path of ``{state}``, else of ``{word}`` (the body, then
  the headers), possibly inside a text (``"payment_intent.{word}"``); a word
  several states share stands for all of them, and the run's current state is
  then that set; ``{flow}`` (GitHub's ``X-GitHub-Event``) is checked too, and
  alone tells a flow's only webhook state.

A file that gives no such path cannot be received (:class:`Unreceivable`:
one line naming what is missing, exit 2). Nothing here is HTTP: target/
serves it (target/scenario_app.py), and engine/scenario/select.py refuses
``--target builtin`` with a file the target could not read, before any load.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping

from engine.domain.schemes import builtin
from engine.scenario.checks import header_nodes
from engine.scenario.compiled import CompiledScenario, json_path
from engine.scenario.generators import ID_ALPHABET
from engine.scenario.lines import line_of
from engine.scenario.model import IdGen, IntGen, UuidGen
from engine.scenario.placeholders import Slot
from engine.scenario.problem import Path, dotted
from engine.scenario.reading import (
    ApiReader,
    Keys,
    Locator,
    Reader,
    ReadRoute,
    Receiver,
    Unreceivable,
    VarAt,
)
from engine.scenario.templates import Arr, Const, Gen, Node, Obj, Text, merge, parse_value

__all__ = ["ApiReader", "Locator", "ReadRoute", "Reader", "Receiver", "Unreceivable", "VarAt"]


def _texts(node: Node, keys: Keys) -> Iterator[tuple[Keys, Text]]:
    """Every text of a body with its JSON path."""
    if isinstance(node, Text):
        yield keys, node
    elif isinstance(node, Obj):
        for k, v, _ in node.items:
            yield from _texts(v, (*keys, k))
    elif isinstance(node, Arr):
        for i, (v, _) in enumerate(node.items):
            yield from _texts(v, (*keys, i))


def _one_slot(text: Text) -> tuple[Slot, str, str] | None:
    """The text's only placeholder with the literal text around it, or None."""
    parts = text.parts
    slots = [p for p in parts if isinstance(p, Slot)]
    if len(slots) != 1:
        return None
    i = parts.index(slots[0])
    before = "".join(p for p in parts[:i] if isinstance(p, str))
    after = "".join(p for p in parts[i + 1 :] if isinstance(p, str))
    return slots[0], before, after


def _find(body: Obj, kinds: tuple[str, ...]) -> Locator | None:
    for keys, text in _texts(body, ()):
        found = _one_slot(text)
        if found is not None and found[0].kind in kinds and not found[0].keys:
            return Locator(keys, found[1], found[2])
    return None


def _lone_vars(body: Obj) -> dict[str, Locator]:
    """``{"vars.order_id": Locator(("order_id",))}``: each variable placed alone."""
    out: dict[str, Locator] = {}
    for keys, text in _texts(body, ()):
        slot = text.lone
        if slot is not None and slot.kind in ("vars", "parent") and not slot.keys:
            out.setdefault(f"{slot.kind}.{slot.name}", Locator(keys))
    return out


BOUND = 2.0**48
"""Values a flow run's key takes, at least: n runs of a flow share a key with
probability at most n^2 / 2^49 (10^6 runs: 0.2 %), and a shared key would be
an invalid transition the sender never made."""
ISSUED = 16.0**20
"""The values of an id the target issues (``order_id_<20 hex>``)."""


Space = tuple[float, frozenset[str]]
"""How many values a variable takes, and the generators it is drawn from."""


def _space(name: str, nodes: Mapping[str, Node], depth: int = 0) -> Space | None:
    """How many values a variable's generator draws; a text of several, their
    product (``{unix}``/``{now}`` counted as one); None: not an id."""
    node = nodes.get(name)
    if isinstance(node, Gen):
        spec = node.spec
        if isinstance(spec, UuidGen):
            return 2.0**122, frozenset((name,))
        if isinstance(spec, IdGen):
            n = float(len(set(spec.alphabet or ID_ALPHABET))) ** spec.length
            return n, frozenset((name,))
        if isinstance(spec, IntGen):
            return float(spec.max - spec.min + 1), frozenset((name,))
        return None
    if not isinstance(node, Text) or depth > 8:
        return None
    total, drawn = 1.0, frozenset[str]()
    for part in node.parts:
        if isinstance(part, Slot) and part.kind == "vars" and not part.keys:
            inner = _space(part.name, nodes, depth + 1)
            if inner is not None and not inner[1] & drawn:
                total, drawn = total * inner[0], drawn | inner[1]
    return (total, drawn) if drawn else None


def receiver_for(compiled: CompiledScenario) -> Receiver:
    """Read a compiled scenario from the receiving side; :class:`Unreceivable`
    names the first thing the target could not tell."""
    return _Build(compiled).receiver()


class _Build:
    def __init__(self, compiled: CompiledScenario) -> None:
        self.c = compiled
        self.scenario = compiled.scenario
        self.spec = compiled.scenario.spec
        self.header = self.spec.scenario.correlation_header
        sign = self.spec.scenario.sign
        ids = [n for n, t in builtin(sign).headers if t == "{id}"] if sign else []
        self.signed_id = ids[0] if ids else ""
        self.by_signature = False  # an event id read from the signature's headers

    def fail(self, path: Path, what: str) -> Unreceivable:
        line = line_of(self.scenario.text, path)
        origin = self.scenario.origin
        where = origin if line is None else f"{origin}:{line}"
        return Unreceivable(f"{where}: {dotted(path)}: {what} (docs/TARGET.md)")

    def body(self, flow: str, state: str) -> Obj:
        names = self.spec.flows[flow].states[state].body or []
        return merge(self.scenario.parsed.templates, names)

    def spaces(self, flow: str) -> dict[str, Space]:
        """How many values each variable of a flow can take, file order, for those
        that can tell runs apart: drawn by an id/uuid/int generator, a text made
        of such (``"{unix}.{vars.micro}"``: its ``{unix}`` counted as nothing), or
        captured by an API step from an answer the target writes (an id it
        issues: 16^20)."""
        nodes = {name: node for name, node, _ in self.scenario.parsed.vars[flow]}
        out: dict[str, Space] = {}
        for name in nodes:
            n = _space(name, nodes)
            if n is not None:
                out[f"vars.{name}"] = n
        for st in self.spec.flows[flow].states.values():
            if st.api is not None:
                for v in self.issued(st.api):
                    out.setdefault(f"vars.{v}", (ISSUED, frozenset((v,))))
        return out

    def unique(self, flow: str) -> list[str]:
        """Variables of a flow that tell its runs apart alone (at least BOUND values)."""
        return [k for k, (n, _) in self.spaces(flow).items() if n >= BOUND]

    def issued(self, api: str) -> list[str]:
        """What an API step captures that the target issues: a key the request
        body lacks (a key it has, the target answers with the value sent)."""
        step = self.spec.api[api]
        sent = (
            {k for k, _, _ in merge(self.scenario.parsed.templates, step.body).items}
            if step.body
            else set()
        )
        return [
            v for v, p in step.capture.items() if json_path(p)[-1:] and json_path(p)[-1] not in sent
        ]

    def identity(self, flow: str) -> str | None:
        fl = self.spec.flows[flow]
        hooks = [s for s, st in fl.states.items() if st.webhook is not None]
        if not hooks:
            return None
        seen = [set(_lone_vars(self.body(flow, s))) for s in hooks]
        initial_apis = [fl.states[s].api for s in fl.initial if fl.states[s].api is not None]
        if initial_apis:  # the run begins at the API call: known by what the target issued
            issued = self.issued(initial_apis[0] or "")
            cands = {f"vars.{v}": (ISSUED, frozenset((v,))) for v in issued}
        else:
            cands = self.spaces(flow)
        common = [(k, n) for k, n in cands.items() if all(k in s for s in seen)]
        for k, (n, _) in common:  # one variable that is enough alone, file order
            if n >= BOUND:
                return k
        # else the fewest whose values multiply to enough, each drawn apart
        # (``ts = "{unix}.{vars.micro}"`` adds nothing to ``micro``)
        chosen, total, drawn = [], 1.0, frozenset[str]()
        for k, (n, d) in sorted(common, key=lambda kn: -kn[1][0]):
            if d & drawn:
                continue
            chosen.append(k)
            total, drawn = total * n, drawn | d
            if total >= BOUND:
                return "+".join(sorted(chosen, key=[c for c, _ in common].index))
        parents = self.scenario.parsed.parents.get(flow, ())
        if parents and not initial_apis:
            shared = set.intersection(*(set(self.unique(p)) for p in parents))
            # the parents' own ids first (never a cycle: the checks refuse one)
            ids = [i for i in (self.identity(p) for p in parents) if i]
            for cand in [*ids, *self.unique(parents[0])]:
                if cand not in shared:
                    continue
                if all(f"parent.{cand[5:]}" in s for s in seen):
                    return f"parent.{cand[5:]}"
        have = f" (its variables in every event take 2^{math.log2(total):.0f} values together)"
        raise self.fail(
            ("flows", flow),
            "the reference target cannot tell this flow's runs apart: no variables drawn by "
            "id/uuid/int generators (or an id an API step captures, or the parent's), with "
            "2^48 values or more together, sit alone in every one of its event bodies"
            + (have if common else ""),
        )

    def where(self, flow: str, state: str, kinds: tuple[str, ...]) -> Locator | None:
        """The first place of a placeholder of ``kinds``: the body, else a header."""
        found = _find(self.body(flow, state), kinds)
        if found is not None:
            return found
        for name, node, _ in header_nodes(self.spec, flow, state):
            one = _one_slot(node) if isinstance(node, Text) else None
            if one is not None and one[0].kind in kinds and not one[0].keys:
                return Locator((), one[1], one[2], name)
        return None

    def says(self, flow: str, state: str, path: Path) -> tuple[tuple[Locator, str], ...]:
        """Where an event of this state says which it is, and what it says there:
        ``{state}``, else ``{word}`` (body first, then headers), and ``{flow}``
        wherever it sits; ``{flow}`` alone tells a flow's only webhook state."""
        st = self.c.flow(flow).states
        s = next(x for x in st if x.name == state)
        out: list[tuple[Locator, str]] = []
        for kind, text in (("state", s.name), ("word", s.word)):
            at = self.where(flow, state, (kind,))
            if at is not None:
                out.append((at, text))
                break
        named = self.where(flow, state, ("flow",))
        hooks = [x for x in st if x.webhook >= 0]
        if named is not None:
            out.append((named, flow))
        if not out or (len(out) == 1 and named is not None and len(hooks) > 1):
            raise self.fail(
                (*path, "body"),
                "no {state} or {word} in the body or headers: the reference target cannot "
                "tell which state an event announces",
            )
        return tuple(out)

    def event_id(self, flow: str, state: str, path: Path) -> Locator | None:
        """Where the event id sits: ``{event_id}`` in the body, else in a header;
        None: the correlation header; else the id header of the file's ``sign``
        scheme (``webhook-id``), which only a signed request carries."""
        found = self.where(flow, state, ("event_id",))
        if found is not None or self.header:
            return found
        if self.signed_id:
            self.by_signature = True
            return Locator((), header=self.signed_id)
        raise self.fail(
            (*path, "body"),
            "no {event_id} in the body or headers (nor a correlation_header, nor a sign "
            "scheme with an id header): the reference target cannot tell a redelivery",
        )

    def receiver(self) -> Receiver:
        c = self.c
        identity = [self.identity(flow) for flow in self.spec.flows]
        indexed: list[set[str]] = [{i} if i else set() for i in identity]
        readers: list[list[Reader]] = [[] for _ in c.webhooks]
        for f in c.flows:
            parents = self.scenario.parsed.parents.get(f.name, ())
            pid = {identity[c.flow(p).index] for p in parents}
            for s in f.states:
                if s.webhook < 0:
                    continue
                path: Path = ("flows", f.name, "states", s.name)
                body = self.body(f.name, s.name)
                eid = self.event_id(f.name, s.name, path)
                says = self.says(f.name, s.name, path)
                lone = _lone_vars(body)
                key = identity[f.index]
                parent = next(
                    (
                        VarAt(f"parent.{p[5:]}", lone[f"parent.{p[5:]}"])
                        for p in pid
                        if p and p.startswith("vars.") and f"parent.{p[5:]}" in lone
                    ),
                    None,
                )
                readers[s.webhook].append(
                    Reader(
                        f.index,
                        s.index,
                        says,
                        eid,
                        tuple(VarAt(k, lone[k]) for k in key.split("+")) if key else (),
                        parent,
                        tuple(VarAt(k, at) for k, at in lone.items()),
                    )
                )
        reads = []
        for f in c.flows:
            r = self.spec.flows[f.name].read
            if r is None:
                continue
            parts = _url_parts(parse_value(r.url, ()))
            match = tuple((json_path(k), _slot_key(v)) for k, v in r.match.items() if _slot_key(v))
            for p in parts:
                if isinstance(p, Slot):
                    indexed[f.index].add(f"{p.kind}.{p.name}")
            reads.append(
                ReadRoute(
                    f.index,
                    parts,
                    json_path(r.status),
                    dict(r.expect),
                    json_path(r.items[0]) if r.items else None,
                    match,
                )
            )
        apis = []
        for name, step in self.spec.api.items():
            url = parse_value(step.url, ())
            states = tuple(
                (f.index, s.index)
                for f in c.flows
                for s in f.states
                if s.api is not None and s.api.name == name
            )
            body_vars: tuple[VarAt, ...] = ()
            if step.body:
                lone = _lone_vars(merge(self.scenario.parsed.templates, step.body))
                body_vars = tuple(VarAt(k, at) for k, at in lone.items())
            for f_index, _ in states:  # a later call finds its run by its URL's variables
                indexed[f_index].update(
                    f"{p.kind}.{p.name}" for p in _url_parts(url) if isinstance(p, Slot)
                )
            apis.append(
                ApiReader(
                    name,
                    step.method,
                    _url_parts(url),
                    states,
                    tuple((v, json_path(p)) for v, p in step.capture.items()),
                    body_vars,
                )
            )
        return Receiver(
            c,
            tuple(tuple(r) for r in readers),
            self.header,
            tuple(identity),
            (self.spec.scenario.sign or "") if self.by_signature else "",
            tuple(frozenset(i) for i in indexed),
            tuple(apis),
            tuple(reads),
        )


def _slot_key(text: str) -> str:
    """``"{parent.order_id}"`` as ``parent.order_id``; "" for any other text."""
    node = parse_value(text, ())
    lone = node.lone if isinstance(node, Text) else None
    if lone is None or lone.kind not in ("vars", "parent"):
        return ""
    return f"{lone.kind}.{lone.name}"


def _url_parts(node: Node) -> tuple[str | Slot, ...]:
    """A URL template's literal parts and placeholders."""
    if isinstance(node, Text):
        return node.parts
    return (str(node.value) if isinstance(node, Const) else "",)


def unsigned_refusal(receiver: Receiver, sign: str) -> str | None:
    """Why the reference target cannot receive this file signed with ``sign``
    ("" unsigned): its events carry their id only in the ``sign`` scheme's id
    header (``standard``: ``webhook-id``); None when it can."""
    need = receiver.needs_sign
    if not need or sign == need:
        return None
    header = next(n for n, t in builtin(need).headers if t == "{id}")
    return f"its events carry their id only in {header}, which --sign {need} adds"


def verdict(compiled: CompiledScenario, hand_written: bool = False) -> str:
    """One line for ``scenarios check``: can the reference target receive it?"""
    if hand_written:
        return "reference target (--target builtin): receives it (its hand-written service)"
    try:
        receiver = receiver_for(compiled)
    except Unreceivable as exc:
        why = str(exc).split(": ", 1)[-1]  # the key path and what is missing
        return f"reference target (--target builtin): cannot receive it: {why}"
    unsigned = unsigned_refusal(receiver, "")
    if unsigned is not None:
        return f"reference target (--target builtin): receives it signed only ({unsigned})"
    return "reference target (--target builtin): receives it (from the file)"
