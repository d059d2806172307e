"""Go-style durations (``500ms``, ``30s``, ``2m``, ``1m30s``) in and out.

The plan's tool took Go's ``flag.Duration``; users' scripts keep working
because we parse the same spellings and print durations the way Go does.
"""

from __future__ import annotations

import re

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")


def parse_duration(text: str) -> float:
    """Seconds in a Go duration string; ``0`` alone is allowed, as in Go.

    Raises ``ValueError`` for anything else (negative values included).
    """
    s = text.strip()
    if s == "0":
        return 0.0
    if not s:
        raise ValueError("empty duration")
    pos = 0
    total = 0.0
    while pos < len(s):
        m = _PART.match(s, pos)
        if m is None:
            raise ValueError(f"bad duration {text!r}")
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    return total


def format_duration(seconds: float) -> str:
    """Go's ``Duration.String`` after ``Round(time.Millisecond)``: ``10ms``, ``1m30s``."""
    ms = round(seconds * 1000)
    if ms == 0:
        return "0s"
    if ms < 1000:
        return f"{ms}ms"
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    secs = f"{rem / 1000:.3f}".rstrip("0").rstrip(".") + "s"
    if h:
        return f"{h}h{m}m{secs}"
    if m:
        return f"{m}m{secs}"
    return secs


def format_latency(seconds: float | None) -> str:
    """A latency for humans, three significant digits: ``850µs``, ``12.3ms``, ``1.20s``."""
    if seconds is None:
        return "-"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f}µs"
    if seconds < 1.0:
        ms = seconds * 1e3
        if ms < 10:
            return f"{ms:.2f}ms"
        if ms < 100:
            return f"{ms:.1f}ms"
        return f"{ms:.0f}ms"
    return f"{seconds:.2f}s"
