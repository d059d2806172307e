"""The reference ingest service over HTTP (aiohttp.web).

``sync`` mode validates inline and answers 202/400/404/409/422 like the
service in HTTP mode. ``queue`` mode answers 202 once the body parses and
applies events after ``lag`` seconds, in arrival order, as a Kafka consumer
would; rejected events are counted as dead letters. ``--profile`` picks how
edge cases are answered (target.profiles); ``--sign`` makes every webhook
prove its signature over the exact raw body first (engine.domain.signing).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from engine.domain.signing import DEFAULT_SIGNATURE_HEADER
from target import readapi
from target.guard import Guard
from target.payments import Payments, add_routes
from target.profiles import PROFILES
from target.store import CHARGEBACKS, ORDERS, Reject, Store, parse_chargeback, parse_order

CORRELATION_HEADER = "X-Correlation-ID"


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
    profile: str = "strict"  # strict | public
    sign: str = ""  # "" (no check) or a built-in scheme (engine/domain/schemes)
    secret: str = field(default="", repr=False)  # never printed, never in /stats
    signature_header: str = DEFAULT_SIGNATURE_HEADER
    error_delay: float | None = None  # before a 500; None: the profile's
    scenario: str = ""  # a scenario file's name or path, served by target/scenario_app.py


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


def _error(code: int, message: str) -> web.Response:
    return _json({"message": message}, status=code)


_ACCEPTED_BODY = b""
_ids = random.Random()


_UUID4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID4_SET = (0x4000 << 64) | (0x8000 << 48)


def _correlation_id() -> str:
    """A fresh UUIDv4 string; an id needs no OS entropy, so a private PRNG serves."""
    h = f"{(_ids.getrandbits(128) & _UUID4_CLEAR) | _UUID4_SET:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class IngestService:
    """Holds the store, the counters and (in queue mode) the consumer queue."""

    def __init__(self, config: TargetConfig) -> None:
        self.config = config
        self.profile = PROFILES[config.profile]
        self.store = Store(profile=self.profile)
        self.payments = Payments(public=self.profile.name == "public")  # target/payments.py
        self._guard = Guard(config.sign, config.secret, config.signature_header, config.fail_rate)
        self.error_delay = (
            self.profile.error_delay if config.error_delay is None else config.error_delay
        )
        self.signature_failures = self._guard.signature_failures
        self.received: Counter[tuple[str, int]] = Counter()
        self.dead_letters: Counter[tuple[str, int]] = Counter()
        self.applied = 0
        self.queue: asyncio.Queue[tuple[float, str, Any]] = asyncio.Queue()

    def _apply(self, kind: str, payload: Any) -> None:
        lenient = self.profile.lenient_binding
        if kind == ORDERS:
            event = parse_order(payload, self.config.contract, lenient=lenient)
            self.store.apply_order(event, time.time())
        else:
            self.store.apply_chargeback(
                parse_chargeback(payload, self.config.contract, lenient=lenient)
            )
        self.applied += 1

    def guard(self, request: web.Request, body: bytes) -> web.Response | None:
        """What every webhook passes before its body is judged (the acquirer's
        too, target/payments.py): the signature (401), then ``--fail-rate`` (503)."""
        return self._guard.check(request, body)

    async def handle(self, kind: str, request: web.Request) -> web.Response:
        cfg = self.config
        if cfg.delay:
            await asyncio.sleep(cfg.delay)
        try:
            body = await request.read()
        except ConnectionError:  # the client left mid-request (e.g. a run's deadline)
            return web.Response(status=400)
        refused = self.guard(request, body)
        if refused is not None:
            self.received[kind, refused.status] += 1
            return refused
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            self.received[kind, 400] += 1
            return _error(400, self.profile.bind_message or "body is not valid JSON")
        if cfg.mode == "queue":
            self.received[kind, 202] += 1
            self.queue.put_nowait((time.monotonic() + cfg.lag, kind, payload))
            return web.Response(status=202, body=_ACCEPTED_BODY)
        try:
            self._apply(kind, payload)
        except Reject as rej:
            self.received[kind, rej.code] += 1
            if rej.code >= 500 and self.error_delay:
                await asyncio.sleep(self.error_delay)
            bind = self.profile.bind_message if rej.code == 400 else None
            return _error(rej.code, bind or rej.message)
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
        store = self.store
        return {
            "mode": self.config.mode,
            "contract": self.config.contract,
            "profile": self.profile.name,
            "signing": self.config.sign or "off",
            "received": received,
            "received_total": sum(self.received.values()),
            "applied": self.applied,
            "pending": self.queue.qsize(),
            "dead_letters": sum(self.dead_letters.values()),
            "orders": len(self.store.orders),
            "orders_by_status": {k: v for k, v in self.store.orders_by_status.items() if v},
            "disputes_by_status": {k: v for k, v in self.store.disputes_by_status.items() if v},
            "duplicates": {kind: store.duplicates[kind] for kind in (ORDERS, CHARGEBACKS)},
            "early": {kind: store.early[kind] for kind in (ORDERS, CHARGEBACKS)},
            "signature_failures": dict(sorted(self.signature_failures.items())),
            "signature_failures_total": sum(self.signature_failures.values()),
            "payments": self.payments.stats(),
        }

    def metrics(self) -> str:
        lines = [
            "# HELP ingest_webhooks_received_total Webhooks received, by endpoint and code.",
            "# TYPE ingest_webhooks_received_total counter",
        ]
        for (kind, code), n in sorted(self.received.items()):
            lines.append(f'ingest_webhooks_received_total{{endpoint="{kind}",code="{code}"}} {n}')
        for code, n in sorted(self.payments.received.items()):
            lines.append(
                f'ingest_webhooks_received_total{{endpoint="silvergate",code="{code}"}} {n}'
            )
        lines += [
            "# HELP ingest_dead_letters_total Events rejected by the consumer (queue mode).",
            "# TYPE ingest_dead_letters_total counter",
        ]
        for (kind, code), n in sorted(self.dead_letters.items()):
            lines.append(f'ingest_dead_letters_total{{endpoint="{kind}",code="{code}"}} {n}')
        lines.append(f"ingest_dead_letters_all_total {sum(self.dead_letters.values())}")
        for name, counts, what in (
            (
                "ingest_duplicates_total",
                self.store.duplicates,
                "Deliveries of an applied event id.",
            ),
            (
                "ingest_early_total",
                self.store.early,
                "Events for an order or dispute not there yet.",
            ),
        ):
            lines += [f"# HELP {name} {what}", f"# TYPE {name} counter"]
            for kind in (ORDERS, CHARGEBACKS):
                lines.append(f'{name}{{endpoint="{kind}"}} {counts[kind]}')
        lines += [
            "# HELP ingest_signature_failures_total Webhooks refused 401, by reason.",
            "# TYPE ingest_signature_failures_total counter",
        ]
        for reason, n in sorted(self.signature_failures.items()):
            lines.append(f'ingest_signature_failures_total{{reason="{reason}"}} {n}')
        lines += ["# TYPE ingest_queue_pending gauge", f"ingest_queue_pending {self.queue.qsize()}"]
        lines += ["# TYPE ingest_orders gauge"]
        for status, n in sorted(self.store.orders_by_status.items()):
            lines.append(f'ingest_orders{{status="{status}"}} {n}')
        lines += ["# TYPE ingest_disputes gauge"]
        for status, n in sorted(self.store.disputes_by_status.items()):
            lines.append(f'ingest_disputes{{status="{status}"}} {n}')
        return "\n".join(lines) + "\n"


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
        try:
            return _json(readapi.list_orders(svc.store, request))
        except readapi.BadQuery as exc:
            return _error(400, str(exc))

    async def list_events(request: web.Request) -> web.Response:
        try:
            return _json(readapi.list_events(svc.store, request))
        except readapi.BadQuery as exc:
            return _error(400, str(exc))

    async def list_disputes(_: web.Request) -> web.Response:
        return _json(readapi.list_disputes(svc.store))

    async def correlate(request: web.Request, response: web.StreamResponse) -> None:
        """Echo the caller's correlation id on every answer, or give one (as the
        public service does), so a failed request can be found on both sides."""
        response.headers[CORRELATION_HEADER] = (
            request.headers.get(CORRELATION_HEADER) or _correlation_id()
        )

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
    # the acquirer webhook and its API
    add_routes(app, svc.payments, svc.error_delay, delay=config.delay, guard=svc.guard)
    app.cleanup_ctx.append(start_consumer)
    app.on_response_prepare.append(correlate)
    return app
