"""What a webhook carries on top of its event's own headers, as providers send it.

Every webhook gets the user's ``--header`` pairs and, with ``--sign``, a
signature over the exact body bytes sent (engine/domain/signing.py; one per
secret while a secret rolls, joined as the scheme says), stamped
with the wall clock's unix seconds at the moment of sending: a re-delivery of
the same event is re-signed with a fresh timestamp, as providers do.

The signer's key is precomputed (its keyed HMAC is copied per message, the
part of the signed string before the body hashed once a second), so the
per-request cost is one HMAC over the body per secret and a tuple. The
dressing keeps the signer's function for the current second (and URL, for a
scheme that signs it) and calls it directly: a delivery costs the wall clock's
reading, one comparison and that one call (docs/PERFORMANCE.md, section 10).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from engine.config import RunConfig
from engine.domain.contracts import Event
from engine.domain.signing import Sign, Signer, make_signer

HeaderPairs = tuple[tuple[str, str], ...]


class Dressing:
    """The headers one delivery of an event carries: its own, the extra ones,
    then its signature (when signing)."""

    __slots__ = ("_extra", "_from", "_next", "_sign", "_signer", "_url", "_wall")

    def __init__(
        self,
        extra: HeaderPairs = (),
        signer: Signer | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._extra = extra
        self._signer = signer
        self._wall = wall
        # the signer's function for [_from, _next) of the wall clock (and _url)
        self._from = self._next = 0.0
        self._url = ""
        self._sign: Sign | None = None

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
        now = self._wall()
        sign = self._sign
        if (
            sign is None
            or not self._from <= now < self._next
            or (signer.signs_url and url != self._url)
        ):
            sign = self._bind(signer, now, url)
        return sign(headers, event.body, event.event_id)

    def _bind(self, signer: Signer, now: float, url: str) -> Sign:
        """The signer's function for the second ``now`` falls in (and ``url``)."""
        second = math.floor(now)
        self._from, self._next, self._url = float(second), second + 1.0, url
        sign = self._sign = signer.bind(second, url)
        return sign


def dressing_for(config: RunConfig, wall: Callable[[], float] = time.time) -> Dressing:
    """The run's dressing: ``--header`` pairs and the ``--sign`` signer."""
    signer = (
        make_signer(config.sign, config.secret, config.signature_header) if config.sign else None
    )
    return Dressing(config.header_pairs(), signer, wall)
