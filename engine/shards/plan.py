"""How a run's load is shared out among its shards.

Shard ``i`` of ``n`` gets the part of ``[0, total)`` between the boundaries
``total·i/n`` and ``total·(i+1)/n``:

- integers (VUs): ``floor(total·(i+1)/n) − floor(total·i/n)``, in exact
  integer arithmetic. The shares add up to ``total`` exactly (the sum
  telescopes) and differ by at most 1, the larger ones spread evenly rather
  than piled on the first shards.
- floats (an arrival rate, fractional allowed): the same boundaries without
  the floor, ``b_i = total·i/n`` in floating point with ``b_n = total``
  itself, and share ``i`` is ``b_{i+1} − b_i``. Each subtraction is exact (the
  boundaries rise monotonically and ``b_i ≤ b_{i+1} ≤ 2·b_i`` from ``i = 1``
  on, Sterbenz's lemma; ``b_2 = 2·b_1`` exactly), so the shares add up to the
  total *exactly* when summed exactly (``math.fsum``); a plain left-to-right
  ``sum()`` may be off by the last bits. Each share is within rounding of
  ``total / n``.

Ramp stages (``--stages``) are split in each shard's config the same way,
stage by stage, but only the connection pool and the open-file check use
those numbers: at run time every shard follows the whole run's load model
(:class:`engine.domain.stages.LoadShare`, set by the coordinator) and takes
its share of the whole at every moment: its :func:`~engine.domain.stages.share`
of the whole run's VU count, or every n-th arrival of the whole schedule. So
the shards add up to the one-worker run at all times, not only at stage
boundaries (floored per-shard ramps lagged: ``3s:4`` on 2 shards ran nothing
until 1.5 s). All shards start at one epoch, picked once every shard is ready
(:mod:`engine.shards.gate`).
"""

from __future__ import annotations

from typing import overload

from engine.domain.stages import format_target, parse_stages


@overload
def split(total: int, n: int) -> list[int]: ...


@overload
def split(total: float, n: int) -> list[float]: ...


def split(total: int | float, n: int) -> list[int] | list[float]:
    """``total`` shared out among ``n`` shards, shard 0 first (see the module
    docstring); an ``int`` total gives ``int`` shares."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"the number of shards must be a positive integer, got {n!r}")
    if isinstance(total, bool) or not isinstance(total, int | float) or not total >= 0:
        raise ValueError(f"the total to split must be a number >= 0, got {total!r}")
    if isinstance(total, int):
        return [total * (i + 1) // n - total * i // n for i in range(n)]
    if total == float("inf"):
        raise ValueError("the total to split must be finite, got inf")
    bounds = [total * i / n for i in range(n)] + [total]
    return [bounds[i + 1] - bounds[i] for i in range(n)]


def split_stages(text: str, n: int, *, whole: bool) -> list[str]:
    """``--stages`` text shared out among ``n`` shards, shard 0 first: each stage's
    target split with :func:`split` (as whole VUs when ``whole``, else as a rate),
    durations kept as written. Rates are written with ``repr``, so a shard reads
    back exactly its share."""
    stages = parse_stages(text)
    durations = [part.partition(":")[0].strip() for part in text.split(",")]
    shares = [split(int(s.target), n) if whole else split(float(s.target), n) for s in stages]
    return [
        ",".join(f"{d}:{format_target(shares[k][i])}" for k, d in enumerate(durations))
        for i in range(n)
    ]


def workers_warning(workers: int, cores: int | None) -> str | None:
    """One line when ``--workers`` asks for more engine processes than the machine
    has cores: they share the cores, so each runs slower than alone (more
    processes do not add throughput past one per core) and the common start
    waits longer for all of them to be ready. They no longer start late (the
    start is a handshake, :mod:`engine.shards.gate`), so that is not said."""
    if cores is None or workers <= cores:
        return None
    return (
        f"warning: --workers {workers} is more than this machine's {cores} cores: the"
        f" shards share them, each slower; --workers auto is one per core"
    )
