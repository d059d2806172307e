"""A scenario file's runs as the reference target keeps them (target/scenario_app.py
serves them over HTTP): each webhook event's id checked against those applied,
its transition against its flow run's state (engine/scenario/receiver.py says
where each sits in the body), API steps that start or move runs with their
captures filled, read-backs through ``read.expect``, and the counters of
``/stats`` (docs/TARGET.md, "Any scenario file")."""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Mapping
from typing import Any

from engine.scenario.compiled import CompiledFlow
from engine.scenario.expect import Table
from engine.scenario.reading import ApiReader, Keys, Reader, ReadRoute, Receiver
from target.guard import Guard
from target.server import TargetConfig

FIRST = (202, 200, 201, 204)
DUPLICATE = (409, 200, 202, 204)
UNKNOWN_RUN = (404, 409, 422, 400)
INVALID = (422, 409, 400, 404)
"""The codes a webhook answers, in order of preference: the first its
``accept`` table lists (engine/scenario/expect.py), else the first."""


def _code(table: Table, prefs: tuple[int, ...]) -> int:
    return next((c for c in prefs if table[c]), prefs[0])


class Run:
    """One run of a flow as the target knows it: the states it may be in (a
    word several states share stands for all of them) and its variables."""

    __slots__ = ("flow", "seq", "states", "vars")

    def __init__(self, flow: int, states: frozenset[int], seq: int) -> None:
        self.flow = flow
        self.states = states
        self.vars: dict[str, object] = {}
        self.seq = seq


def _put(doc: dict[str, Any], keys: Keys, value: object) -> None:
    """``value`` at a JSON path of ``doc``, making the objects on the way."""
    for key in keys[:-1]:
        inner = doc.get(str(key))
        if not isinstance(inner, dict):  # the request's own value there gives way
            inner = doc[str(key)] = {}
        doc = inner
    if keys:
        doc[str(keys[-1])] = value


def _key(values: Mapping[str, object], key: str) -> str | None:
    """A run's key as text: one variable's value, or several joined with ``|``
    (``vars.node_id+vars.id``); None while one is missing."""
    if "+" not in key:
        value = values.get(key)
        return None if value is None else str(value)
    parts = [values.get(k) for k in key.split("+")]
    return None if any(p is None for p in parts) else "|".join(str(p) for p in parts)


