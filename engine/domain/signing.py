"""Webhook signatures as payment providers send them, and their checks.

Every scheme is data (engine/domain/schemes/*.toml, docs/SIGNING.md): the
headers as templates over ``{id}``, ``{timestamp}``, ``{sig}``, the signed
string over ``{id}``, ``{timestamp}``, ``{body}``, ``{url}``, the hash, the
encoding, the key's decoding and how several signatures join while a secret
rolls. :class:`SchemeSigner` compiles one scheme once; signing a request is then
one HMAC over the body per secret plus a few string joins. For example:

- ``stripe``: ``Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
  "<t>.<raw body>")>`` (renamable with ``--signature-header``); the secret's
  text is the key.
- ``standard`` (standardwebhooks.com): ``webhook-id``, ``webhook-timestamp``
  and ``webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<t>.<body>")>``;
  the secret is ``whsec_<base64 key>``.

Pure stdlib, no I/O, no clock of its own (the caller passes the time), so the
load generator signs and the reference target verifies with the same code.
The signers use the precomputed :class:`~engine.domain.signing_base.Hmac`; the
``stripe`` and ``standard`` verifiers keep the stdlib's ``hmac``, so the two
are checked against each other.

Nothing here ever puts a secret in an exception or a ``repr``: error texts
name the setting, never its value.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from typing import Protocol

from engine.domain.schemes import Scheme, builtin, builtin_names
from engine.domain.signing_base import (
    Failure,
    Hmac,
    SecretError,
    decode_key,
    split_secrets,
    standard_key,
    timestamp_text,
)
from engine.domain.signing_verify import SchemeVerifier

__all__ = [
    "DEFAULT_SIGNATURE_HEADER",
    "SCHEMES",
    "SECRET_ENV",
    "Failure",
    "SchemeSigner",
    "SecretError",
    "Signer",
    "StandardSigner",
    "StandardVerifier",
    "StripeSigner",
    "StripeVerifier",
    "Verifier",
    "make_signer",
    "make_verifier",
    "split_secrets",
    "standard_key",
]

SCHEMES = builtin_names()
"""Values of ``--sign``: the built-in schemes."""
SECRET_ENV = "WEBHOOKLOAD_SECRET"
"""The environment variable that carries the secret(s), one per line (kept out of
process listings)."""
DEFAULT_SIGNATURE_HEADER = "Stripe-Signature"
"""The ``stripe`` scheme's header name; ``--signature-header`` renames it."""
TOLERANCE_S = 300
"""A timestamp further than this from the receiver's clock (either way) is refused."""
STANDARD_ID = "webhook-id"
STANDARD_TIMESTAMP = "webhook-timestamp"
STANDARD_SIGNATURE = "webhook-signature"
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 token


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


class _Sha256Hmac(Hmac):
    """:class:`Hmac` with SHA-256 (the name the tests know it by)."""

    __slots__ = ()

    def __init__(self, key: bytes) -> None:
        super().__init__(key, "sha256")


class Signer(Protocol):
    """Signs one delivery: ``event_id`` and ``timestamp`` (unix seconds) are the
    caller's, so a re-delivery can be re-signed with a fresh timestamp; ``url``
    is where it is sent (signed by schemes whose template has ``{url}``)."""

    scheme: str

    def headers(
        self, body: bytes, event_id: str, timestamp: int, url: str = ""
    ) -> list[tuple[str, str]]:
        """The headers to add, as (name, value) pairs."""
        ...

    def header_block(self, body: bytes, event_id: str, timestamp: int, url: str = "") -> bytes:
        """The same headers as raw ``Name: value\\r\\n`` lines."""
        ...


def _literal(text: str) -> str:
    """A template piece without placeholders, its ``{{``/``}}`` unescaped."""
    return text.replace("{{", "{").replace("}}", "}")


