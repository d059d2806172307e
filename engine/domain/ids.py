"""Fast, valid UUIDv4 strings and RFC 3339 timestamps for payloads.

``uuid.uuid4()`` reads the OS entropy pool on every call; a load generator
needs unique, well-formed ids, not cryptographic ones, so we draw 128 bits
from a private (unseeded) Mersenne Twister. Ids stay unique across runs even
when ``--seed`` fixes the scenario choices, so a re-run never collides with
the previous run's events (which would be 409s).
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime

_rng = random.Random()
_getrandbits = _rng.getrandbits
_VERSION_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_VERSION_SET = (0x4000 << 64) | (0x8000 << 48)


def new_uuid() -> str:
    """A random RFC 4122 version-4 UUID string."""
    h = "%032x" % ((_getrandbits(128) & _VERSION_CLEAR) | _VERSION_SET)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def rfc3339(ts: float) -> str:
    """``2026-11-26T17:40:57Z`` for a Unix time (second precision, as Go's RFC3339)."""
    return datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class WallClock:
    """Caches the RFC 3339 string of the current second; formatting once per
    second instead of once per request keeps payload building cheap."""

    __slots__ = ("_cache", "_now", "_sec")

    def __init__(self, now: object = time.time) -> None:
        self._now = now
        self._sec = -1
        self._cache: dict[float, str] = {}

    def time(self) -> float:
        return self._now()  # type: ignore[operator, no-any-return]

    def stamp(self, offset_s: float = 0.0) -> str:
        """RFC 3339 of now (+ ``offset_s``), formatted once per second and offset."""
        sec = int(self.time())
        if sec != self._sec:
            self._sec = sec
            self._cache.clear()
        text = self._cache.get(offset_s)
        if text is None:
            text = self._cache[offset_s] = rfc3339(sec + offset_s)
        return text
