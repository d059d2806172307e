"""How the reference target answers where receivers part: ``--profile``.

The lifecycle rules are the domain's (``engine.domain.statuses``: one verdict per
event); a profile only says what each verdict costs over HTTP, and with what
body. ``strict`` is a well-behaved receiver; ``public`` answers every case as
the public payment manager was *measured* to answer it (docs/CONTRACT.md,
"What the public service answers on edge cases (measured)": codes and
bodies), so a load test's delivery accounting can be seen against both.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

import orjson

from engine.domain.statuses import Verdict


def api_500(inner: str) -> str:
    """The public ingest's message when the API behind it answered 500 (measured):
    ``api service unavailable: status 500, body: {"success":false,"message":…}``,
    as a ``str.format`` template: the JSON's braces doubled, ``inner``'s own
    placeholders (``{order_id}``) kept."""
    text = orjson.dumps(inner).decode()[1:-1]  # JSON-escaped, without its quotes
    return 'api service unavailable: status 500, body: {{"success":false,"message":"' + text + '"}}'


STRICT_MESSAGES: Mapping[str, str] = {
    "order_not_found": "order not found",
    "order_exists": "order already exists",
    "invalid_transition": "invalid transition {old} -> {new}",
    "unknown_status": "unknown order status {status!r}",
    "order_replay": "event already stored",
    "missing_order_id": "order_id is empty",
    "bad_user_id": "user_id is not a UUID",
    "chargeback_no_order": "order not found",
    "no_dispute": "no open dispute for this order",
    "dispute_exists": "dispute already exists for this order",
    "dispute_closed": "dispute is already closed",
    "chargeback_replay": "event already stored",
}
"""Message templates (``str.format`` with the case's fields) by case."""

_ROLLBACK = "failed to commit transaction: commit unexpectedly resulted in rollback"
PUBLIC_MESSAGES: Mapping[str, str] = {
    **STRICT_MESSAGES,
    # measured on the public service (HEAD 6fe9943); what follows a measured
    # "…" (the transition, the order id) is ours
    "order_not_found": "resource not found",
    "order_exists": api_500("create order from event: order already exists"),
    "invalid_transition": "invalid status transition: {old} -> {new}",
    "unknown_status": "invalid status transition: {old} -> {status}",
    "order_replay": api_500(_ROLLBACK),
    "missing_order_id": api_500('invalid input syntax for type uuid: "" (SQLSTATE 22P02)'),
    "bad_user_id": api_500('invalid input syntax for type uuid: "{user_id}" (SQLSTATE 22P02)'),
    "chargeback_no_order": api_500(
        'violates foreign key constraint "fk_dispute_order" (SQLSTATE 23503)'
    ),
    "no_dispute": api_500("process chargeback: dispute not found for order_id: {order_id}"),
    "chargeback_replay": api_500("process chargeback: " + _ROLLBACK),
}


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    dedupe: bool
    """A ``provider_event_id`` already applied is refused (409) before anything
    else; else the lifecycle judges it, then ``replay_code``."""
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
    replay_code: int | None = None
    """A replay (an event id already applied) that the lifecycle would apply
    again: refused with this code (the public service's event row is unique, so
    the transaction rolls back: 500); ``None``: applied again."""
    messages: Mapping[str, str] = dataclasses.field(default_factory=lambda: STRICT_MESSAGES)
    """The body's ``message`` per case (:data:`STRICT_MESSAGES`' keys)."""
    bind_message: str | None = None
    """The message of every 400 (bad JSON, a field that does not bind); ``None``:
    the binding's own, naming the field."""

    def message(self, case: str, **fields: object) -> str:
        return self.messages[case].format(**fields)


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
    dedupe=False,  # no 409: a replay is judged by the lifecycle, then refused (replay_code)
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
    replay_code=500,  # measured: a replay of `updated` or of any chargeback event
    messages=PUBLIC_MESSAGES,
    bind_message="Missing order_id",  # measured: the same text for every bind error
)

PROFILES: Mapping[str, Profile] = {p.name: p for p in (STRICT, PUBLIC)}
"""``--profile NAME`` -> profile."""
