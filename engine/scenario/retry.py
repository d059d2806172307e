"""--retries: which failed deliveries are sent again, and how long to wait first.

Without a delivery policy, a retry waits its own backoff with jitter, or as
long as the answer's ``Retry-After`` asked (capped at :data:`RETRY_AFTER_CAP_S`),
whichever is longer. A journey's :class:`Retry` draws its jitter from an RNG
seeded by the journey (itself drawn from the VU's RNG), so a seed's retries
wait the same each run.

With a scenario's delivery policy (:class:`RetryPlan`, issue 22), retries
follow the provider instead: every answer the provider does not count as
delivered and every failure without an answer is retried, after the
policy's schedule divided by ``--retry-speed`` (no jitter, no Retry-After: a
provider plays its own table), and each retry carries the policy's retry
headers (Slack's ``X-Slack-Retry-Num``). A policy whose provider retries
nothing plays its documented redeliveries instead (GitHub's: ``Policy.resends``),
the same way.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from engine.domain.outcomes import ErrorKind
from engine.domain.policies import Policy, retry_reason

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


@dataclass(frozen=True, slots=True)
class RetryPlan:
    """A delivery policy as the retry loop plays it: its waits already divided
    by ``--retry-speed`` and cut to ``--retries``, its success codes as a table."""

    waits: tuple[float, ...]
    success: tuple[bool, ...]  # indexed by status: the provider counts it delivered
    headers: tuple[tuple[str, str], ...] = ()  # (name, template over {attempt} {reason})

    @classmethod
    def of(cls, policy: Policy, retries: int, speed: float) -> RetryPlan:
        return cls(policy.scaled(speed)[:retries], policy.success_table(), policy.retry_headers)

    def headers_for(self, attempt: int, kind: str | None) -> tuple[tuple[str, str], ...]:
        """The headers retry number ``attempt`` adds; ``kind``: the transport
        error that failed the attempt before it (None: it got an answer)."""
        reason = retry_reason(kind)
        return tuple(
            (name, value.format(attempt=attempt, reason=reason)) for name, value in self.headers
        )


class Retry:
    """One journey's retry policy: ``limit`` retries per delivery, the jitter drawn
    from an RNG seeded by the journey (itself drawn from the VU's RNG); with a
    ``plan``, the provider's (see the module's docstring)."""

    __slots__ = ("_rng", "_seed", "limit", "plan")

    def __init__(self, seed: int, limit: int, plan: RetryPlan | None = None) -> None:
        self._seed = seed
        self._rng: random.Random | None = None  # made on the first retry only
        self.plan = plan
        self.limit = limit if plan is None else min(limit, len(plan.waits))

    def retries_answer(self, status: int) -> bool:
        """Whether an answer that was not the expected one is sent again: a 5xx
        or a 429, or with a plan anything the provider does not count delivered."""
        plan = self.plan
        if plan is None:
            return status >= 500 or status == 429
        return not plan.success[status] if 0 <= status < len(plan.success) else True

    def retries_error(self, kind: str) -> bool:
        """Whether a failure without an answer is sent again: a connection error
        or a timeout, or with a plan any (a provider retries whatever failed)."""
        return self.plan is not None or kind in RETRY_KINDS

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
        if self.plan is not None:
            return self.plan.waits[attempt - 1]
        d = self.delay(attempt)
        return d if retry_after is None else max(d, min(retry_after, RETRY_AFTER_CAP_S))
