"""Fast, valid UUIDv4 strings for payloads (their timestamps: :mod:`engine.domain.clock`).

``uuid.uuid4()`` reads the OS entropy pool on every call; a load generator
needs unique, well-formed ids, not cryptographic ones, so we draw 128 bits
from a private (unseeded) Mersenne Twister. Ids stay unique across runs even
when ``--seed`` fixes the scenario choices, so a re-run never collides with
the previous run's events (which would be 409s).
"""

from __future__ import annotations

import random

_rng = random.Random()
_getrandbits = _rng.getrandbits
_VERSION_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_VERSION_SET = (0x4000 << 64) | (0x8000 << 48)


def new_uuid() -> str:
    """A random RFC 4122 version-4 UUID string.

    ``int.to_bytes(16).hex()`` gives the same 32 digits as ``"%032x" % n``
    (big-endian, zero-padded, lower case) in 0.5 µs instead of 0.7 µs; a
    request draws 1.7 ids on average (docs/PERFORMANCE.md, section 8)."""
    h = ((_getrandbits(128) & _VERSION_CLEAR) | _VERSION_SET).to_bytes(16).hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
