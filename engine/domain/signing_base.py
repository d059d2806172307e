"""The pieces every signing scheme shares: the keyed HMAC of the hot path, how
a secret becomes a key, several secrets in one setting, the timestamp's text,
and why a check failed. Pure stdlib, no I/O (engine/domain/signing.py uses them
to sign, the reference target to verify).

Nothing here ever puts a secret in an exception or a ``repr``: error texts
name the setting, never its value.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import time
from collections.abc import Callable
from enum import StrEnum

SECRET_SEP = "\n"
"""Between secrets in one setting: ``--secret`` given twice, or one secret per line of
``WEBHOOKLOAD_SECRET`` (a secret may hold spaces and commas, GitHub's example does)."""
_WHSEC = "whsec_"
DEFAULT_SIGNATURE_HEADER = "Stripe-Signature"
"""The ``stripe`` scheme's header name; ``--signature-header`` renames it."""
TOLERANCE_S = 300
"""A timestamp further than this from the receiver's clock (either way) is refused."""
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 token


def header_name(name: str) -> str:
    """``name`` if it is an HTTP header name (``--signature-header``'s check)."""
    if not _TOKEN.fullmatch(name):
        raise ValueError(f"--signature-header must be an HTTP header name, got {name!r}")
    return name


class SecretError(ValueError):
    """An unusable secret; the message names what is expected, never the value."""


class Failure(StrEnum):
    """Why a verification failed (the target counts them by this name)."""

    MISSING = "missing"  # a required header is absent
    MALFORMED = "malformed"  # present but cannot be parsed
    STALE = "stale"  # timestamp more than the tolerance away from now
    MISMATCH = "mismatch"  # no signature matches (wrong secret, altered body)


def split_secrets(text: str) -> list[str]:
    """The secrets of one setting, one per line (blank lines and a ``\\r`` from a
    Windows file are dropped)."""
    return [s for s in (line.removesuffix("\r") for line in text.split(SECRET_SEP)) if s]


def standard_key(secret: str, scheme: str = "standard") -> bytes:
    """The key bytes of a ``whsec_<base64>`` secret (the prefix is optional, as in
    the reference libraries; missing base64 padding is tolerated)."""
    text = secret.strip()
    if text.startswith(_WHSEC):
        text = text[len(_WHSEC) :]
    try:
        key = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except binascii.Error:
        raise SecretError(f"a whsec_<base64> secret for --sign {scheme}") from None
    if not key:
        raise SecretError(f"a non-empty whsec_<base64> secret for --sign {scheme}")
    return key


def decode_key(how: str, secret: str, scheme: str) -> bytes:
    """The key of ``secret`` decoded as a scheme's ``key`` says (schemes.KEYS)."""
    if how == "whsec-base64":
        return standard_key(secret, scheme)
    if not secret:
        raise SecretError(f"a non-empty secret for --sign {scheme}")
    if how == "hex":
        try:
            return bytes.fromhex(secret.strip())
        except ValueError:
            raise SecretError(f"a hex secret for --sign {scheme}") from None
    return secret.encode()


def timestamp_text(how: str, timestamp: int) -> str:
    """``{timestamp}`` as a scheme writes it: Unix seconds, or RFC 3339 in UTC."""
    if how == "rfc3339":
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))
    return str(timestamp)


_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))


class Hmac:
    """HMAC (RFC 2104) under one key, its inner and outer states hashed once: a
    message costs two hash copies, not an ``hmac.HMAC`` copy (a Python wrapper
    around an OpenSSL HMAC context, several times slower; docs/PERFORMANCE.md)."""

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes, algorithm: str = "sha256") -> None:
        new: Callable[..., hashlib._Hash] = getattr(hashlib, algorithm)
        block = new().block_size
        if len(key) > block:
            key = new(key).digest()
        key = key.ljust(block, b"\0")
        self._inner = new(key.translate(_IPAD))
        self._outer = new(key.translate(_OPAD))

    def states(self, prefix: bytes = b"") -> tuple[hashlib._Hash, hashlib._Hash]:
        """Copies of the inner state, ``prefix`` hashed into it (a signed string's
        part before the body that is the same for a whole second), and of the
        outer one: a signer copies these per message."""
        inner = self._inner.copy()
        if prefix:
            inner.update(prefix)
        return inner, self._outer.copy()

    def digest(self, msg: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(msg)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()

    def hexdigest(self, msg: bytes) -> str:
        inner = self._inner.copy()
        inner.update(msg)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()

    def b64digest(self, msg: bytes) -> str:
        return base64.b64encode(self.digest(msg)).decode("ascii")
