"""A scripted stand-in for the engine: a fixed stream of snapshot deltas on a
fixed clock, so TUI snapshots are byte-for-byte stable."""

from __future__ import annotations

import dataclasses

import anyio

from engine.config import RunConfig
from engine.domain.outcomes import LEGACY_KEYS
from engine.domain.shape import INGEST_SHAPE
from engine.metrics.health import ShardHealth
from engine.metrics.histogram import bucket_index
from engine.metrics.stats import ENDPOINTS, Snapshot, Stats, merge_all
from engine.run.runner import RunResult, SnapshotSink

# endpoint ids by the ingest scenario's own endpoint names (engine/domain/shape.py)
ORDER_EP, DISPUTE_EP = map(INGEST_SHAPE.endpoint_index, ("orders", "disputes"))

TICKS = 40  # 10 s of deltas at 4 Hz


def scripted_deltas(ticks: int = TICKS) -> list[Snapshot]:
    """Orders answer in 1.2-2 ms (and two in 45 ms), disputes (a fifth) in
    2.1-2.4 ms; 503s on orders for one second. Per-endpoint fields add up to the
    run-wide ones, as the engine's do."""
    out = []
    for i in range(ticks):
        ok = 240 + (i % 4) * 10
        errs = 12 if 20 <= i < 24 else 0
        n_orders = ok - ok // 50 * 10  # answered orders (in tens)
        lat_orders = {bucket_index(1200 + 40 * k): 10 for k in range(n_orders // 10)}
        lat_orders[bucket_index(45_000)] = 2
        lat_disputes = {bucket_index(2100 + 60 * k): 10 for k in range(ok // 50)}
        lat = {**lat_orders, **lat_disputes}
        out.append(
            Snapshot(
                start=i * 0.25,
                end=(i + 1) * 0.25,
                requests=(n_orders + errs, ok - n_orders, 0),
                endpoint_names=ENDPOINTS,
                success=ok,
                errors=errs,
                status_codes={202: ok, **({503: errs} if errs else {})},
                errors_by_kind={"http_5xx": errs} if errs else {},
                scenarios={
                    LEGACY_KEYS["orders_started"]: 60,
                    LEGACY_KEYS["orders_success"]: 28,
                    LEGACY_KEYS["orders_failed"]: 27,
                    LEGACY_KEYS["disputes_opened"]: 8,
                    LEGACY_KEYS["disputes_won"]: 4,
                    LEGACY_KEYS["disputes_lost"]: 3,
                },
                latency=lat,
                latency_sum_us=ok * 1500,
                latency_max_us=45_000 + i,
                health={0: ShardHealth({bucket_index(900): 12}, cpu_us=100_000, span_us=250_000)},
                endpoint_codes=(
                    {202: n_orders, **({503: errs} if errs else {})},
                    {202: ok - n_orders},
                    {},
                ),
                endpoint_errors=({"http_5xx": errs} if errs else {}, {}, {}),
                endpoint_latency=(lat_orders, lat_disputes, {}),
                endpoint_latency_sum_us=(n_orders * 1400, (ok - n_orders) * 2100, 0),
                endpoint_latency_max_us=(45_000 + i, 2100 + 60 * (ok // 50 - 1), 0),
            )
        )
    return out


def delivery_deltas(ticks: int = TICKS) -> list[Snapshot]:
    """:func:`scripted_deltas` with deliberate duplicates, early events and
    retries, as a run with --duplicate-rate, --reorder-rate and --retries has."""
    out = []
    for i, d in enumerate(scripted_deltas(ticks)):
        delivery = {
            "duplicates_sent": 30,
            "duplicates_rejected": 27,
            "duplicates_accepted": 2 + i % 2,
            "duplicates_failed": 1 - i % 2,
            "early_sent": 12,
            "early_refused": 11,
            "early_accepted": 1,
            "retries": 3 if 20 <= i < 24 else 0,
            "retries_exhausted": 1 if i == 22 else 0,
        }
        out.append(dataclasses.replace(d, delivery={k: n for k, n in delivery.items() if n}))
    return out


def chart_deltas(seconds: int = 75) -> list[Snapshot]:
    """A picture for the chart: latency building up slowly, a stall every 20 s
    (p99 jumps, the rate halves), and a dispute path slower than orders."""
    out = []
    st = Stats()
    for i in range(seconds * 4):
        sec = i // 4
        stall = sec % 20 == 15
        base = 1500 + 60 * sec
        for k in range(50 if stall else 100):
            us = base * (1 + k % 10 / 10) * (6 if stall and k % 7 == 0 else 1)
            st.record_response(ORDER_EP, 202, int(us))
            if k % 4 == 0:
                st.record_response(DISPUTE_EP, 503 if stall and k % 3 == 0 else 202, int(us * 2))
        out.append(st.take((i + 1) * 0.25))
    return out


class ScriptedRunner:
    """Emits the script at once; then finishes (``finish=True``) or waits for stop()."""

    def __init__(
        self,
        config: RunConfig,
        sink: SnapshotSink,
        *,
        finish: bool,
        deltas: list[Snapshot] | None = None,
    ) -> None:
        self.config = config
        self.sink = sink
        self.finish = finish
        self.deltas = deltas
        self._stopped = anyio.Event()

    async def run(self) -> RunResult:
        deltas = self.deltas if self.deltas is not None else scripted_deltas()
        for d in deltas:
            self.sink(d)
        if not self.finish:
            await self._stopped.wait()
        total = merge_all(deltas)
        return RunResult(
            self.config, "http://127.0.0.1:3001", total, total.end, stopped=not self.finish
        )

    def stop(self) -> None:
        self._stopped.set()
