"""The names a snapshot's counters go by: endpoint ids, and the JSON keys of
its delivery, error and scenario counters, in their order.

Apart from engine/metrics/snapshot.py because they are vocabulary, not
arithmetic: the JSON, Prometheus, the timeline and the summary print them,
and none of them needs a :class:`~engine.metrics.snapshot.Snapshot` to do so.
Re-exported by engine/metrics/stats.py, where importers find them.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from engine.domain.outcomes import ErrorKind, ScenarioKey
from engine.domain.shape import INGEST_SHAPE

ENDPOINTS = INGEST_SHAPE.endpoints
"""``ingest``'s endpoint names by index, the default of
:class:`~engine.metrics.stats.Stats`; ``disputes`` is the chargebacks path.
Another scenario's come from its Shape (engine/domain/shape.py). An endpoint's
id is looked up by its name (``shape.endpoint_index("orders")``), never
written as a number: issue 17 keys everything by the scenario's own names."""
ENDPOINT_ALIASES: Mapping[str, int] = MappingProxyType(
    {
        **{name: i for i, name in enumerate(ENDPOINTS)},
        **{alias: ENDPOINTS.index(name) for alias, name in INGEST_SHAPE.aliases.items()},
    }
)

DELIVERY_KEYS = (
    # by answer class (engine/scenario/faults.py); a 5xx or no answer is an error
    "duplicates_sent",
    "duplicates_rejected",  # the "already seen" answer (409): handled
    "duplicates_accepted",  # 2xx: handled
    "duplicates_failed",  # not handled: refused + 5xx + transport + other
    "early_sent",
    "early_refused",  # a 4xx: expected (the provider retries it later)
    "early_accepted",  # 2xx: applied ahead of what it depends on
    "early_failed",  # neither: 5xx + transport + other
    "retries",
    "retries_exhausted",
    # issue 19's split of the failed ones (after issue 10's keys, in their order)
    "duplicates_refused",  # another 4xx: no error, but a provider would retry it
    "duplicates_5xx",  # an error
    "duplicates_transport",  # no answer: an error
    "duplicates_other",  # 1xx/3xx
    "early_5xx",  # an error
    "early_transport",  # no answer: an error
    "early_other",  # 1xx/3xx
)
"""The ``delivery`` counters (JSON keys), in order. The ``delivery`` mapping also
holds per-answer counts, ``dup:<status>``, ``early:<status>`` and
``retry:<status>`` (or the transport error's kind), which the JSON shows as
``delivery_answers``."""

ERROR_KINDS = tuple(k.value for k in ErrorKind)
SCENARIO_KEYS = tuple(k.value for k in ScenarioKey)
"""Plain strings (JSON keys), in the enums' order; see :mod:`engine.domain.outcomes`."""
