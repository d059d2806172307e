"""Ramp stages (``--stages "30s:10,1m:100,30s:0"``): parsing and their exact schedule.

Each stage ramps linearly from where the previous one ended (the first from
the start value: ``--rate`` or ``--vus`` when given, else 0) to its target,
over its duration; the run lasts their sum. The target is a number of VUs
(the closed model) or an arrival rate per second (the open model, ``--rate``).

Both schedules are computed in closed form, never by sampling a clock, so
they are exact on virtual time and do not drift on real time:
:func:`vu_changes` lists when the VU target becomes each whole number (when
the line reaches it), and :func:`arrival_offsets` solves for when the
``k``-th arrival is due (the integral of the rate reaches ``k``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass

from engine.domain.durations import format_duration, parse_duration

EXPECTED = "stages like 30s:10,1m:100,30s:0 (DURATION:TARGET, comma-separated)"


@dataclass(frozen=True, slots=True)
class Stage:
    duration: float  # seconds, > 0
    target: float  # VUs or arrivals per second, >= 0


def parse_stages(text: str) -> tuple[Stage, ...]:
    """``DURATION:TARGET,...``; raises ValueError (the caller names the flag)."""
    stages = []
    for part in text.split(","):
        duration, sep, target = part.strip().partition(":")
        if not sep:
            raise ValueError(text)
        seconds = parse_duration(duration.strip())
        value = float(target.strip())
        if seconds <= 0 or not 0 <= value < math.inf:
            raise ValueError(text)
        stages.append(Stage(seconds, value))
    return tuple(stages)


def format_stages(stages: tuple[Stage, ...]) -> str:
    """The canonical text of ``stages`` (what the config keeps)."""
    return ",".join(f"{format_duration(s.duration)}:{format_target(s.target)}" for s in stages)


def format_target(value: float) -> str:
    """A stage target as text that parses back to the same number (``100``,
    ``7.5``, ``1234567``; ``:g`` rounded to six digits: 1234567 became 1.23457e+06)."""
    if isinstance(value, int):
        return str(value)
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def total_duration(stages: tuple[Stage, ...]) -> float:
    return sum(s.duration for s in stages)


def mean_rate(stages: tuple[Stage, ...], start: float) -> float:
    """The mean of the rate over the stages (each a straight line from the last
    target): what a run asked on average, and what its achieved rate compares with."""
    total, begin = 0.0, start
    for s in stages:
        total += (begin + s.target) / 2 * s.duration
        begin = s.target
    whole = total_duration(stages)
    return total / whole if whole > 0 else start


def target_at(stages: tuple[Stage, ...], start: float, t: float) -> tuple[int, float]:
    """Which stage runs at ``t`` seconds (0-based; the last one after the end) and
    its linear target there (for the live view)."""
    begin, value = 0.0, start
    for i, s in enumerate(stages):
        if t < begin + s.duration:
            return i, value + (s.target - value) * (t - begin) / s.duration
        begin, value = begin + s.duration, s.target
    return max(0, len(stages) - 1), value


def vu_changes(stages: tuple[Stage, ...], start: int) -> list[tuple[float, int]]:
    """When the VU target becomes each whole number: ``(seconds, vus)`` in time
    order, the line from ``a`` to ``b`` reaching ``n`` at ``(n - a)/(b - a)`` of
    its stage (down as up). Whole-number targets only (the config checks)."""
    out: list[tuple[float, int]] = []
    begin, a = 0.0, start
    for s in stages:
        b = int(s.target)
        step = 1 if b > a else -1
        for n in range(a + step, b + step, step) if b != a else ():
            out.append((begin + s.duration * (n - a) / (b - a), n))
        begin, a = begin + s.duration, b
    return out


def arrival_offsets(stages: tuple[Stage, ...], start: float) -> Iterator[float]:
    """When arrival k = 0, 1, 2... is due, in seconds from the start: when the
    integral of the rate reaches k (as the constant rate's k/R; the arrival at 0
    only when the rate starts above 0). Ends with the last stage."""
    begin, a, done, k = 0.0, start, 0.0, 0 if start > 0 else 1
    for s in stages:
        b, d = s.target, s.duration
        c = (b - a) / (2 * d)  # the rate's integral over the stage: a*x + c*x^2
        whole = a * d + c * d * d
        while k <= done + whole:
            m = k - done
            # the root of c*x^2 + a*x - m = 0 in the stable form (no 0/0 when c = 0)
            root = a + math.sqrt(max(0.0, a * a + 4 * c * m))
            x = 2 * m / root if root > 0 else 0.0
            if x >= d:
                break
            yield begin + x
            k += 1
        begin, a, done = begin + d, b, done + whole


@dataclass(frozen=True, slots=True)
class LoadShare:
    """A shard's view of the whole run's load model (``--vus``/``--rate`` start
    and ``--stages`` text) and how many shards share it: each takes its part of
    the whole at every moment (:func:`shard_vu_changes`, :func:`shard_arrival_offsets`)."""

    of: int
    start: float
    stages: str = ""


def share(x: int, i: int, n: int) -> int:
    """Shard ``i`` of ``n``'s part of ``x`` whole VUs: the parts add up to ``x``
    exactly (the sum telescopes) and differ by at most one."""
    return x * (i + 1) // n - x * i // n


def shard_vu_changes(
    stages: tuple[Stage, ...], start: int, i: int, n: int
) -> tuple[int, list[tuple[float, int]]]:
    """Shard ``i`` of ``n``'s start and VU changes: its :func:`share` of the whole
    run's target at every moment (not a ramp of its own from floored stage
    targets, whose floors lagged: ``3s:4`` on 2 shards ran nothing until 1.5 s
    where one worker ran a VU from 0.75 s). All shards change at the whole
    run's instants, so their counts add up to the one-worker count at all times."""
    changes = [(t, share(x, i, n)) for t, x in vu_changes(stages, start)]
    return share(start, i, n), changes


def shard_arrival_offsets(offsets: Iterator[float], i: int, n: int) -> Iterator[float]:
    """Shard ``i`` of ``n``'s arrivals: the whole run's arrivals ``k`` with
    ``k mod n == i``, so the shards' merged schedule *is* the one-worker one
    (each first arrival at ``t0`` doubled the arrivals of a short run), and each
    shard's rate is a share of the rate at every moment."""
    return itertools.islice(offsets, i, None, n)


def constant_offsets(rate: float) -> Iterator[float]:
    """Arrival ``k`` at ``k/R``: the constant rate's schedule (from the start,
    never from the previous arrival, so errors do not add up)."""
    return (k / rate for k in itertools.count())
