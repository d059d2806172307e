"""A flow's API step: a call to the service's own API whose answer binds values.

``[api.create_payment]`` (docs/SCENARIOS.md): its URL and body are built from
the flow run's variables, it is judged by its ``accept`` list, and each
``capture`` (a dotted JSON path of the answer) is bound into the run's
variables for the events that follow (the payment's ``provider_tx_id`` in
every acquirer webhook). An answer it accepts whose JSON lacks a captured
value is not accepted: the events after it could not be built. Recorded as a
request of the step's own endpoint; not retried (it is no provider delivery).
"""

from __future__ import annotations

import random
from collections.abc import Callable

import anyio
import orjson

from engine.metrics.stats import Stats
from engine.scenario.compiled import CompiledApi, Vars
from engine.scenario.drain import Drain, park
from engine.scenario.sample import join
from engine.transports import TransportError
from engine.transports.api_client import ApiClient

_MISSING = object()


def captured(answer: bytes, api: CompiledApi, into: Vars) -> bool:
    """Bind ``api``'s captures from the JSON ``answer`` into ``into``; False
    when the answer is not JSON or a path is not in it."""
    try:
        doc: object = orjson.loads(answer)
    except orjson.JSONDecodeError:
        return False
    for var, path in api.capture:
        value = doc
        for key in path:
            value = value.get(key, _MISSING) if isinstance(value, dict) else _MISSING
        if value is _MISSING:
            return False
        into[var] = value
    return True


async def call_api(
    client: ApiClient,
    stats: Stats,
    now: Callable[[], float],
    endpoint: int,
    base: str,
    api: CompiledApi,
    v: Vars,
    parent: Vars | None,
    rng: random.Random,
    due: float | None,
    drain: Drain,
) -> bool:
    """One API step, recorded; True when accepted and every capture was bound.
    Counted in flight in ``drain`` as a webhook is: at the deadline none is
    started, and one already sent gets ``--grace`` to be answered and counted
    (it has reached the service: cut, it would be created there uncounted)."""
    if drain.draining:
        await park()
    url = join(base, api.url(v, parent, rng))
    body = api.body(v, parent, rng) if api.body is not None else None
    drain.inflight += 1
    t0 = now()
    try:
        status, done, answer = await client.call(api.method, url, body, api.headers)
    except TransportError as exc:
        drain.left(stats)
        stats.record_error(endpoint, exc.kind, str(exc).removeprefix(exc.kind).removeprefix(": "))
        return False
    except anyio.get_cancelled_exc_class():
        drain.inflight -= 1
        stats.record_cancelled()
        raise
    drain.left(stats)
    latency_us = int((done - t0) * 1e6)
    service_us: int | None = None
    if due is not None:
        service_us = latency_us
        latency_us = max(latency_us, int((done - due) * 1e6))
    ok = api.accept[status] if 0 <= status < len(api.accept) else False
    ok = ok and captured(answer, api, v)
    return stats.record_response(endpoint, status, latency_us, answer[:200], ok, service_us)