class SchemeSigner:
    """A :class:`~engine.domain.schemes.Scheme` compiled for one set of secrets:
    the keys decoded and their HMAC states hashed once, the signed string split
    around the body, the signature header's repeated piece cut out. Several
    secrets give one signature each, joined as the scheme says (a scheme without
    ``join`` takes one secret)."""

    __slots__ = (
        "_b64",
        "_item",
        "_join",
        "_last",
        "_macs",
        "_post",
        "_pre",
        "_rfc3339",
        "_sig_at",
        "_templates",
        "_ts",
        "header",
        "scheme",
        "spec",
    )

    def __init__(self, spec: Scheme, secret: str, header: str = "") -> None:
        self.spec = spec
        self.scheme = spec.name
        secrets = split_secrets(secret) or [""]  # "": the key's own "non-empty" error
        if len(secrets) > 1 and not spec.join:
            raise SecretError(
                f"one secret for --sign {spec.name} (its header carries one signature)"
            )
        self._macs = tuple(
            Hmac(decode_key(spec.key, s, spec.name), spec.algorithm) for s in secrets
        )
        self._b64 = spec.encoding == "base64"
        self._rfc3339 = spec.timestamp == "rfc3339"
        own = spec.signature_header
        if header and header != own:
            if not spec.rename:
                raise ValueError(
                    f"--signature-header is not used by --sign {spec.name} "
                    f"(its signature header is {own})"
                )
            own = _header_name(header)
        self.header = own
        pre, post = spec.signed.split("{body}", 1)
        self._pre, self._post = pre, post
        item = spec.sig_item
        before, after = item.split("{sig}", 1)
        self._item = (_literal(before), _literal(after))
        self._join = _literal(spec.join)
        templates: list[tuple[str, str]] = []
        for name, value in spec.headers:
            if "{sig}" in value:
                self._sig_at = len(templates)
                value = value.replace(item, "{sig}", 1)
                name = self.header
            templates.append((name, value))
        self._templates = tuple(templates)
        self._last = (-1, "", b"", b"")  # timestamp, its text, the message's ends

    def __repr__(self) -> str:  # never the secret
        return f"SchemeSigner({self.scheme!r}, header={self.header!r}, secrets={len(self._macs)})"

    def _ends(self, event_id: str, timestamp: int, url: str) -> tuple[str, bytes, bytes]:
        """The timestamp's text and the signed bytes before and after the body; a
        second signs thousands of messages, so a timestamp-only template is
        formatted once per second."""
        last = self._last
        if (
            last[0] == timestamp
            and "{id}" not in self.spec.signed
            and "{url}" not in self.spec.signed
        ):
            return last[1], last[2], last[3]
        ts = timestamp_text(self.spec.timestamp, timestamp)
        pre = self._pre.format(id=event_id, timestamp=ts, url=url).encode()
        post = self._post.format(id=event_id, timestamp=ts, url=url).encode() if self._post else b""
        self._last = (timestamp, ts, pre, post)
        return ts, pre, post

    def _signatures(self, msg: bytes) -> str:
        before, after = self._item
        if len(self._macs) == 1:
            mac = self._macs[0]
            return before + (mac.b64digest(msg) if self._b64 else mac.hexdigest(msg)) + after
        sigs = (m.b64digest(msg) if self._b64 else m.hexdigest(msg) for m in self._macs)
        return self._join.join(before + s + after for s in sigs)

    def headers(
        self, body: bytes, event_id: str, timestamp: int, url: str = ""
    ) -> list[tuple[str, str]]:
        ts, pre, post = self._ends(event_id, timestamp, url)
        sig = self._signatures(pre + body + post if post else pre + body)
        return [(n, v.format(id=event_id, timestamp=ts, sig=sig)) for n, v in self._templates]

    def signature(self, body: bytes, event_id: str, timestamp: int, url: str = "") -> str:
        """The signature header's value for one message."""
        return self.headers(body, event_id, timestamp, url)[self._sig_at][1]

    def header_block(self, body: bytes, event_id: str, timestamp: int, url: str = "") -> bytes:
        return "".join(
            f"{n}: {v}\r\n" for n, v in self.headers(body, event_id, timestamp, url)
        ).encode()


class StripeSigner(SchemeSigner):
    """The built-in ``stripe`` scheme: ``<header>: t=<ts>,v1=<hex hmac of "<ts>.<body>">``."""

    __slots__ = ()

    def __init__(self, secret: str, header: str = DEFAULT_SIGNATURE_HEADER) -> None:
        super().__init__(builtin("stripe"), secret, header)


class StandardSigner(SchemeSigner):
    """Standard Webhooks: ``webhook-id``, ``webhook-timestamp``, ``webhook-signature``."""

    __slots__ = ()

    def __init__(self, secret: str) -> None:
        super().__init__(builtin("standard"), secret)


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
        self.header = _header_name(header)
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


def _spec(scheme: str | Scheme) -> Scheme:
    return builtin(scheme) if isinstance(scheme, str) else scheme


def make_signer(scheme: str | Scheme, secret: str, header: str = "") -> Signer:
    """The signer for ``--sign SCHEME`` (a built-in's name, or a scheme from a
    file); ``header`` renames the signature header of a scheme that allows it
    ("" keeps the scheme's own; a scheme that does not allow it ignores it here,
    the run's settings refuse it: engine/config.py). ``secret`` holds one secret
    per line."""
    spec = _spec(scheme)
    return SchemeSigner(spec, secret, header if spec.rename else "")


def make_verifier(
    scheme: str | Scheme,
    secret: str,
    header: str = "",
    tolerance: float = TOLERANCE_S,
) -> Verifier:
    """The verifier for ``--sign SCHEME`` on the receiving side; it accepts a
    delivery that any one of its secrets signed. ``stripe`` and ``standard``
    with one secret keep their own parsers (stdlib ``hmac``, a cross-check of
    the signers); every other case reads the scheme's templates back."""
    spec = _spec(scheme)
    if header and header != spec.signature_header and not spec.rename:
        header = ""  # the target's --signature-header names the stripe header only
    if len(split_secrets(secret)) <= 1:
        if spec == builtin("stripe"):
            return StripeVerifier(secret, header or DEFAULT_SIGNATURE_HEADER, tolerance)
        if spec == builtin("standard"):
            return StandardVerifier(secret, tolerance)
    return SchemeVerifier(spec, secret, header, tolerance)
