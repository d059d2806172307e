"""Which answers a request expects: the verdict on a response is a function of
what the request was, not one fixed rule.

One fixed rule (any 2xx a success, anything else an error) is right for a
first delivery and a read, and wrong for what comes next: a deliberate
duplicate delivery that a strict receiver answers 409 ("already stored")
got what it should, and so did an event sent ahead of the
one it depends on that comes back 404. CONTRACT.md: a load tester must never
*assume* one code for those; it counts what came back as expected or not.

Each kind of request has a precomputed table (a tuple indexed by status
code), so judging a response costs one index on the hot path. HTTP status
codes are three digits (every transport's parser insists), so a table covers
0..999.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import Enum
from types import MappingProxyType

STATUS_CODES = 1000
"""Table length: one entry per three-digit status code (and 0..99, never sent)."""

Table = tuple[bool, ...]


class Expect(Enum):
    """What a request is, as far as judging its answer goes."""

    FIRST = "first"  # an event's first delivery
    DUPLICATE = "duplicate"  # the same event (same id) delivered again on purpose
    EARLY = "early"  # an event delivered before the one it depends on (out of order)
    READ = "read"  # a read-back through the read API


def _table(accepted: Callable[[int], bool]) -> Table:
    return tuple(accepted(status) for status in range(STATUS_CODES))


def _ok(status: int) -> bool:
    """2xx. A 3xx is never a success: no transport follows it (a signed webhook
    must not go to a host nobody chose), so nothing was delivered (as Stripe
    and Svix count it); its kind is ``redirect``."""
    return status < 300


ACCEPTS: Mapping[Expect, Table] = MappingProxyType(
    {
        Expect.FIRST: _table(_ok),
        # a strict receiver (the reference target) deduplicates with 409, the
        # public service applies the replay again with 202: both are right
        Expect.DUPLICATE: _table(lambda s: _ok(s) or s == 409),
        # a strict receiver does not know the order (or dispute) yet: 404
        Expect.EARLY: _table(lambda s: _ok(s) or s == 404),
        Expect.READ: _table(_ok),
    }
)
"""``ACCEPTS[expect][status]``: does this answer count as the expected one (a
success), or as an error?"""


def accepted(expect: Expect, status: int) -> bool:
    """The verdict on one answer (out-of-range codes are never accepted); the
    hot path indexes :data:`ACCEPTS`'s table directly instead."""
    return 0 <= status < STATUS_CODES and ACCEPTS[expect][status]
