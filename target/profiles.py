"""How the reference target answers where receivers part: ``--profile``.

The lifecycle rules are the domain's (``engine.domain.statuses``: one verdict per
event); a profile only says what each verdict costs over HTTP. ``strict`` is
a well-behaved receiver; ``public`` answers the edge cases as the public
payment manager does (CONTRACT.md, "What the public service answers on edge
cases"), so a load test's delivery accounting can be seen against both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from engine.domain.statuses import Verdict


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    dedupe: bool
    """A ``provider_event_id`` already applied is refused (409); else applied again."""
    lenient_binding: bool
    """Missing fields bind as zero values, times must be RFC 3339 (target.binding)."""
    order_codes: Mapping[Verdict, int]
    """The answer to an order event per refusing verdict."""
    dispute_codes: Mapping[Verdict, int | None]
    """The answer to a chargeback per refusing verdict; ``None``: applied anyway."""
    no_order: int
    """A chargeback for an order that does not exist."""
    bad_chargeback: int
    """An unknown chargeback status, or a resolution that is neither won nor lost."""
    unknown_order_status_by_existence: bool
    """An unknown order status is judged after looking the order up (404 or 422)."""
    missing_key: int | None
    """An empty ``order_id`` (or an order's ``user_id``) once bound; ``None``: bound as 400."""
    closed_without_resolution: str | None
    """The dispute status a ``closed`` without ``meta.resolution`` leaves; ``None``: refused."""
    error_delay: float
    """Seconds spent before answering 500 (the public ingest retries its API 3 times)."""
    public_reads: bool
    """The read API answers in the public service's shapes (target.readapi)."""


STRICT = Profile(
    name="strict",
    dedupe=True,
    lenient_binding=False,
    order_codes={Verdict.NOT_FOUND: 404, Verdict.ALREADY_EXISTS: 409, Verdict.INVALID: 422},
    dispute_codes={Verdict.NOT_FOUND: 404, Verdict.ALREADY_EXISTS: 409, Verdict.INVALID: 422},
    no_order=404,
    bad_chargeback=422,
    unknown_order_status_by_existence=False,
    missing_key=None,
    closed_without_resolution=None,
    error_delay=0.0,
    public_reads=False,
)

PUBLIC = Profile(
    name="public",
    dedupe=False,  # idempotency per order only: a replay is applied again
    lenient_binding=True,  # Go structs without binding tags
    # a second `created` hits the primary key: already-exists is not mapped, 500
    order_codes={Verdict.NOT_FOUND: 404, Verdict.ALREADY_EXISTS: 500, Verdict.INVALID: 422},
    # no state check: a second `opened` reopens, events after `closed` overwrite;
    # `updated`/`closed` without a dispute: "dispute not found", unmapped, 500
    dispute_codes={Verdict.NOT_FOUND: 500, Verdict.ALREADY_EXISTS: None, Verdict.INVALID: None},
    no_order=500,  # the dispute's foreign key to orders
    bad_chargeback=500,
    unknown_order_status_by_existence=True,
    missing_key=500,  # an empty order_id breaks the foreign key, an empty user_id the UUID column
    closed_without_resolution="closed",
    error_delay=0.3,  # 3 attempts, 100 ms then 200 ms backoff, before the 500
    public_reads=True,
)

PROFILES: Mapping[str, Profile] = {p.name: p for p in (STRICT, PUBLIC)}
"""``--profile NAME`` -> profile."""
