"""The read API (the payment manager API's reads), in the profile's shapes.

``strict`` keeps the reference target's own wrapped shapes (``{"orders":
[...]}``, ``{"events": [...]}``, ``{"disputes": [...]}``); ``public`` answers
as the public service does (CONTRACT.md, "Read API shapes"): ``GET /orders``
a bare array that ignores ``limit``, ``GET /orders/events`` a page
``{"items", "next_cursor", "has_more"}`` newest first, ``GET /disputes`` a
bare array with reason, amount, currency and timestamps.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from target.store import LoggedEvent, Store

EVENT_KIND = "webhook_received"
MAX_LIMIT = 1000


class BadQuery(Exception):
    """A query parameter the read API cannot use (answered 400)."""


def _limit(request: web.Request, *, floor_to_default: bool) -> int:
    try:
        value = int(request.query.get("limit", "10"))
    except ValueError:
        raise BadQuery("limit must be an integer") from None
    if floor_to_default and value <= 0:  # the public service's default page
        return 10
    return max(1, min(MAX_LIMIT, value))


def _event_id(seq: int) -> str:
    """A stable, UUID-shaped id for the ``seq``-th logged event."""
    h = f"{seq:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _public_event(logged: LoggedEvent) -> dict[str, Any]:
    ev = logged.event
    return {
        "event_id": _event_id(logged.seq),
        "order_id": ev.order_id,
        "kind": EVENT_KIND,
        "provider_event_id": ev.event_id,
        "data": {
            "provider_event_id": ev.event_id,
            "order_id": ev.order_id,
            "user_id": ev.user_id,
            "status": ev.status,
            "updated_at": ev.updated_at,
            "created_at": ev.created_at,
        },
        "created_at": datetime.fromtimestamp(logged.received_at, UTC).isoformat(),
    }


def list_orders(store: Store, request: web.Request) -> Any:
    if store.profile.public_reads:
        return [o.as_json() for o in store.orders.values()]
    items = list(store.orders.values())[-_limit(request, floor_to_default=False) :]
    return {"orders": [o.as_json() for o in items]}


def list_events(store: Store, request: web.Request) -> Any:
    if not store.profile.public_reads:
        items = list(store.events)[-_limit(request, floor_to_default=False) :]
        return {
            "events": [
                {
                    "event_id": e.event.event_id,
                    "order_id": e.event.order_id,
                    "status": e.event.status,
                    "updated_at": e.event.updated_at,
                }
                for e in items
            ]
        }
    limit = _limit(request, floor_to_default=True)
    cursor = request.query.get("cursor", "")
    try:
        before = int(cursor) if cursor else None
    except ValueError:
        raise BadQuery("cursor is not one this service gave") from None
    page: list[LoggedEvent] = []
    has_more = False
    for logged in reversed(store.events):  # newest first
        if before is not None and logged.seq >= before:
            continue
        if len(page) == limit:
            has_more = True
            break
        page.append(logged)
    return {
        "items": [_public_event(e) for e in page],
        "next_cursor": str(page[-1].seq) if has_more else "",
        "has_more": has_more,
    }


def list_disputes(store: Store) -> Any:
    if store.profile.public_reads:
        return [d.as_public_json() for d in store.disputes.values()]
    return {"disputes": [d.as_json() for d in store.disputes.values()]}