class ScenarioService:
    """The runs, the applied event ids and the counters of one scenario."""

    def __init__(self, config: TargetConfig, receiver: Receiver) -> None:
        self.config = config
        self.receiver = receiver
        self.compiled = c = receiver.scenario
        self.guard = Guard(config.sign, config.secret, config.signature_header, config.fail_rate)
        self.initial = [frozenset(f.initial) for f in c.flows]
        self.next = [tuple(frozenset(s.next) for s in f.states) for f in c.flows]
        self.codes = [
            (_code(w.first, FIRST), _code(w.duplicate, DUPLICATE), _code(w.early, UNKNOWN_RUN),
             _code(w.early, INVALID))
            for w in c.webhooks
        ]  # fmt: skip
        self.index: list[dict[str, dict[str, Run]]] = [
            {k: {} for k in keys} for keys in receiver.indexed
        ]
        self.runs: list[list[Run]] = [[] for _ in c.flows]
        self.seen: set[object] = set()
        self.seq = 0
        self.received: Counter[tuple[str, int]] = Counter()
        self.applied: Counter[str] = Counter()
        self.duplicates: Counter[str] = Counter()
        self.early: Counter[str] = Counter()
        self.invalid: Counter[str] = Counter()
        self.api: Counter[tuple[str, int]] = Counter()
        self.reads: Counter[int] = Counter()
        self.entered: Counter[tuple[int, int]] = Counter()
        self.started: Counter[int] = Counter()

    # -- runs ------------------------------------------------------------

    def _new_run(self, flow: int, states: frozenset[int]) -> Run:
        self.seq += 1
        run = Run(flow, states, self.seq)
        self.runs[flow].append(run)
        self.started[flow] += 1
        return run

    def _remember(self, run: Run, values: Mapping[str, object]) -> None:
        run.vars.update(values)
        self.seq += 1
        run.seq = self.seq
        for key, runs in self.index[run.flow].items():
            value = _key(run.vars, key)
            if value is not None:
                runs[value] = run  # by text: a URL's part finds it too

    def _find(self, flow: int, key: str, value: object) -> Run | None:
        runs = self.index[flow].get(key)
        return None if runs is None or value is None else runs.get(str(value))

    def _moves(self, run: Run, candidates: frozenset[int]) -> frozenset[int]:
        nxt = self.next[run.flow]
        return candidates & frozenset().union(*(nxt[s] for s in run.states))

    # -- webhooks -----------------------------------------------------------

    def judge(self, hook: int, payload: object, headers: Mapping[str, str]) -> tuple[int, str]:
        """The answer to one webhook's event (its code and message), applied when 2xx."""
        name = self.compiled.webhooks[hook].name
        first, dup, unknown, invalid = self.codes[hook]
        matches: dict[int, list[Reader]] = {}
        for r in self.receiver.readers[hook]:
            if r.announced(payload, headers):
                matches.setdefault(r.flow, []).append(r)
        if not matches:
            return 422, "no state of this webhook's flows is announced"
        lead = next(iter(matches.values()))[0]
        header = self.receiver.event_header or ""
        eid = lead.event_id.read(payload, headers) if lead.event_id else headers.get(header)
        if eid is None:
            return 400, "no event id"
        if eid in self.seen:
            self.duplicates[name] += 1
            return dup, "event already applied"
        chosen: tuple[list[Reader], Run | None, object] | None = None
        for readers in matches.values():
            ident = self.receiver.identity[readers[0].flow]
            value = _key({v.key: v.at.read(payload) for v in readers[0].run}, ident or "")
            if ident is None or value is None:
                continue
            run = self._find(readers[0].flow, ident, value)
            if chosen is None or (run is not None and chosen[1] is None):
                chosen = (readers, run, value)
        if chosen is None:
            return 400, "no flow run id"
        readers, run, _ = chosen
        candidates = frozenset(r.state for r in readers)
        flow = readers[0].flow
        if run is None:
            states = candidates & self.initial[flow]
            parent = self._parent(readers[0], payload)
            if not states or parent is False:
                self.early[name] += 1
                what = "its parent" if states else "this flow run"
                return unknown, f"{what} is not known here (yet)"
            run = self._new_run(flow, states)
            if isinstance(parent, Run):
                run.vars.update(
                    {f"parent.{k[5:]}": v for k, v in parent.vars.items() if k[:5] == "vars."}
                )
        else:
            states = self._moves(run, candidates)
            if not states:
                self.invalid[name] += 1
                return invalid, self._refusal(run, candidates)
            run.states = states
        reader = next(r for r in readers if r.state in states)
        self._remember(run, {v.key: v.at.read(payload) for v in reader.vars})
        self.seen.add(eid)
        self.applied[name] += 1
        for s in states:
            self.entered[flow, s] += 1
        return first, ""

    def _parent(self, reader: Reader, payload: object) -> Run | bool | None:
        """The parent run the event names (loosely: only its id is checked),
        False when it names one not known here, None when it names none."""
        if reader.parent is None:
            return None
        value = reader.parent.at.read(payload)
        key = "vars." + reader.parent.key.removeprefix("parent.")
        flow = self.compiled.flows[reader.flow].name
        for parent in self.compiled.scenario.parsed.parents.get(flow, ()):
            run = self._find(self.compiled.flow(parent).index, key, value)
            if run is not None:
                return run
        return False

    def _refusal(self, run: Run, candidates: frozenset[int]) -> str:
        states = self.compiled.flows[run.flow].states
        now = "|".join(sorted(states[s].name for s in run.states))
        to = "|".join(sorted(states[s].name for s in candidates))
        return f"invalid transition: {now} -> {to}"

    # -- API steps ----------------------------------------------------------

    def call(self, api: ApiReader, slots: Mapping[str, str], payload: object) -> tuple[int, Any]:
        """One API step: the run it starts or moves, and the answer with its captures."""
        sent = payload if isinstance(payload, dict) else {}
        known = {**slots, **{v.key: v.at.read(payload) for v in api.vars}}
        run: Run | None = None
        for flow, _ in api.states:
            for key, value in known.items():
                run = run or self._find(flow, key, value)
        if run is None:
            starts = [(f, s) for f, s in api.states if s in self.initial[f]]
            if not starts:
                return 404, {"message": "no flow run is known for this call"}
            flow = starts[0][0]
            run = self._new_run(flow, frozenset(s for f, s in starts if f == flow))
        else:
            states = self._moves(run, frozenset(s for f, s in api.states if f == run.flow))
            if not states:
                return 409, {"message": self._refusal(run, frozenset(s for _, s in api.states))}
            run.states = states
        answer: dict[str, Any] = dict(sent)
        captured: dict[str, object] = {}
        for var, keys in api.capture:
            value = sent.get(str(keys[-1])) if keys and str(keys[-1]) in sent else None
            if value is None:
                value = f"{var}_{secrets.token_hex(10)}"  # an id issued here
            _put(answer, keys, value)
            captured[f"vars.{var}"] = value
        flow_states = self.compiled.flows[run.flow].states
        answer.setdefault("status", flow_states[min(run.states)].word)
        self._remember(run, {**{k: v for k, v in known.items() if k[:5] == "vars."}, **captured})
        for s in run.states:
            self.entered[run.flow, s] += 1
        return 200, answer

    # -- read-back ----------------------------------------------------------

    def shown(self, route: ReadRoute, run: Run) -> object:
        """What the read shows of a run: its state through ``read.expect``; where
        its state is a set, the first (by file order) that ``expect`` names."""
        states = self.compiled.flows[route.flow].states
        for s in sorted(run.states):
            if states[s].name in route.expect:
                return route.expect[states[s].name]
        return states[min(run.states)].word

    def read(
        self, routes: list[ReadRoute], names: tuple[str, ...], values: tuple[str, ...]
    ) -> tuple[int, Any]:
        lists = [r for r in routes if r.items is not None]
        if lists:
            route = lists[0]
            items = []
            for run in self.runs[route.flow]:
                item: dict[str, Any] = {}
                for keys, var in route.match:
                    _put(item, keys, run.vars.get(var))
                _put(item, route.status, self.shown(route, run))
                items.append(item)
            if not route.items:
                return 200, items
            doc: dict[str, Any] = {}
            _put(doc, route.items, items)
            return 200, doc
        best: tuple[ReadRoute, Run] | None = None
        for route in routes:
            for key, value in zip(names, values, strict=True):
                found = self._find(route.flow, key, value)
                if found is not None and (best is None or found.seq > best[1].seq):
                    best = (route, found)
        if best is None:
            return 404, {"message": "not found"}
        doc = {}
        _put(doc, best[0].status, self.shown(*best))
        return 200, doc

    def stats(self) -> dict[str, Any]:
        c = self.compiled
        hooks = [w.name for w in c.webhooks]
        received: dict[str, dict[str, int]] = {h: {} for h in hooks}
        for (hook, code), n in sorted(self.received.items()):
            received[hook][str(code)] = n
        api: dict[str, dict[str, int]] = {a: {} for a in c.api}
        for (name, code), n in sorted(self.api.items()):
            api[name][str(code)] = n
        return {
            "scenario": c.name,
            "signing": self.config.sign or "off",
            "received": received,
            "received_total": sum(self.received.values()),
            "applied": sum(self.applied.values()),
            "applied_by_endpoint": {h: self.applied[h] for h in hooks},
            "duplicates": {h: self.duplicates[h] for h in hooks},
            "early": {h: self.early[h] for h in hooks},
            "invalid": {h: self.invalid[h] for h in hooks},
            "api": api,
            "reads": {str(k): v for k, v in sorted(self.reads.items())},
            "flows": {f.name: self._flow_stats(f) for f in c.flows},
            "signature_failures": dict(sorted(self.guard.signature_failures.items())),
            "signature_failures_total": sum(self.guard.signature_failures.values()),
        }

    def _flow_stats(self, flow: CompiledFlow) -> dict[str, Any]:
        entered = {s.name: self.entered[flow.index, s.index] for s in flow.states}
        return {"started": self.started[flow.index], "entered": entered}
