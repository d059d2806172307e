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

import string
from typing import Protocol

from engine.domain.schemes import Scheme, builtin, builtin_names
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
    timestamp_text,
)
from engine.domain.signing_compiled import Pairs, Sign, compile_second
from engine.domain.signing_verify import (
    SchemeVerifier,
    StandardVerifier,
    StripeVerifier,
    Verifier,
)

__all__ = [
    "DEFAULT_SIGNATURE_HEADER",
    "SCHEMES",
    "SECRET_ENV",
    "Failure",
    "Pairs",
    "SchemeSigner",
    "SecretError",
    "Sign",
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
    signs_url: bool
    """Whether the signature covers the URL (its :meth:`bind` is per URL)."""

    def headers(
        self, body: bytes, event_id: str, timestamp: int, url: str = ""
    ) -> list[tuple[str, str]]:
        """The headers to add, as (name, value) pairs."""
        ...

    def pairs(self, body: bytes, event_id: str, timestamp: int, url: str = "") -> Pairs:
        """The same headers as a tuple (a delivery's hot path)."""
        ...

    def header_block(self, body: bytes, event_id: str, timestamp: int, url: str = "") -> bytes:
        """The same headers as raw ``Name: value\\r\\n`` lines."""
        ...

    def bind(self, timestamp: int, url: str = "") -> Sign:
        """Signing for one second (and URL): ``(headers, body, event_id)`` to
        ``headers`` with the signed ones after them; what a delivery's hot path
        keeps for the second (engine/scenario/delivery.py)."""
        ...


_Now = tuple[
    bytes | tuple[str, ...],
    bytes | tuple[str, ...],
    tuple[tuple[str, int, str | tuple[str, ...], str | tuple[str, ...]], ...],
]
"""One second's signed string around the body (ready bytes or pieces cut at
``{id}``) and header rows (engine/domain/signing_compiled.py's ``Row``)."""
_URLS_MAX = 64
"""Signed URLs whose state one second keeps (a run posts to a few endpoints)."""


def _literal(text: str) -> str:
    """A template piece without placeholders, its ``{{``/``}}`` unescaped."""
    return text.replace("{{", "{").replace("}}", "}")


def _by_id(template: str) -> tuple[str, ...]:
    """``template`` cut at each ``{id}``: pieces over ``{timestamp}`` and ``{url}``
    only, formatted once per timestamp; a message then joins them with its id."""
    pieces = [""]
    for literal, field, _, _ in string.Formatter().parse(template):
        pieces[-1] += literal.replace("{", "{{").replace("}", "}}")
        if field == "id":
            pieces.append("")
        elif field is not None:
            pieces[-1] += "{" + field + "}"
    return tuple(pieces)


class SchemeSigner:
    """A :class:`~engine.domain.schemes.Scheme` compiled for one set of secrets:
    the keys decoded and their HMAC states hashed once, every template cut at
    ``{sig}`` and ``{id}`` into pieces formatted once per timestamp (a second
    signs thousands of messages), so a message costs one HMAC per secret and a
    few joins. Several secrets give one signature each, joined as the scheme says
    (a scheme without ``join`` takes one secret)."""

    __slots__ = (
        "_b64",
        "_cut",
        "_fast",
        "_item",
        "_join",
        "_macs",
        "_now",
        "_seconds",
        "_sig_at",
        "_t",
        "_url",
        "_url_used",
        "header",
        "scheme",
        "signs_url",
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
        own = spec.signature_header
        if header and header != own:
            if not spec.rename:
                raise ValueError(
                    f"--signature-header is not used by --sign {spec.name} "
                    f"(its signature header is {own})"
                )
            own = header_name(header)
        self.header = own
        item = spec.sig_item
        before, after = item.split("{sig}", 1)
        self._item = (_literal(before), _literal(after))
        self._join = _literal(spec.join)
        # every template as pieces: the signed string around {body}, each header
        # around {sig} (its repeated item cut out), each piece cut at {id}
        pre, post = spec.signed.split("{body}", 1)
        cut: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [("", _by_id(pre), _by_id(post))]
        for i, (name, value) in enumerate(spec.headers):
            if "{sig}" in value:
                self._sig_at = i
                left, right = value.replace(item, "{sig}", 1).split("{sig}", 1)
                cut.append((self.header, _by_id(left), _by_id(right)))
            else:
                cut.append((name, _by_id(value), ()))
        self._cut = tuple(cut)
        self._url_used = self.signs_url = any("{url}" in p for _, a, b in cut for p in a + b)
        self._t = -1
        self._url = ""
        self._fast: Sign | None = None
        # this second's state per signed URL ({url} schemes: square), so a run
        # that alternates endpoints does not format and compile again per request
        self._seconds: dict[str, tuple[_Now, Sign | None]] = {}
        self._now: _Now = (b"", b"", ())

    def __repr__(self) -> str:  # never the secret
        return f"SchemeSigner({self.scheme!r}, header={self.header!r}, secrets={len(self._macs)})"

    def _at(self, timestamp: int, url: str) -> None:
        """Format every piece for a new timestamp (or a new URL, where one is
        signed). A piece without ``{id}`` becomes its final text (bytes for the
        signed string); with one signature, the signature item's own text joins
        the header's text around it. A scheme that signs the URL keeps each
        URL's state for the second: a run's journeys alternate endpoints (ingest:
        orders, chargebacks), and formatting and compiling again at every change
        cost ~7 us per request (docs/PERFORMANCE.md, section 10)."""
        seconds = self._seconds
        if timestamp != self._t:
            seconds.clear()
        elif (got := seconds.get(url)) is not None:
            self._url = url
            self._now, self._fast = got
            return
        ts = timestamp_text(self.spec.timestamp, timestamp)
        self._t, self._url = timestamp, url

        def fmt(pieces: tuple[str, ...]) -> str | tuple[str, ...]:
            done = tuple(p.format(timestamp=ts, url=url) for p in pieces)
            return done[0] if len(done) == 1 else done

        (_, pre, post), *headers = self._cut
        head, tail = fmt(pre), fmt(post)
        rows: list[tuple[str, int, str | tuple[str, ...], str | tuple[str, ...]]] = []
        for name, left, right in headers:
            a, b = fmt(left), fmt(right) if right else ""
            if not right and name != self.header:
                rows.append((name, 0 if isinstance(a, str) else 2, a, ""))
                continue
            if len(self._macs) == 1 and isinstance(a, str) and isinstance(b, str):
                rows.append((name, 1, a + self._item[0], self._item[1] + b))
            else:
                rows.append((name, 3, a, b))
        self._now = (
            head.encode() if isinstance(head, str) else head,
            tail.encode() if isinstance(tail, str) else tail,
            tuple(rows),
        )
        one = len(self._macs) == 1 and not tail
        self._fast = (
            compile_second(self._macs[0], self._b64, self._now[0], self._now[2]) if one else None
        )
        if self._url_used:
            if len(seconds) >= _URLS_MAX:
                seconds.clear()
            seconds[url] = (self._now, self._fast)

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
        return list(self.pairs(body, event_id, timestamp, url))

    def pairs(self, body: bytes, event_id: str, timestamp: int, url: str = "") -> Pairs:
        """:meth:`headers` as a tuple: the hot path (engine/scenario/delivery.py)."""
        if timestamp != self._t or (self._url_used and url != self._url):
            self._at(timestamp, url)
        fast = self._fast
        if fast is not None:
            return fast((), body, event_id)
        return self._general(body, event_id)

    def bind(self, timestamp: int, url: str = "") -> Sign:
        """This second's compiled function, or the general path's, for ``url``
        (a scheme that signs no URL gives the same for every one)."""
        if timestamp != self._t or (self._url_used and url != self._url):
            self._at(timestamp, url)
        if self._fast is not None:
            return self._fast
        now = self._now  # the general path reads the state of the second it was bound in
        return lambda headers, body, event_id: headers + self._general(body, event_id, now)

    def _general(self, body: bytes, event_id: str, now: _Now | None = None) -> Pairs:
        """Any scheme and any number of secrets, from this second's pieces (or
        ``now``: those of the second a :meth:`bind` was made in)."""
        head, tail, rows = self._now if now is None else now
        msg = (head if isinstance(head, bytes) else event_id.join(head).encode()) + body
        if tail:
            msg += tail if isinstance(tail, bytes) else event_id.join(tail).encode()
        if len(self._macs) == 1:  # the item's text is in the rows already
            mac = self._macs[0]
            sig = mac.b64digest(msg) if self._b64 else mac.hexdigest(msg)
        else:
            sig = self._signatures(msg)
        out = []
        for name, kind, a, b in rows:
            if kind == 1:  # the signature between its ready texts: the common case
                out.append((name, a + sig + b))  # type: ignore[operator]
            elif kind == 0:
                out.append((name, a))
            elif kind == 2:
                out.append((name, event_id.join(a)))
            else:
                left = a if isinstance(a, str) else event_id.join(a)
                right = b if isinstance(b, str) else event_id.join(b)
                item = sig if len(self._macs) > 1 else self._item[0] + sig + self._item[1]
                out.append((name, left + item + right))
        return tuple(out)

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
