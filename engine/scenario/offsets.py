"""Time offsets in a scenario file: ``14d``, ``-1h30m``, ``+90s``.

Days, which Go durations lack (an evidence deadline is "now + 14 days"),
then a Go duration (engine/domain/durations.py), with an optional sign.
"""

from __future__ import annotations

import re

from engine.domain.durations import parse_duration

_DAY = 86_400.0
_OFFSET = re.compile(r"^([+-]?)(?:(\d+)d)?(.*)$")


def parse_offset(text: str) -> float:
    """Seconds in an offset (``""`` is 0); a ValueError says what is expected."""
    m = _OFFSET.match(text.strip())
    if m is None or not text.strip():
        if not text.strip():
            return 0.0
        raise ValueError(f"bad offset {text!r}: expected e.g. 14d, -1h30m, 90s")
    sign, days, rest = m.groups()
    if not days and not rest:
        raise ValueError(f"bad offset {text!r}: expected e.g. 14d, -1h30m, 90s")
    try:
        seconds = (float(days) * _DAY if days else 0.0) + (parse_duration(rest) if rest else 0.0)
    except ValueError:
        raise ValueError(f"bad offset {text!r}: expected e.g. 14d, -1h30m, 90s") from None
    return -seconds if sign == "-" else seconds
