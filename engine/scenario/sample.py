"""One journey of a compiled scenario as the requests it would send, sending nothing.

``scenarios check`` prints it so a user sees what a file sends before any
load: a root flow drawn by weight, its states walked by the transitions'
weights and ``max_repeats`` (as a run walks them), every child flow a state
may start (whatever its probability: the sample shows them all), and the
read-back. An API step's answer is not there to capture from, so a captured
variable shows as ``<captured $.path>``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from engine.domain.urls import join_url
from engine.scenario.compiled import CompiledFlow, CompiledScenario, Vars, pick

MAX_STEPS = 200
"""Enough for any bounded flow a person writes; a guard, not a rule."""


@dataclass(frozen=True, slots=True)
class SampleRequest:
    kind: str  # "webhook", "api" (a call to the service's API) or "read"
    flow: str
    state: str  # "" for a read-back
    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None


def join(base: str, url: str) -> str:
    """A path under ``base`` (its prefix and query kept, as a run sends it:
    :mod:`engine.domain.urls`); an absolute URL as it is."""
    return url if url.startswith(("http://", "https://")) else join_url(base, url)


def sample_journey(
    compiled: CompiledScenario,
    rng: random.Random,
    target: str = "http://127.0.0.1:8080",
    read_api: str | None = None,
) -> list[SampleRequest]:
    """The requests of one journey, in the order a run sends them."""
    out: list[SampleRequest] = []
    root = compiled.flows[pick(rng, compiled.roots, compiled.root_weights)]
    _walk(compiled, root, None, rng, target, read_api or target, out)
    return out


def _walk(
    compiled: CompiledScenario,
    flow: CompiledFlow,
    parent: Vars | None,
    rng: random.Random,
    target: str,
    api_base: str,
    out: list[SampleRequest],
) -> None:
    v = flow.start(parent, rng)
    entered = [0] * len(flow.states)
    state = flow.states[pick(rng, flow.initial, flow.initial_weights)]
    for _ in range(MAX_STEPS):
        entered[state.index] += 1
        if state.api is not None:
            api = state.api
            body = api.body(v, parent, rng) if api.body is not None else None
            url = join(api_base, api.url(v, parent, rng))
            out.append(
                SampleRequest("api", flow.name, state.name, api.method, url, api.headers, body)
            )
            for var, path in api.capture:
                v[var] = "<captured $" + "".join("." + p for p in path) + ">"
        else:
            assert state.build is not None  # a webhook state has a body (the model)
            hook = compiled.webhooks[state.webhook]
            event = state.build(v, parent, rng)
            url = hook.url if hook.absolute else join(target, hook.url)
            out.append(
                SampleRequest(
                    "webhook", flow.name, state.name, hook.method, url, event.headers, event.body
                )
            )
        if state.terminal:
            break
        allowed = [
            (s, w)
            for s, w in zip(state.next, state.weights, strict=True)
            if (bound := flow.states[s].max_repeats) is None or entered[s] < bound
        ]
        nxt, weights = zip(*allowed, strict=True)
        state = flow.states[pick(rng, nxt, weights)]
    if flow.read is not None:
        url = join(api_base, flow.read.url(v, parent, rng))
        out.append(SampleRequest("read", flow.name, "", "GET", url, (), None))
    for child, probability in state.children:
        if probability > 0:
            _walk(compiled, compiled.flows[child], v, rng, target, api_base, out)
