"""``--timeline PATH``: one row per second of the run, as NDJSON or CSV.

Deltas arrive about every 250 ms and do not line up with whole seconds. Each
delta goes *whole* into the second its end falls in (``[t, t + 1)``, the
same rule as :meth:`engine.metrics.window.SnapshotWindow.per_second`), never split:
a split histogram or error count would have to be rounded, and then the rows
would no longer add up to the summary. So every count in the rows sums
exactly to the run's total; the price is that a row may hold up to one
delta (~250 ms) of the second before it. Seconds without any delta (a
stalled generator) get a row of zeros, so ``t`` has no holes; the last,
partial second is written by :meth:`Timeline.finish`. ``span_s`` says how
many seconds of the run a row's deltas cover (the last row's is short), so a
rate is ``count / span_s``.

CSV (when PATH ends in ``.csv``) has the fixed :func:`columns` (per endpoint
of the scenario: ``ingest``'s are :data:`COLUMNS`); NDJSON rows have the same
keys plus ``codes``, every status code seen that second.
``loop_lag_p99_ms`` and ``cpu_pct`` are the highest of any shard's (the
generator's health is judged per shard; its CPU shares do not add up).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from engine.domain.shape import INGEST_SHAPE, Shape
from engine.metrics.histogram import percentiles
from engine.metrics.saturation import judge
from engine.metrics.stats import ERROR_KINDS, Snapshot

Row = dict[str, Any]
Gauge = Callable[[], float | None]


def columns(endpoints: tuple[str, ...]) -> tuple[str, ...]:
    """The CSV header of a scenario with these endpoint names, in order."""
    return (
        "t",
        "requests",
        "success",
        "errors",
        "cancelled",
        *endpoints,
        *(f"{e}_errors" for e in endpoints),
        *(f"errors_{k}" for k in ERROR_KINDS),
        *(f"codes_{c}xx" for c in range(1, 6)),
        "p50_ms",
        "p95_ms",
        "p99_ms",
        "max_ms",
        *(f"{e}_p99_ms" for e in endpoints),
        "vus",
        "arrival_rate",
        "loop_lag_p99_ms",
        "cpu_pct",
        "span_s",
    )


COLUMNS: tuple[str, ...] = columns(INGEST_SHAPE.endpoints)
"""``ingest``'s CSV header, in order; latencies in ms, empty (null) when there
is no data. Another scenario's has its own endpoints' columns (:func:`columns`)."""


def _ms(us: float | None) -> float | None:
    return None if us is None else round(us / 1000, 3)


def make_row(
    t: int,
    snap: Snapshot,
    vus: float | None,
    arrival_rate: float | None,
    endpoints: tuple[str, ...] = INGEST_SHAPE.endpoints,
) -> Row:
    """The row of second ``t`` from the sum of the deltas assigned to it."""
    p = percentiles(snap.latency, (50, 95, 99), snap.latency_max_us)
    row: Row = {
        "t": t,
        "requests": snap.total,
        "success": snap.success,
        "errors": snap.errors,
        "cancelled": snap.cancelled,
    }
    views = {e: snap.endpoint(e) for e in endpoints}
    row.update({e: v.total for e, v in views.items()})
    row.update({f"{e}_errors": v.errors for e, v in views.items()})
    row.update({f"errors_{k}": snap.errors_by_kind.get(k, 0) for k in ERROR_KINDS})
    classes = [0] * 5
    for code, n in snap.status_codes.items():
        if 100 <= code < 600:
            classes[code // 100 - 1] += n
    row.update({f"codes_{c + 1}xx": n for c, n in enumerate(classes)})
    row["p50_ms"], row["p95_ms"], row["p99_ms"] = _ms(p[50]), _ms(p[95]), _ms(p[99])
    row["max_ms"] = _ms(snap.latency_max_us) if snap.latency else None
    for e, v in views.items():
        row[f"{e}_p99_ms"] = _ms(percentiles(v.latency, (99,), v.latency_max_us)[99])
    row["vus"] = vus
    row["arrival_rate"] = arrival_rate
    # the generator's health is per shard: the highest shard's figures, never a sum
    sat = judge(snap)
    lag, cpu = sat.loop_lag_p99_ms, sat.cpu_pct
    row["loop_lag_p99_ms"] = None if lag is None else round(lag, 3)
    row["cpu_pct"] = None if cpu is None else round(cpu, 1)
    # the seconds of run the row's deltas cover: ~1 for a whole second, less for
    # the first and the last (partial) one, 0 for a stalled second; a rate is
    # a count over it (the HTML report's charts)
    row["span_s"] = round(max(snap.end - snap.start, 0.0), 3)
    row["codes"] = {str(c): n for c, n in sorted(snap.status_codes.items())}
    return row


class Timeline:
    """Turns deltas into per-second rows; ``vus``/``arrival_rate`` are sampled at
    each delta, and a row keeps the last sample of its second."""

    def __init__(
        self,
        *,
        vus: Gauge | None = None,
        arrival_rate: Gauge | None = None,
        shape: Shape = INGEST_SHAPE,
    ) -> None:
        self.endpoints = shape.endpoints
        self._vus = vus
        self._rate = arrival_rate
        self._second = 0
        self._acc: Snapshot | None = None
        self._last_vus: float | None = None
        self._last_rate: float | None = None

    def add(self, delta: Snapshot) -> list[Row]:
        """Take one delta; returns the rows of the seconds it completed (often none)."""
        sec = int(max(delta.end - 1e-9, 0.0))
        rows: list[Row] = []
        if sec > self._second:
            rows.append(self._row())
            rows.extend(self._empty(t) for t in range(self._second + 1, sec))
            self._second, self._acc = sec, None
        # a delta that ends in an earlier second (never from one runner) joins the
        # open row: counting it late beats losing it from the sums
        self._acc = delta if self._acc is None else self._acc + delta
        if self._vus is not None:
            self._last_vus = self._vus()
        if self._rate is not None:
            self._last_rate = self._rate()
        return rows

    def finish(self) -> list[Row]:
        """The last, partial second (nothing when no delta came at all)."""
        if self._acc is None:
            return []
        row = self._row()
        self._acc = None
        return [row]

    def _row(self) -> Row:
        acc = self._acc if self._acc is not None else Snapshot(self._second, self._second)
        return make_row(self._second, acc, self._last_vus, self._last_rate, self.endpoints)

    def _empty(self, t: int) -> Row:
        empty = Snapshot(float(t), float(t))
        return make_row(t, empty, self._last_vus, self._last_rate, self.endpoints)


class TimelineWriter:
    """The ``--timeline PATH`` sink: feed it every delta (``on_snapshot``), then
    :meth:`close`. Each row is written and flushed as its second completes, so
    the file can be followed live; :attr:`rows` keeps them for the HTML report."""

    def __init__(
        self,
        path: str | Path,
        *,
        vus: Gauge | None = None,
        arrival_rate: Gauge | None = None,
        shape: Shape = INGEST_SHAPE,
    ) -> None:
        self.path = Path(path)
        self.rows: list[Row] = []
        self._timeline = Timeline(vus=vus, arrival_rate=arrival_rate, shape=shape)
        self._csv = self.path.suffix.lower() == ".csv"
        self._file: IO[str] = self.path.open("w", newline="" if self._csv else None)
        self._writer: csv.DictWriter[str] | None = None
        if self._csv:
            header = columns(shape.endpoints)
            self._writer = csv.DictWriter(self._file, header, extrasaction="ignore")
            self._writer.writeheader()
            self._file.flush()

    def on_snapshot(self, delta: Snapshot) -> None:
        self._write(self._timeline.add(delta))

    def close(self) -> list[Row]:
        """Write the last partial second and close the file; returns every row."""
        if not self._file.closed:
            self._write(self._timeline.finish())
            self._file.close()
        return self.rows

    def _write(self, rows: list[Row]) -> None:
        if not rows:
            return
        for row in rows:
            if self._writer is not None:
                self._writer.writerow(row)
            else:
                self._file.write(json.dumps(row, separators=(",", ":")) + "\n")
        self._file.flush()
        self.rows.extend(rows)

    def __enter__(self) -> TimelineWriter:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def read_timeline(path: str | Path) -> list[Row]:
    """Rows back from a timeline file (CSV cells become numbers, empty ones None)."""
    p = Path(path)
    with p.open(newline="") as f:
        if p.suffix.lower() != ".csv":
            return [json.loads(line) for line in f if line.strip()]
        return [{k: _number(v) for k, v in r.items()} for r in csv.DictReader(f)]


def _number(cell: str) -> float | int | None:
    if cell == "":
        return None
    try:
        return int(cell)
    except ValueError:
        return float(cell)
