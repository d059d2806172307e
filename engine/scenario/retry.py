"""--retries: which failed deliveries are sent again, and how long to wait first.

A retry waits its own backoff with jitter, or as long as the answer's
``Retry-After`` asked (capped at :data:`RETRY_AFTER_CAP_S`), whichever is longer.
A journey's :class:`Retry` draws its jitter from an RNG seeded by the journey
(itself drawn from the VU's RNG), so a seed's retries wait the same each run.
"""

from __future__ import annotations

import random

from engine.domain.outcomes import ErrorKind

RETRY_KINDS = frozenset({ErrorKind.CONNECT.value, ErrorKind.TIMEOUT.value})
"""Errors without an answer that are retried (besides 5xx and 429 answers)."""
RETRIED_STATUS = "retry:"
"""Prefix of the per-answer ``delivery`` keys of the answers a delivery was sent
again after (``retry:500``, ``retry:timeout``): the status codes count each
delivery's last answer, so without these a retried 500 showed nowhere but in
``retries=`` (the summary's ``Retried answers:`` line, the JSON's
``delivery_answers.retried``)."""
RETRY_BASE_S = 0.1
"""--retries: the first retry waits about this long, each next one twice as long."""
RETRY_CAP_S = 10.0
RETRY_AFTER_CAP_S = 60.0
"""The longest a ``Retry-After`` is honoured: a server asking for an hour does
not stall a VU for an hour (and a stop or the deadline cancels any wait)."""


class Retry:
    """One journey's retry policy: ``limit`` retries per delivery, the jitter drawn
    from an RNG seeded by the journey (itself drawn from the VU's RNG)."""

    __slots__ = ("_rng", "_seed", "limit")

    def __init__(self, seed: int, limit: int) -> None:
        self._seed = seed
        self._rng: random.Random | None = None  # made on the first retry only
        self.limit = limit

    def delay(self, attempt: int) -> float:
        """Exponential backoff with jitter: uniform in [d/2, d], d = base * 2^(attempt-1)."""
        if self._rng is None:
            self._rng = random.Random(self._seed)
        d: float = min(RETRY_CAP_S, RETRY_BASE_S * 2.0 ** (attempt - 1))
        return d * (0.5 + 0.5 * self._rng.random())

    def wait(self, attempt: int, retry_after: float | None) -> float:
        """How long to wait before retry number ``attempt``: the backoff, or the
        answer's ``Retry-After`` (capped) when that is longer. The jitter is drawn
        either way, so a seed's later waits do not depend on the server's hints."""
        d = self.delay(attempt)
        return d if retry_after is None else max(d, min(retry_after, RETRY_AFTER_CAP_S))
