"""Which answers a request expects: the verdict on a response is a function of
what the request was, not one fixed rule.

One fixed rule (any 2xx a success, anything else an error) is right for a
first delivery and a read, and wrong for what comes next: a deliberate
duplicate delivery that a strict receiver answers 409 ("already stored")
got what it should, and so did an event sent ahead of the
one it depends on that comes back 404. CONTRACT.md: a load tester must never
*assume* one code for those; it counts what came back as expected or not.
But a 5xx is never a success, whatever was sent (issue 19): for a duplicate
or an early event, every answer below 500 is no error, and
engine/scenario/faults.py counts it by its class (handled, refused, applied).

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
    READ = "read"  # a read through the read API (a list)
    READ_BACK = "read_back"  # GET /orders/{id} of an order whose every event was accepted


def _table(accepted: Callable[[int], bool]) -> Table:
    return tuple(accepted(status) for status in range(STATUS_CODES))


def _ok(status: int) -> bool:
    """2xx. A 3xx is never a success: no transport follows it (a signed webhook
    must not go to a host nobody chose), so nothing was delivered (as Stripe
    and Svix count it); its kind is ``redirect``."""
    return status < 300


def _delivered(status: int) -> bool:
    """A webhook is delivered on a 2xx only: every provider in docs/SIGNING.md's
    table retries anything else, and Stripe, Svix and the Standard Webhooks spec
    name a 3xx a failure (no client follows a redirect: a 302 to a POST would
    turn into a GET elsewhere)."""
    return 200 <= status < 300


ACCEPTS: Mapping[Expect, Table] = MappingProxyType(
    {
        Expect.FIRST: _table(_delivered),
        # issue 19: a fault delivery is handled by a 2xx (or 409: already seen);
        # another 4xx refuses it (counted apart: a provider would retry it), and
        # an early event refused with a 4xx is expected: neither is an error.
        # A 5xx or no answer is an error, and so is a 1xx/3xx (issue 22: a
        # redirect is never followed, nothing was delivered).
        # engine/scenario/faults.py splits them by answer class.
        Expect.DUPLICATE: _table(lambda s: _delivered(s) or 400 <= s < 500),
        Expect.EARLY: _table(lambda s: _delivered(s) or 400 <= s < 500),
        Expect.READ: _table(_ok),
        # issue 19: an accepted order not readable yet (Kafka/inbox mode apply
        # after their 202) is "not yet visible", never an error
        Expect.READ_BACK: _table(lambda s: _ok(s) or s == 404),
    }
)
"""``ACCEPTS[expect][status]``: does this answer count as the expected one (a
success), or as an error?"""


def accepted(expect: Expect, status: int) -> bool:
    """The verdict on one answer (out-of-range codes are never accepted); the
    hot path indexes :data:`ACCEPTS`'s table directly instead."""
    return 0 <= status < STATUS_CODES and ACCEPTS[expect][status]
