"""Each virtual user's random stream, from which its journeys are drawn."""

from __future__ import annotations

import random


def vu_rng(seed: int | None, shard: int, vu: int) -> random.Random:
    """Each VU's RNG: reproducible per (shard, VU) under ``--seed``, fresh otherwise.

    Shards number their VUs from 0 each, so the shard is part of the stream's
    seed, or every shard would replay the others' choices. Shard 0 keeps the
    seed string of a single-process run (``"seed:vu"``), so a ``--seed`` repeats
    the same choices as before there were shards; the others' strings have
    three parts (``"seed:shard:vu"``) and so can never equal one of shard 0's."""
    if seed is None:
        return random.Random()
    return random.Random(f"{seed}:{vu}" if shard == 0 else f"{seed}:{shard}:{vu}")
