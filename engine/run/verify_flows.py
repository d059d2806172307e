"""``--verify`` for a scenario file's own read-back (``[flows.NAME.read]``).

Each flow run that ended with every step accepted in a terminal state its
``read.expect`` names is offered to its flow's sample (a reservoir of
``--verify`` per flow, as :class:`~engine.run.verify.OrderSample`), with the
read URL built from its variables and what the read-back should show. After
the run, each sampled URL is read (``GET``) until the status at the file's
JSON path is the expected one, or ``--verify-wait`` runs out; a list answer
(``items``) is searched for the item whose ``match`` path has this run's
value. What is left is classified by its last read: a 404 or an item not
listed is ``missing``, another status ``other_status``, no answer or no
status ``unreadable``. Every flow with a read-back has a tally in the
:class:`Verification`, keyed by its label, in the file's order.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import anyio
import orjson

from engine.domain.sanitize import clean
from engine.run.verify import (
    CONCURRENCY,
    POLL_S,
    READ_TIMEOUT_S,
    STATUS_CHARS,
    OrderSample,
    _read,
)
from engine.run.verify_result import MISSING, UNREADABLE, Mismatch, Tally, Verification
from engine.scenario.compiled import CompiledFlow, Vars
from engine.scenario.sample import join
from engine.transports.base import ACCEPT_IDENTITY

_SEP = "\x1f"  # between a sampled read's URL and its match value, in its key


@dataclass(slots=True)
class FlowSample:
    """One flow's ``--verify`` sample: keys are ``url`` or ``url<SEP>match``."""

    flow: CompiledFlow
    base: str  # the read API
    sample: OrderSample

    def offer(self, shows: str, v: Vars, parent: Vars | None, event_id: str) -> None:
        read = self.flow.read
        assert read is not None
        rng = random.Random(0)  # read templates draw nothing; the builders take one
        key = join(self.base, read.url(v, parent, rng))
        if read.match:
            key += _SEP + read.match[0][1](v, parent, rng)
        self.sample.offer(key, shows, event_id)


def _at(doc: object, path: tuple[str, ...]) -> object:
    for key in path:
        if not isinstance(doc, dict):
            return None
        doc = doc.get(key)
    return doc


def _shown(flow: CompiledFlow, raw: bytes, match: str | None) -> str | None:
    """The status a read answer shows for this run (MISSING: not listed),
    cleaned (it is the target's text)."""
    read = flow.read
    assert read is not None
    try:
        doc: object = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if match is not None:
        items = next((v for p in read.items if isinstance(v := _at(doc, p), list)), None)
        if items is None:
            return None
        path = read.match[0][0]
        doc = next((i for i in items if str(_at(i, path)) == match), MISSING)
        if doc == MISSING:
            return MISSING
    status = _at(doc, read.status)
    return None if status is None else clean(str(status), STATUS_CHARS)


async def verify_flows(
    read_api: str,
    samples: Sequence[FlowSample],
    wait_s: float,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> Verification:
    """Poll every sampled read until it shows what it should, or ``wait_s``."""
    import httpx  # imported where used (see engine/run/verify.py)

    used = list(samples)
    pending = {(i, key): exp for i, s in enumerate(used) for key, exp in s.sample.items}
    found: dict[tuple[int, str], str] = {}
    started = clock()
    waited = wait_s
    limit = anyio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(
        timeout=READ_TIMEOUT_S, follow_redirects=False, headers=dict([ACCEPT_IDENTITY])
    ) as client:

        async def check(i: int, key: str) -> None:
            url, _, match = key.partition(_SEP)
            async with limit:
                answer = await _read(client, url)  # bounded as every read (docs/HOSTILE.md)
            if answer is None:
                found[i, key] = UNREADABLE
                return
            if answer[0] == 404:
                found[i, key] = MISSING
                return
            shown = _shown(used[i].flow, answer[1], match or None) if answer[0] == 200 else None
            if shown == pending[i, key]:
                del pending[i, key]
                found.pop((i, key), None)
            else:
                found[i, key] = UNREADABLE if shown is None else shown

        with anyio.move_on_after(wait_s + 1):
            while True:
                async with anyio.create_task_group() as tg:
                    for i, key in list(pending):
                        tg.start_soon(check, i, key)
                if not pending:
                    waited = clock() - started
                    break
                if clock() - started >= wait_s:
                    break
                await anyio.sleep(POLL_S)
    labels = _labels(used)
    mismatches = [
        Mismatch(
            used[i].flow.name,
            key.replace(_SEP, " "),
            exp,
            found.get((i, key), UNREADABLE),
            used[i].sample.event_ids.get(key, ""),
            labels[i],
        )
        for (i, key), exp in pending.items()
    ]
    tallies = tuple(
        (label, Tally.of(len(s.sample.items), [m for m in mismatches if m.flow == label]))
        for label, s in zip(labels, used, strict=True)
    )
    return Verification(read_api, tallies, waited, tuple(mismatches)).bounded()


def _labels(samples: Sequence[FlowSample]) -> list[str]:
    """Each flow's key in the result: its label in lower case (as the summary
    words it), or its name where another flow took that label already."""
    out: list[str] = []
    for s in samples:
        label = s.flow.label.lower()
        out.append(s.flow.name if label in out else label)
    return out
