"""What a virtual user sends: order lifecycles and, for some, a dispute.

The plan's ``pickNextStatus`` took the first valid candidate, so with the real
domain (``updated -> updated`` allowed) no order ever left ``updated``. Here
the next status is drawn at random among the valid ones, and ``updated``
steps are bounded, so every scenario ends.

Choices are drawn up front from the VU's own RNG, independent of what the
service answers, so ``--seed`` reproduces the sequence of choices exactly.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from engine.domain.statuses import (
    TERMINAL_ORDER_STATUSES,
    DisputeStatus,
    OrderStatus,
    Resolution,
    can_dispute_move_to,
    next_order_statuses,
)


def _order_options(current: OrderStatus | None, capped: bool) -> tuple[OrderStatus, ...]:
    """The statuses an order in ``current`` may move to (the domain's), ``updated``
    left out once ``capped`` (the ``--max-updates`` bound was reached)."""
    options = next_order_statuses(current)
    if capped:
        options = tuple(s for s in options if s is not OrderStatus.UPDATED)
    return options


# every (status, capped) pair, once: planning runs per journey, on the hot path
_ORDER_OPTIONS = {(c, u): _order_options(c, u) for c in (None, *OrderStatus) for u in (False, True)}


def choose_next_status(
    rng: random.Random, current: OrderStatus | None, updates_done: int, max_updates: int
) -> OrderStatus:
    """A uniformly random valid next status; ``updated`` only while under the bound."""
    options = _ORDER_OPTIONS[current, updates_done >= max_updates]
    return options[int(rng.random() * len(options))]


def plan_order(rng: random.Random, max_updates: int) -> tuple[OrderStatus, ...]:
    """The whole status sequence of one order: ``created`` ... ``success|failed``.

    :func:`choose_next_status` inlined (the same table, the same one draw per
    step, so a ``--seed`` plans the same orders): a call per step was a third
    of planning (docs/PERFORMANCE.md, section 8)."""
    seq: list[OrderStatus] = []
    current: OrderStatus | None = None
    updates = 0
    draw = rng.random
    while current not in TERMINAL_ORDER_STATUSES:
        options = _ORDER_OPTIONS[current, updates >= max_updates]
        current = options[int(draw() * len(options))]
        if current is _UPDATED:
            updates += 1
        seq.append(current)
    return tuple(seq)


_UPDATED = OrderStatus.UPDATED


@dataclass(frozen=True, slots=True)
class DisputePlan:
    """``opened`` -> maybe ``updated`` (p = 0.5) -> ``closed`` with a resolution."""

    statuses: tuple[DisputeStatus, ...]
    resolution: Resolution


def _dispute_options(current: DisputeStatus | None, updated: bool) -> tuple[DisputeStatus, ...]:
    """The statuses a dispute in ``current`` may move to, in the enum's order,
    ``updated`` left out once it was sent (the lifecycle is the domain's)."""
    return tuple(
        s
        for s in DisputeStatus
        if can_dispute_move_to(current, s) and not (updated and s is DisputeStatus.UPDATED)
    )


# every (status, updated yet) pair, once: planning runs per journey, on the hot path
_DISPUTE_OPTIONS = {
    (c, u): _dispute_options(c, u) for c in (None, *DisputeStatus) for u in (False, True)
}


# the plans drawn so far, by (statuses, resolution): a lifecycle with at most one
# ``updated`` has a handful, and a frozen plan can be handed to every journey
_DISPUTE_PLANS: dict[tuple[tuple[DisputeStatus, ...], Resolution], DisputePlan] = {}
_D_UPDATED = DisputeStatus.UPDATED


def plan_dispute(rng: random.Random) -> DisputePlan:
    """Walk the domain's dispute lifecycle (as orders walk theirs), with at most
    one ``updated``; a draw only where the lifecycle leaves a choice.

    Drawn for every journey (so a ``--seed`` stream does not depend on the
    order's outcome), so the frozen plan is looked up, not built: building one
    was a third of this function's time (docs/PERFORMANCE.md, section 8)."""
    statuses: list[DisputeStatus] = []
    current: DisputeStatus | None = None
    updated = False
    draw = rng.random
    while options := _DISPUTE_OPTIONS[current, updated]:
        current = options[int(draw() * len(options))] if len(options) > 1 else options[0]
        updated = updated or current is _D_UPDATED
        statuses.append(current)
    key = (tuple(statuses), Resolution.WON if draw() < 0.5 else Resolution.LOST)
    plan = _DISPUTE_PLANS.get(key)
    if plan is None:
        plan = _DISPUTE_PLANS[key] = DisputePlan(*key)
    return plan


@dataclass(frozen=True, slots=True)
class Journey:
    """One VU iteration: an order, whether a dispute follows its success, whether
    its final state is read back; and the delivery faults (``--duplicate-rate``,
    ``--reorder-rate``): ``duplicates`` has bit ``i`` set when webhook ``i``
    (the order's steps, then the dispute's) is delivered twice once accepted;
    ``early_order``/``early_dispute``: its second event goes before its first."""

    order: tuple[OrderStatus, ...]
    dispute: DisputePlan | None
    read_back: bool
    duplicates: int = 0
    early_order: bool = False
    early_dispute: bool = False
    retry_seed: int = 0  # seeds the backoff jitter of this journey's retries (--retries)


def plan_journey(
    rng: random.Random,
    *,
    max_updates: int,
    dispute_ratio: float,
    read_ratio: float,
    duplicate_rate: float = 0.0,
    reorder_rate: float = 0.0,
    retries: int = 0,
) -> Journey:
    """Draw every choice of one iteration. The dispute is sent only if the order's
    ``success`` is accepted, so the share of disputes per accepted success is
    ``dispute_ratio``. Fault draws come last, and only when asked for, so a
    ``--seed`` without faults repeats the journeys it always did."""
    order = plan_order(rng, max_updates)
    wants_dispute = rng.random() < dispute_ratio
    dispute = plan_dispute(rng)
    read_back = rng.random() < read_ratio
    use_dispute = wants_dispute and order[-1] is OrderStatus.SUCCESS
    if not (duplicate_rate or reorder_rate or retries):
        return Journey(order, dispute if use_dispute else None, read_back)
    duplicates = 0
    if duplicate_rate:
        for i in range(len(order) + len(dispute.statuses)):
            if rng.random() < duplicate_rate:
                duplicates |= 1 << i
    early_order = early_dispute = False
    if reorder_rate:
        early_order = rng.random() < reorder_rate
        early_dispute = rng.random() < reorder_rate
    retry_seed = rng.getrandbits(32) if retries else 0
    return Journey(
        order,
        dispute if use_dispute else None,
        read_back,
        duplicates,
        early_order,
        early_dispute,
        retry_seed,
    )


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
