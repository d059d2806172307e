"""Checking a signature of any scheme by reading its header templates back:
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

import hmac
import re
import string
from collections.abc import Mapping
from datetime import datetime

from engine.domain.schemes import Scheme
from engine.domain.signing_base import Failure, Hmac, decode_key, split_secrets

_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 token


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
        if header and not _TOKEN.fullmatch(header):
            raise ValueError(f"--signature-header must be an HTTP header name, got {header!r}")
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
