"""Which load model a run drives, and how many connections it needs.

Apart from :mod:`engine.run.runner` because it is pure arithmetic on the
config: the flags that shape the load (``--rate``, ``--vus``, ``--stages``,
``--max-inflight``) and, in a sharded run, this shard's share of the whole
schedule (:class:`~engine.domain.stages.LoadShare`) become one
:class:`~engine.load.base.LoadModel` with its random streams per (seed,
shard, VU). Nothing here runs anything; the runner drives what it returns.
"""

from __future__ import annotations

from engine.config import RunConfig
from engine.domain.stages import (
    LoadShare,
    arrival_offsets,
    constant_offsets,
    parse_stages,
    shard_arrival_offsets,
    shard_vu_changes,
    vu_changes,
)
from engine.load.base import LoadModel
from engine.load.closed import ClosedModel
from engine.load.open import OpenModel
from engine.metrics.stats import Stats
from engine.scenario.rng import vu_rng

__all__ = ["load_model", "max_vus", "transport_pool"]


def transport_pool(config: RunConfig) -> int:
    """Connections at most: one per journey in flight."""
    return config.max_inflight if config.rate else max_vus(config)


def max_vus(config: RunConfig) -> int:
    """The most VUs the closed model runs at once (its ramp stages' peak)."""
    stages = parse_stages(config.stages) if config.stages else ()
    return max([config.vus, *(int(s.target) for s in stages)])


def load_model(cfg: RunConfig, shard: int, part: LoadShare | None, stats: Stats) -> LoadModel:
    """Arrivals at ``--rate`` (the open model), else ``--vus`` looping users;
    ``stats`` counts the open model's arrivals and drops."""
    seed = cfg.seed
    if part is not None and part.of > 1 and (cfg.rate or part.stages):
        return _shared_model(cfg, shard, part, stats)
    stages = parse_stages(cfg.stages) if cfg.stages else ()
    if cfg.rate:
        offsets = arrival_offsets(stages, cfg.rate) if stages else None
        rng = vu_rng(seed, shard, 0)
        return OpenModel(cfg.rate, cfg.max_inflight, rng, stats, offsets)
    changes = vu_changes(stages, cfg.vus) if stages else ()
    return ClosedModel(cfg.vus, cfg.think, lambda vu: vu_rng(seed, shard, vu), changes)


def _shared_model(cfg: RunConfig, shard: int, part: LoadShare, stats: Stats) -> LoadModel:
    """This shard's part of the whole run's schedule at every moment, so the
    shards add up to the one-worker run (see :class:`LoadShare`)."""
    seed = cfg.seed
    whole = parse_stages(part.stages) if part.stages else ()
    if cfg.rate:
        every = arrival_offsets(whole, part.start) if whole else constant_offsets(part.start)
        offsets = shard_arrival_offsets(every, shard, part.of)
        rng = vu_rng(seed, shard, 0)
        return OpenModel(cfg.rate, cfg.max_inflight, rng, stats, offsets)
    start, changes = shard_vu_changes(whole, int(part.start), shard, part.of)
    return ClosedModel(start, cfg.think, lambda vu: vu_rng(seed, shard, vu), changes)
