"""What a webhook carries on top of its event's own headers, as providers send it.

Every webhook gets the user's ``--header`` pairs and, with ``--sign``, a
signature over the exact body bytes sent (engine/domain/signing.py; one per
secret while a secret rolls, joined as the scheme says), stamped
with the wall clock's unix seconds at the moment of sending: a re-delivery of
the same event is re-signed with a fresh timestamp, as providers do.

The signer's key is precomputed (its keyed HMAC is copied per message, the
part of the signed string before the body hashed once a second), so the
per-request cost is one HMAC over the body per secret and a tuple.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from engine.config import RunConfig
from engine.domain.contracts import Event
from engine.domain.signing import Signer, make_signer

HeaderPairs = tuple[tuple[str, str], ...]


class Dressing:
    """The headers one delivery of an event carries: its own, the extra ones,
    then its signature (when signing)."""

    __slots__ = ("_extra", "_signer", "_wall")

    def __init__(
        self,
        extra: HeaderPairs = (),
        signer: Signer | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._extra = extra
        self._signer = signer
        self._wall = wall

    def __repr__(self) -> str:  # never the secret, nor the header values
        return f"Dressing(extra={len(self._extra)}, signer={self._signer!r})"

    @property
    def needed(self) -> bool:
        """False when it adds nothing (the walker then sends the event's headers as is)."""
        return bool(self._extra) or self._signer is not None

    def headers(self, event: Event, url: str = "") -> HeaderPairs:
        """The headers of one delivery to ``url``, signed now: every attempt
        (first delivery, retry, duplicate, early event) calls this at its own
        send time, so each carries a fresh timestamp and the event's same id."""
        headers = event.headers + self._extra if self._extra else event.headers
        signer = self._signer
        if signer is None:
            return headers
        return headers + signer.pairs(event.body, event.event_id, int(self._wall()), url)


def dressing_for(config: RunConfig, wall: Callable[[], float] = time.time) -> Dressing:
    """The run's dressing: ``--header`` pairs and the ``--sign`` signer."""
    signer = (
        make_signer(config.sign, config.secret, config.signature_header) if config.sign else None
    )
    return Dressing(config.header_pairs(), signer, wall)
