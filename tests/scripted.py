"""A scripted stand-in for the engine: a fixed stream of snapshot deltas on a
fixed clock, so TUI snapshots are byte-for-byte stable."""

from __future__ import annotations

import anyio

from engine.config import RunConfig
from engine.metrics.health import ShardHealth
from engine.metrics.histogram import bucket_index
from engine.metrics.stats import Snapshot, merge_all
from engine.run.runner import RunResult, SnapshotSink

TICKS = 40  # 10 s of deltas at 4 Hz


def scripted_deltas(ticks: int = TICKS) -> list[Snapshot]:
    out = []
    for i in range(ticks):
        ok = 240 + (i % 4) * 10
        errs = 12 if 20 <= i < 24 else 0
        lat = {bucket_index(1200 + 40 * k): 10 for k in range(ok // 10)}
        lat[bucket_index(45_000)] = 2
        out.append(
            Snapshot(
                start=i * 0.25,
                end=(i + 1) * 0.25,
                orders=int(ok * 0.8) + errs,
                disputes=ok - int(ok * 0.8),
                success=ok,
                errors=errs,
                status_codes={202: ok, **({503: errs} if errs else {})},
                errors_by_kind={"http_5xx": errs} if errs else {},
                scenarios={
                    "orders_started": 60,
                    "orders_success": 28,
                    "orders_failed": 27,
                    "disputes_opened": 8,
                    "disputes_won": 4,
                    "disputes_lost": 3,
                },
                latency=lat,
                latency_sum_us=ok * 1500,
                latency_max_us=45_000 + i,
                health={0: ShardHealth({bucket_index(900): 12}, cpu_us=100_000, span_us=250_000)},
            )
        )
    return out


class ScriptedRunner:
    """Emits the script at once; then finishes (``finish=True``) or waits for stop()."""

    def __init__(self, config: RunConfig, sink: SnapshotSink, *, finish: bool) -> None:
        self.config = config
        self.sink = sink
        self.finish = finish
        self._stopped = anyio.Event()

    async def run(self) -> RunResult:
        deltas = scripted_deltas()
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
