"""The reference target (public profile) with a replay bug, as a process: a
replayed order event is answered 202, held, and re-applied right after the
order's next event, past the lifecycle check (an upsert of its status).

That is what a consumer does that gets an at-least-once redelivery after
later messages and "applies" it without a state check: the order moves back
to an earlier status. The reference target's own profiles never let a replay
move an order (the run's replays follow their originals at once, and a
terminal order refuses everything: CONTRACT.md), so ``--verify``'s report of
a moved order is tested against this one. ``python -m tests.replaying_target``
takes ``webhookload-target``'s arguments (``--port 0`` for a free one).
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from dataclasses import dataclass, field

import target.server
from engine.domain.statuses import OrderStatus
from target.__main__ import parse_args, serve
from target.binding import OrderEvent
from target.store import ORDERS, Store


@dataclass
class LateReplayStore(Store):
    held: dict[str, OrderEvent] = field(default_factory=dict)  # order id -> its replay

    def apply_order(self, ev: OrderEvent, now: float = 0.0) -> None:
        if ev.event_id in self.seen_events:
            self.duplicates[ORDERS] += 1
            self.held[ev.order_id] = ev
            return
        super().apply_order(ev, now)
        late = self.held.pop(ev.order_id, None)
        if late is not None:
            order = self.orders[ev.order_id]
            self.orders_by_status[order.status.value] -= 1
            order.status = OrderStatus(late.status)
            self.orders_by_status[order.status.value] += 1


def main() -> None:
    target.server.Store = LateReplayStore  # type: ignore[attr-defined]
    config = dataclasses.replace(parse_args(sys.argv[1:]), profile="public", error_delay=0.0)
    asyncio.run(serve(config))


if __name__ == "__main__":
    main()
