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
  it per parent run): engine/scenario/run_identity.py counts that;
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

from engine.domain.schemes import builtin
from engine.scenario.checks import header_nodes
from engine.scenario.compiled import CompiledScenario, json_path
from engine.scenario.placeholders import Slot
from engine.scenario.places import find, lone_vars, one_slot, slot_key, url_parts
from engine.scenario.problem import Path
from engine.scenario.reading import (
    ApiReader,
    Locator,
    Reader,
    ReadRoute,
    Receiver,
    Unreceivable,
    VarAt,
)
from engine.scenario.run_identity import RunKeys
from engine.scenario.templates import Text, merge, parse_value

__all__ = ["ApiReader", "Locator", "ReadRoute", "Reader", "Receiver", "Unreceivable", "VarAt"]


def receiver_for(compiled: CompiledScenario) -> Receiver:
    """Read a compiled scenario from the receiving side; :class:`Unreceivable`
    names the first thing the target could not tell."""
    return _Build(compiled).receiver()


class _Build(RunKeys):
    """One reading of a file: :class:`RunKeys` tells its flows' runs apart, and
    this finds where each event says its id and state."""

    def __init__(self, compiled: CompiledScenario) -> None:
        super().__init__(compiled)
        self.c = compiled
        self.header = self.spec.scenario.correlation_header
        sign = self.spec.scenario.sign
        ids = [n for n, t in builtin(sign).headers if t == "{id}"] if sign else []
        self.signed_id = ids[0] if ids else ""
        self.by_signature = False  # an event id read from the signature's headers

    def where(self, flow: str, state: str, kinds: tuple[str, ...]) -> Locator | None:
        """The first place of a placeholder of ``kinds``: the body, else a header."""
        found = find(self.body(flow, state), kinds)
        if found is not None:
            return found
        for name, node, _ in header_nodes(self.spec, flow, state):
            one = one_slot(node) if isinstance(node, Text) else None
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
                lone = lone_vars(body)
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
            parts = url_parts(parse_value(r.url, ()))
            match = tuple((json_path(k), slot_key(v)) for k, v in r.match.items() if slot_key(v))
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
                lone = lone_vars(merge(self.scenario.parsed.templates, step.body))
                body_vars = tuple(VarAt(k, at) for k, at in lone.items())
            for f_index, _ in states:  # a later call finds its run by its URL's variables
                indexed[f_index].update(
                    f"{p.kind}.{p.name}" for p in url_parts(url) if isinstance(p, Slot)
                )
            apis.append(
                ApiReader(
                    name,
                    step.method,
                    url_parts(url),
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
