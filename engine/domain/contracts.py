"""What one webhook delivery carries, whoever built it.

The compiled scenario files (engine/scenario/compiler.py) build an
:class:`Event` per state; the sender signs it, delivers it, delivers it again
with the same id or out of order (engine/scenario/send.py, faults.py)
without knowing how it was built. (The hand-written ``ingest`` and ``plan``
builders that lived here until December 2026 are bench/baseline_contracts.py,
the baseline of bench/builders.py and tests/test_scenario_golden.py.)
"""

from __future__ import annotations

from typing import NamedTuple


class Event(NamedTuple):
    """One webhook delivery's content: its id (the payload's event id, also sent
    in the scenario's ``correlation_header`` when it names one), its headers,
    and its body bytes.

    Immutable; a NamedTuple rather than a frozen dataclass because one is built
    per request, in half the time (docs/PERFORMANCE.md, section 9)."""

    event_id: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
