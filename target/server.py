"""The reference ingest service over HTTP (aiohttp.web).

``sync`` mode validates inline and answers 202/400/404/409/422 like the
service in HTTP mode. ``queue`` mode answers 202 once the body parses and
applies events after ``lag`` seconds, in arrival order, as a Kafka consumer
would; rejected events are counted as dead letters.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from target.store import Reject, Store, parse_chargeback, parse_order

ORDERS = "orders"
CHARGEBACKS = "chargebacks"


@dataclass(frozen=True)
class TargetConfig:
    host: str = "127.0.0.1"
    port: int = 3001
    mode: str = "sync"  # sync | queue
    contract: str = "ingest"  # ingest | plan
    lag: float = 0.05
    delay: float = 0.0
    fail_rate: float = 0.0
    exit_with_parent: bool = False


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


def _error(code: int, message: str) -> web.Response:
    return _json({"message": message}, status=code)


_ACCEPTED_BODY = b""


class IngestService:
    """Holds the store, the counters and (in queue mode) the consumer queue."""

    def __init__(self, config: TargetConfig) -> None:
        self.config = config
        self.store = Store()
        self.received: Counter[tuple[str, int]] = Counter()
        self.dead_letters: Counter[tuple[str, int]] = Counter()
        self.applied = 0
        self.queue: asyncio.Queue[tuple[float, str, Any]] = asyncio.Queue()
        self._rng = random.Random()

    def _apply(self, kind: str, payload: Any) -> None:
        if kind == ORDERS:
            self.store.apply_order(parse_order(payload, self.config.contract))
        else:
            self.store.apply_chargeback(parse_chargeback(payload, self.config.contract))
        self.applied += 1

    async def handle(self, kind: str, request: web.Request) -> web.Response:
        cfg = self.config
        if cfg.delay:
            await asyncio.sleep(cfg.delay)
        try:
            body = await request.read()
        except ConnectionError:  # the client left mid-request (e.g. a run's deadline)
            return web.Response(status=400)
        if cfg.fail_rate and self._rng.random() < cfg.fail_rate:
            self.received[kind, 503] += 1
            return _error(503, "injected failure (--fail-rate)")
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            self.received[kind, 400] += 1
            return _error(400, "body is not valid JSON")
        if cfg.mode == "queue":
            self.received[kind, 202] += 1
            self.queue.put_nowait((time.monotonic() + cfg.lag, kind, payload))
            return web.Response(status=202, body=_ACCEPTED_BODY)
        try:
            self._apply(kind, payload)
        except Reject as rej:
            self.received[kind, rej.code] += 1
            return _error(rej.code, rej.message)
        self.received[kind, 202] += 1
        return web.Response(status=202, body=_ACCEPTED_BODY)

    async def consume(self) -> None:
        """Queue mode's consumer: apply each event ``lag`` after it arrived."""
        while True:
            due, kind, payload = await self.queue.get()
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                self._apply(kind, payload)
            except Reject as rej:
                self.dead_letters[kind, rej.code] += 1

    def stats(self) -> dict[str, Any]:
        received: dict[str, dict[str, int]] = {ORDERS: {}, CHARGEBACKS: {}}
        for (kind, code), n in sorted(self.received.items()):
            received[kind][str(code)] = n
        return {
            "mode": self.config.mode,
            "contract": self.config.contract,
            "received": received,
            "received_total": sum(self.received.values()),
            "applied": self.applied,
            "pending": self.queue.qsize(),
            "dead_letters": sum(self.dead_letters.values()),
            "orders": len(self.store.orders),
            "orders_by_status": {k: v for k, v in self.store.orders_by_status.items() if v},
            "disputes_by_status": {k: v for k, v in self.store.disputes_by_status.items() if v},
        }

    def metrics(self) -> str:
        lines = [
            "# HELP ingest_webhooks_received_total Webhooks received, by endpoint and code.",
            "# TYPE ingest_webhooks_received_total counter",
        ]
        for (kind, code), n in sorted(self.received.items()):
            lines.append(f'ingest_webhooks_received_total{{endpoint="{kind}",code="{code}"}} {n}')
        lines += [
            "# HELP ingest_dead_letters_total Events rejected by the consumer (queue mode).",
            "# TYPE ingest_dead_letters_total counter",
        ]
        for (kind, code), n in sorted(self.dead_letters.items()):
            lines.append(f'ingest_dead_letters_total{{endpoint="{kind}",code="{code}"}} {n}')
        lines.append(f"ingest_dead_letters_all_total {sum(self.dead_letters.values())}")
        lines += ["# TYPE ingest_queue_pending gauge", f"ingest_queue_pending {self.queue.qsize()}"]
        lines += ["# TYPE ingest_orders gauge"]
        for status, n in sorted(self.store.orders_by_status.items()):
            lines.append(f'ingest_orders{{status="{status}"}} {n}')
        lines += ["# TYPE ingest_disputes gauge"]
        for status, n in sorted(self.store.disputes_by_status.items()):
            lines.append(f'ingest_disputes{{status="{status}"}} {n}')
        return "\n".join(lines) + "\n"


def _limit(request: web.Request) -> int:
    try:
        return max(1, min(1000, int(request.query.get("limit", "10"))))
    except ValueError:
        raise web.HTTPBadRequest(text='{"message": "limit must be an integer"}') from None


def build_app(config: TargetConfig) -> web.Application:
    """The aiohttp application; tests mount it directly on a free port."""
    svc = IngestService(config)
    app = web.Application()
    app["service"] = svc

    def webhook(kind: str) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handler(request: web.Request) -> web.Response:
            return await svc.handle(kind, request)

        return handler

    async def health(_: web.Request) -> web.Response:
        return _json({"status": "ok"})

    async def metrics(_: web.Request) -> web.Response:
        return web.Response(text=svc.metrics(), content_type="text/plain")

    async def stats(_: web.Request) -> web.Response:
        return _json(svc.stats())

    async def get_order(request: web.Request) -> web.Response:
        order = svc.store.orders.get(request.match_info["order_id"])
        if order is None:
            return _error(404, "order not found")
        return _json(order.as_json())

    async def list_orders(request: web.Request) -> web.Response:
        items = list(svc.store.orders.values())[-_limit(request) :]
        return _json({"orders": [o.as_json() for o in items]})

    async def list_events(request: web.Request) -> web.Response:
        items = list(svc.store.events)[-_limit(request) :]
        return _json({"events": items})

    async def list_disputes(_: web.Request) -> web.Response:
        return _json({"disputes": [d.as_json() for d in svc.store.disputes.values()]})

    async def start_consumer(app: web.Application) -> Any:
        task = asyncio.create_task(svc.consume()) if config.mode == "queue" else None
        yield
        if task is not None:
            task.cancel()

    app.router.add_post("/webhooks/payments/orders", webhook(ORDERS))
    app.router.add_post("/webhooks/payments/chargebacks", webhook(CHARGEBACKS))
    app.router.add_get("/health/live", health)
    app.router.add_get("/health/ready", health)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/stats", stats)
    app.router.add_get("/orders/events", list_events)
    app.router.add_get("/orders/{order_id}", get_order)
    app.router.add_get("/orders", list_orders)
    app.router.add_get("/disputes", list_disputes)
    app.cleanup_ctx.append(start_consumer)
    return app
