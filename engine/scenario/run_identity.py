"""How the reference target tells one run of a flow from another.

A flow run is known by the variables fixed for it that sit alone in every
one of its events: drawn by an ``id``/``uuid``/``int`` generator (or a text of
such), or an id an API step captured (the target issues it); one with at
least :data:`BOUND` values, else the fewest whose values multiply to that (a
key of several); a child flow with none is known by its parent's
(``{parent.X}``, one run of it per parent run).

Apart from engine/scenario/receiver.py because it is the one part of reading
a file that counts: how many values each generator draws, and whether
together they are enough that two runs never share a key. The receiver
(engine/scenario/receiver.py, a :class:`RunKeys` itself) asks
:meth:`RunKeys.identity` per flow and builds its readers around the answer.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from engine.scenario.compiled import CompiledScenario, json_path
from engine.scenario.generators import ID_ALPHABET
from engine.scenario.lines import line_of
from engine.scenario.model import IdGen, IntGen, UuidGen
from engine.scenario.placeholders import Slot
from engine.scenario.places import lone_vars
from engine.scenario.problem import Path, dotted
from engine.scenario.reading import Unreceivable
from engine.scenario.templates import Gen, Node, Obj, Text, merge

__all__ = ["BOUND", "ISSUED", "RunKeys", "Space"]

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


class RunKeys:
    """A compiled scenario's flows as the target keys their runs."""

    def __init__(self, compiled: CompiledScenario) -> None:
        self.scenario = compiled.scenario
        self.spec = compiled.scenario.spec

    def fail(self, path: Path, what: str) -> Unreceivable:
        """What the target cannot tell, at the file's line of ``path``."""
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
        """The key of a flow's runs (``vars.X``, ``vars.X+vars.Y`` or
        ``parent.X``); None for a flow that sends no webhook."""
        fl = self.spec.flows[flow]
        hooks = [s for s, st in fl.states.items() if st.webhook is not None]
        if not hooks:
            return None
        seen = [set(lone_vars(self.body(flow, s))) for s in hooks]
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
