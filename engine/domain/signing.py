"""Webhook signatures as payment providers send them, and their checks.

Two schemes (CONTRACT.md, "How real providers deliver webhooks"):

- ``stripe``: one header (``Webhook-Signature`` unless renamed, e.g.
  ``Stripe-Signature``) ``t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
  "<t>.<raw body>")>``; the secret's text is the key.
- ``standard`` (standardwebhooks.com): ``webhook-id``, ``webhook-timestamp``
  and ``webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<t>.<body>")>``;
  the secret is ``whsec_<base64 key>``.

Pure stdlib, no I/O, no clock of its own (the caller passes the time), so the
load generator signs and the reference target verifies with the same code.
Signing runs once per request on the generator's hot path: the signers keep
the key's two padded SHA-256 states (:class:`_Sha256Hmac`) and copy them per
message, about 4x cheaper than copying an ``hmac.HMAC`` (docs/PERFORMANCE.md);
the verifiers keep the stdlib's ``hmac``, so the two are checked against each
other. The header block comes out as ready bytes for transports that write raw HTTP.

Nothing here ever puts a secret in an exception or a ``repr``: error texts
name the setting, never its value.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Protocol

SCHEMES = ("stripe", "standard")
"""Values of ``--sign``."""
SECRET_ENV = "WEBHOOKLOAD_SECRET"
"""The environment variable that carries the secret (kept out of process listings)."""
DEFAULT_SIGNATURE_HEADER = "Webhook-Signature"
"""The ``stripe`` scheme's header name; ``--signature-header`` renames it."""
TOLERANCE_S = 300
"""A timestamp further than this from the receiver's clock (either way) is refused."""
STANDARD_ID = "webhook-id"
STANDARD_TIMESTAMP = "webhook-timestamp"
STANDARD_SIGNATURE = "webhook-signature"
_WHSEC = "whsec_"
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 token


class SecretError(ValueError):
    """An unusable secret; the message names what is expected, never the value."""


class Failure(StrEnum):
    """Why a verification failed (the target counts them by this name)."""

    MISSING = "missing"  # a required header is absent
    MALFORMED = "malformed"  # present but cannot be parsed
    STALE = "stale"  # timestamp more than the tolerance away from now
    MISMATCH = "mismatch"  # no signature matches (wrong secret, altered body)


def standard_key(secret: str) -> bytes:
    """The key bytes of a ``whsec_<base64>`` secret (the prefix is optional, as in
    the reference libraries; missing base64 padding is tolerated)."""
    text = secret.strip()
    if text.startswith(_WHSEC):
        text = text[len(_WHSEC) :]
    try:
        key = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except binascii.Error:
        raise SecretError("a whsec_<base64> secret for --sign standard") from None
    if not key:
        raise SecretError("a non-empty whsec_<base64> secret for --sign standard")
    return key


def _stripe_key(secret: str) -> bytes:
    if not secret:
        raise SecretError("a non-empty secret for --sign stripe")
    return secret.encode()


def _header_name(name: str) -> str:
    if not _TOKEN.fullmatch(name):
        raise ValueError(f"--signature-header must be an HTTP header name, got {name!r}")
    return name


def _keyed(key: bytes) -> hmac.HMAC:
    return hmac.new(key, digestmod=hashlib.sha256)


class _Sha256Hmac:
    """HMAC-SHA256 (RFC 2104) under one key, its inner and outer states hashed
    once: a message costs two ``sha256`` copies, not an ``hmac.HMAC`` copy (a
    Python wrapper around an OpenSSL HMAC context, several times slower)."""

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        if len(key) > _BLOCK:
            key = hashlib.sha256(key).digest()
        key = key.ljust(_BLOCK, b"\0")
        self._inner = hashlib.sha256(key.translate(_IPAD))
        self._outer = hashlib.sha256(key.translate(_OPAD))

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


_BLOCK = 64  # SHA-256's block size
_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))


