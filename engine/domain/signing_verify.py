"""Checking signatures on the receiving side (the reference target).

``stripe`` and ``standard`` with one secret keep their own parsers, on the
stdlib's ``hmac`` (a cross-check of the signers' precomputed HMAC). Any other
case is checked by reading the scheme's header templates back:
what the reference target does for a scheme from a file, or with several
secrets (a receiver holding only the old secret, or only the new one, must
accept every request while a secret rolls).

Each header template becomes a regular expression: its literal text as is,
``{id}`` and ``{timestamp}`` as the text between, and ``{sig}`` as the list of
signatures split by the scheme's ``join``. Pieces of the list that do not have
the signature item's shape (Stripe's ``v0=`` on test events) are skipped, as
the providers' own libraries skip them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import string
from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from engine.domain.schemes import Scheme
from engine.domain.signing_base import (
    DEFAULT_SIGNATURE_HEADER,
    TOLERANCE_S,
    Failure,
    Hmac,
    SecretError,
    decode_key,
    header_name,
    split_secrets,
    standard_key,
)

STANDARD_ID = "webhook-id"
STANDARD_TIMESTAMP = "webhook-timestamp"
STANDARD_SIGNATURE = "webhook-signature"


def _stripe_key(secret: str) -> bytes:
    if not secret:
        raise SecretError("a non-empty secret for --sign stripe")
    return secret.encode()


def _keyed(key: bytes) -> hmac.HMAC:
    return hmac.new(key, digestmod=hashlib.sha256)


class Verifier(Protocol):
    """Checks one delivery's headers against its exact raw body.

    ``headers`` must look names up case-insensitively (aiohttp's
    ``request.headers`` does); with a plain dict use the names as written here.
    Returns ``None`` when the delivery is authentic, else why not.
    """

    scheme: str

    def verify(
        self, headers: Mapping[str, str], body: bytes, now: float, url: str = ""
    ) -> Failure | None:
        """``url``: where the request came in (schemes that sign ``{url}``)."""
        ...


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
        self.header = header_name(header)
        self.tolerance = tolerance

    def __repr__(self) -> str:
        return f"StripeVerifier(header={self.header!r})"

    def verify(
        self, headers: Mapping[str, str], body: bytes, now: float, url: str = ""
    ) -> Failure | None:
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

    def verify(
        self, headers: Mapping[str, str], body: bytes, now: float, url: str = ""
    ) -> Failure | None:
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


def _pattern(template: str) -> tuple[re.Pattern[str], tuple[str, ...]]:
    """The expression matching one header's value, and the field of each group."""
    parts: list[str] = []
    fields: list[str] = []
    for literal, field, _, _ in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if field is not None:
            parts.append(f"(?P<g{len(fields)}>.+?)")
            fields.append(field)
    return re.compile("".join(parts), re.DOTALL), tuple(fields)


def _epoch(text: str, how: str) -> int | None:
    """A received timestamp in Unix seconds, or None when it is not one."""
    if how == "unix":
        return int(text) if text.isascii() and text.isdigit() else None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return None if when.tzinfo is None else int(when.timestamp())


class SchemeVerifier:
    """Accepts a delivery if any signature in it matches any of its secrets."""

    __slots__ = ("_b64", "_item", "_join", "_macs", "_parsers", "scheme", "spec", "tolerance")

    def __init__(self, spec: Scheme, secret: str, header: str, tolerance: float) -> None:
        self.spec = spec
        self.scheme = spec.name
        self.tolerance = tolerance
        secrets = split_secrets(secret) or [""]  # "": the key's own "non-empty" error
        self._macs = tuple(
            Hmac(decode_key(spec.key, s, spec.name), spec.algorithm) for s in secrets
        )
        self._b64 = spec.encoding == "base64"
        if header:
            header_name(header)
        item = spec.sig_item
        self._item = tuple(_literal(p) for p in item.split("{sig}", 1))
        self._join = _literal(spec.join)
        parsers = []
        for name, template in spec.headers:
            if "{sig}" in template:
                name = header or name
                template = template.replace(item, "{sig}", 1)
            parsers.append((name, *_pattern(template)))
        self._parsers = tuple(parsers)

    def __repr__(self) -> str:  # never the secret
        return f"SchemeVerifier({self.spec.name!r}, secrets={len(self._macs)})"

    def _candidates(self, text: str) -> list[str]:
        before, after = self._item
        pieces = text.split(self._join) if self._join else [text]
        return [
            p[len(before) : len(p) - len(after)]
            for p in pieces
            if p.startswith(before) and p.endswith(after) and len(p) > len(before) + len(after)
        ]

    def verify(
        self, headers: Mapping[str, str], body: bytes, now: float, url: str = ""
    ) -> Failure | None:
        values: dict[str, str] = {}
        for name, pattern, fields in self._parsers:
            raw = headers.get(name)
            if not raw:
                return Failure.MISSING
            match = pattern.fullmatch(raw)
            if match is None:
                return Failure.MALFORMED
            for i, field in enumerate(fields):
                value = match.group(f"g{i}")
                if values.setdefault(field, value) != value:
                    return Failure.MALFORMED  # one field, two values
        candidates = self._candidates(values.get("sig", ""))
        if not candidates:
            return Failure.MALFORMED
        ts = values.get("timestamp", "")
        if "timestamp" in values:
            epoch = _epoch(ts, self.spec.timestamp)
            if epoch is None:
                return Failure.MALFORMED
            if abs(now - epoch) > self.tolerance:
                return Failure.STALE
        fill = {"id": values.get("id", ""), "timestamp": ts, "url": url}
        pre, post = self.spec.signed.split("{body}", 1)
        msg = pre.format(**fill).encode() + body + post.format(**fill).encode()
        matched = False
        for mac in self._macs:  # every pair is compared, in constant time
            expected = mac.b64digest(msg) if self._b64 else mac.hexdigest(msg)
            for candidate in candidates:
                if candidate.isascii():
                    got = candidate if self._b64 else candidate.lower()
                    matched |= hmac.compare_digest(expected, got)
        return None if matched else Failure.MISMATCH


def _literal(text: str) -> str:
    return text.replace("{{", "{").replace("}}", "}")
