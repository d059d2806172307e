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


def latency_us(seconds: float) -> int:
    """A latency in whole microseconds: the precision every output keeps.

    The ``--json`` summary's milliseconds (3 decimals) are this over 1000, and
    :func:`format_latency` rounds from it, so the text summary, the TUI, the
    JSON and the HTML report (which reads the JSON) show the same digits for
    the same run: rounding twice (seconds -> JSON -> text) gave 4.34 against 4.33.
    """
    return round(seconds * 1e6)


def latency_ms(seconds: float | None) -> float | None:
    """The ``--json`` summary's milliseconds for a latency (``None`` stays)."""
    return None if seconds is None else latency_us(seconds) / 1000


def _half_up(us: int, per: int) -> int:
    """``us`` in units of ``per`` µs, halves rounded up (integers: no float edge)."""
    return (us + per // 2) // per


def _fixed(units: int, places: int) -> str:
    whole, frac = divmod(units, 10**places)
    return f"{whole}.{frac:0{places}d}"


def format_latency(seconds: float | None) -> str:
    """A latency for humans, three significant digits: ``850µs``, ``12.3ms``, ``1.20s``.

    Every output formats latencies here (from seconds, or from the JSON's
    milliseconds through :func:`format_latency_ms`)."""
    if seconds is None:
        return "-"
    us = latency_us(seconds)
    if us < 1000:
        return f"{us}µs"
    if us < 10_000:
        return _fixed(_half_up(us, 10), 2) + "ms"
    if us < 100_000:
        return _fixed(_half_up(us, 100), 1) + "ms"
    if us < 1_000_000:
        return f"{_half_up(us, 1000)}ms"
    return _fixed(_half_up(us, 10_000), 2) + "s"


def format_latency_ms(ms: float | None) -> str:
    """:func:`format_latency` for a number in milliseconds (the ``--json`` summary's)."""
    return format_latency(None if ms is None else ms / 1000)
