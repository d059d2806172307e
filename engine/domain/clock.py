"""Wall-clock time as payloads carry it: RFC 3339 stamps, cached per second.

Apart from :mod:`engine.domain.ids` because a clock is not an id: contracts
stamp ``created_at``/``occurred_at`` with it, tests give it a fixed ``now``.
(The engine's monotonic clock for timing and pacing is another thing:
:mod:`engine.load.clock`.)
"""

from __future__ import annotations

import time
from datetime import UTC, datetime


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
        sec = int(self._now())  # type: ignore[operator]  # self.time() inlined: per event
        if sec != self._sec:
            self._sec = sec
            self._cache.clear()
        text = self._cache.get(offset_s)
        if text is None:
            text = self._cache[offset_s] = rfc3339(sec + offset_s)
        return text