class Signer(Protocol):
    """Signs one delivery: ``event_id`` and ``timestamp`` (unix seconds) are the
    caller's, so a re-delivery can be re-signed with a fresh timestamp."""

    scheme: str

    def headers(self, body: bytes, event_id: str, timestamp: int) -> list[tuple[str, str]]:
        """The headers to add, as (name, value) pairs."""
        ...

    def header_block(self, body: bytes, event_id: str, timestamp: int) -> bytes:
        """The same headers as raw ``Name: value\\r\\n`` lines."""
        ...


class StripeSigner:
    """``<header>: t=<ts>,v1=<hex hmac of "<ts>.<body>">``."""

    scheme = "stripe"
    __slots__ = ("_line", "_mac", "_t", "_ts", "_value", "header")

    def __init__(self, secret: str, header: str = DEFAULT_SIGNATURE_HEADER) -> None:
        self._mac = _Sha256Hmac(_stripe_key(secret))
        self.header = _header_name(header)
        self._line = header.encode("ascii") + b": t="
        # the last timestamp's message prefix and header value prefix: a second
        # signs thousands of messages, so they are formatted once per second
        self._t = -1
        self._ts = b""
        self._value = ""

    def __repr__(self) -> str:
        return f"StripeSigner(header={self.header!r})"

    def _sign(self, body: bytes, timestamp: int) -> str:
        """The hex signature of ``"<timestamp>.<body>"``."""
        if timestamp != self._t:
            self._t = timestamp
            self._ts = b"%d." % timestamp
            self._value = f"t={timestamp},v1="
        return self._mac.hexdigest(self._ts + body)

    def headers(self, body: bytes, event_id: str, timestamp: int) -> list[tuple[str, str]]:
        sig = self._sign(body, timestamp)
        return [(self.header, self._value + sig)]

    def header_block(self, body: bytes, event_id: str, timestamp: int) -> bytes:
        sig = self._sign(body, timestamp)
        return b"%s%d,v1=%s\r\n" % (self._line, timestamp, sig.encode("ascii"))


class StandardSigner:
    """Standard Webhooks: ``webhook-id``, ``webhook-timestamp``, ``webhook-signature``."""

    scheme = "standard"
    __slots__ = ("_mac",)

    def __init__(self, secret: str) -> None:
        self._mac = _Sha256Hmac(standard_key(secret))

    def __repr__(self) -> str:
        return "StandardSigner()"

    def signature(self, body: bytes, event_id: str, timestamp: int) -> str:
        """``v1,<base64>`` for one message (what ``webhook-signature`` carries)."""
        mac = self._mac.digest(b"%s.%d.%s" % (event_id.encode(), timestamp, body))
        return "v1," + base64.b64encode(mac).decode("ascii")

    def headers(self, body: bytes, event_id: str, timestamp: int) -> list[tuple[str, str]]:
        return [
            (STANDARD_ID, event_id),
            (STANDARD_TIMESTAMP, str(timestamp)),
            (STANDARD_SIGNATURE, self.signature(body, event_id, timestamp)),
        ]

    def header_block(self, body: bytes, event_id: str, timestamp: int) -> bytes:
        return b"webhook-id: %s\r\nwebhook-timestamp: %d\r\nwebhook-signature: %s\r\n" % (
            event_id.encode(),
            timestamp,
            self.signature(body, event_id, timestamp).encode("ascii"),
        )


class Verifier(Protocol):
    """Checks one delivery's headers against its exact raw body.

    ``headers`` must look names up case-insensitively (aiohttp's
    ``request.headers`` does); with a plain dict use the names as written here.
    Returns ``None`` when the delivery is authentic, else why not.
    """

    scheme: str

    def verify(self, headers: Mapping[str, str], body: bytes, now: float) -> Failure | None: ...


