"""What the live panels show, computed once per refresh from the snapshot window."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from engine.domain.shape import INGEST_SHAPE, Shape
from engine.metrics.saturation import Saturation, judge
from engine.metrics.stats import Snapshot
from engine.metrics.window import SnapshotWindow
from engine.outputs.thresholds import Threshold, ThresholdResult
from tui.widgets.seconds import LatencySeconds, SecondPoint

SPARK_SECONDS = 60


def _pad(series: list[float]) -> list[float]:
    """Always 60 points, zeros before the run began: the sparkline then scales
    from zero and a run's first seconds do not fill the whole width."""
    return [0.0] * (SPARK_SECONDS - len(series)) + series


@dataclass(frozen=True, slots=True)
class LiveData:
    total: Snapshot
    last10: Snapshot
    rate: float
    errors_per_s: list[float]
    requests_per_s: list[float]
    elapsed: float
    duration: float
    state: str  # idle | starting | running | stopping | finished
    saturation: Saturation
    chart: tuple[SecondPoint, ...] = ()  # the last 60 complete seconds
    thresholds: tuple[ThresholdResult, ...] = ()  # judged on the total so far
    endpoint_rates: tuple[float, ...] = (0.0, 0.0, 0.0)  # last complete second, by endpoint
    stage: str = ""  # with --stages: "stage 2/3, target 55 VUs"
    shape: Shape = INGEST_SHAPE  # the scenario's endpoints and flows, as the panels name them

    @classmethod
    def from_window(
        cls,
        w: SnapshotWindow,
        duration: float,
        state: str,
        seconds: LatencySeconds | None = None,
        thresholds: tuple[Threshold, ...] = (),
        stage: str = "",
        shape: Shape = INGEST_SHAPE,
    ) -> LiveData:
        return cls(
            total=w.total,
            last10=w.last_latency(10.0),
            rate=w.rate(1.0),
            # completed seconds only: the sparklines then change once a second
            errors_per_s=_pad(w.per_second("errors", SPARK_SECONDS, complete=True)),
            requests_per_s=_pad(w.per_second("total", SPARK_SECONDS, complete=True)),
            elapsed=w.now,
            duration=duration,
            state=state,
            saturation=judge(w.last_health(2.0)),
            chart=seconds.points() if seconds is not None else (),
            thresholds=tuple(t.evaluate(w.total) for t in thresholds),
            stage=stage,
            endpoint_rates=tuple(
                (w.per_second(_count(name), 1, complete=True) or [0.0])[-1]
                for name in shape.endpoints
            ),
            shape=shape,
        )


def _count(name: str) -> Callable[[Snapshot], float]:
    """Endpoint ``name``'s completed requests in a delta."""
    return lambda d: d.count(name)
