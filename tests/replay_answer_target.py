"""The reference target (strict profile) answering a replayed event id the way
a service that mishandles at-least-once delivery does, as a process: with the
status code in ``WEBHOOKLOAD_TEST_REPLAY_ANSWER`` ("500", "422"), or "hang"
(no answer for 5 s, longer than the tool's --timeout). Every first delivery
is answered as the strict profile does, so whatever the tool counts as an
error must be one of these replays. Hung replays are counted in /stats'
``received`` under code "0".

``python -m tests.replay_answer_target`` takes ``webhookload-target``'s arguments.
"""

from __future__ import annotations

import asyncio
import os
import sys

import orjson
from aiohttp import web

import target.server
from target.__main__ import parse_args, serve
from target.binding import ChargebackEvent, OrderEvent
from target.server import IngestService
from target.store import CHARGEBACKS, ORDERS, Reject, Store

ANSWER = os.environ.get("WEBHOOKLOAD_TEST_REPLAY_ANSWER", "500")
MESSAGE = "replay refused by the test target"


class ReplayStore(Store):
    def apply_order(self, ev: OrderEvent, now: float = 0.0) -> None:
        if ev.event_id in self.seen_events:
            self.duplicates[ORDERS] += 1
            raise Reject(int(ANSWER), MESSAGE)
        super().apply_order(ev, now)

    def apply_chargeback(self, ev: ChargebackEvent) -> None:
        if ev.event_id in self.seen_events:
            self.duplicates[CHARGEBACKS] += 1
            raise Reject(int(ANSWER), MESSAGE)
        super().apply_chargeback(ev)


class HangingService(IngestService):
    async def handle(self, kind: str, request: web.Request) -> web.Response:
        body = await request.read()  # aiohttp keeps it for the next read()
        event_id = orjson.loads(body).get("provider_event_id")
        if event_id in self.store.seen_events:
            self.received[kind, 0] += 1
            await asyncio.sleep(5)
            return web.Response(status=409)
        return await super().handle(kind, request)


def main() -> None:
    if ANSWER == "hang":
        target.server.IngestService = HangingService  # type: ignore[misc]
    else:
        target.server.Store = ReplayStore  # type: ignore[attr-defined]
    asyncio.run(serve(parse_args(sys.argv[1:])))


if __name__ == "__main__":
    main()