def _fresh(timestamp: str, now: float, tolerance: float) -> Failure | None:
    if not (timestamp.isascii() and timestamp.isdigit()):  # unix seconds, no sign
        return Failure.MALFORMED
    if abs(now - int(timestamp)) > tolerance:
        return Failure.STALE
    return None


class StripeVerifier:
    """Accepts a ``t=…,v1=…`` header if any of its ``v1`` values matches."""

    scheme = "stripe"
    __slots__ = ("_base", "header", "tolerance")

    def __init__(
        self,
        secret: str,
        header: str = DEFAULT_SIGNATURE_HEADER,
        tolerance: float = TOLERANCE_S,
    ) -> None:
        self._base = _keyed(_stripe_key(secret))
        self.header = _header_name(header)
        self.tolerance = tolerance

    def __repr__(self) -> str:
        return f"StripeVerifier(header={self.header!r})"

    def verify(self, headers: Mapping[str, str], body: bytes, now: float) -> Failure | None:
        value = headers.get(self.header)
        if not value:
            return Failure.MISSING
        ts = ""
        candidates: list[str] = []
        for item in value.split(","):
            key, _, val = item.strip().partition("=")
            if key == "t":
                ts = val
            elif key == "v1":
                candidates.append(val)
        if not ts or not candidates:
            return Failure.MALFORMED
        stale = _fresh(ts, now, self.tolerance)
        if stale is not None:
            return stale
        mac = self._base.copy()
        mac.update(ts.encode("ascii") + b"." + body)
        expected = mac.hexdigest()
        matched = False
        for candidate in candidates:  # every one is compared, in constant time
            if candidate.isascii():
                matched |= hmac.compare_digest(expected, candidate.lower())
        return None if matched else Failure.MISMATCH


class StandardVerifier:
    """Accepts if any space-separated ``v1,<base64>`` signature matches."""

    scheme = "standard"
    __slots__ = ("_base", "tolerance")

    def __init__(self, secret: str, tolerance: float = TOLERANCE_S) -> None:
        self._base = _keyed(standard_key(secret))
        self.tolerance = tolerance

    def __repr__(self) -> str:
        return "StandardVerifier()"

    def verify(self, headers: Mapping[str, str], body: bytes, now: float) -> Failure | None:
        msg_id = headers.get(STANDARD_ID)
        ts = headers.get(STANDARD_TIMESTAMP)
        value = headers.get(STANDARD_SIGNATURE)
        if not (msg_id and ts and value):
            return Failure.MISSING
        stale = _fresh(ts, now, self.tolerance)
        if stale is not None:
            return stale
        mac = self._base.copy()
        mac.update(b"%s.%d.%s" % (msg_id.encode(), int(ts), body))
        expected = base64.b64encode(mac.digest()).decode("ascii").rstrip("=")
        matched = False
        for item in value.split(" "):
            version, _, sig = item.partition(",")
            if version == "v1" and sig.isascii():
                matched |= hmac.compare_digest(expected, sig.rstrip("="))
        return None if matched else Failure.MISMATCH


def make_signer(scheme: str, secret: str, header: str = DEFAULT_SIGNATURE_HEADER) -> Signer:
    """The signer for ``--sign SCHEME`` (``header`` names the ``stripe`` header)."""
    if scheme == "stripe":
        return StripeSigner(secret, header)
    if scheme == "standard":
        return StandardSigner(secret)
    raise ValueError(f"unknown signing scheme {scheme!r}; expected one of {', '.join(SCHEMES)}")


def make_verifier(
    scheme: str,
    secret: str,
    header: str = DEFAULT_SIGNATURE_HEADER,
    tolerance: float = TOLERANCE_S,
) -> Verifier:
    """The verifier for ``--sign SCHEME`` on the receiving side."""
    if scheme == "stripe":
        return StripeVerifier(secret, header, tolerance)
    if scheme == "standard":
        return StandardVerifier(secret, tolerance)
    raise ValueError(f"unknown signing scheme {scheme!r}; expected one of {', '.join(SCHEMES)}")
