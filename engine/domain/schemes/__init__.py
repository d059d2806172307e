"""Signing schemes as data: what a provider's webhook signature looks like,
declared in a small TOML table instead of code (docs/SIGNING.md).

A scheme says which headers to send (each a template over ``{id}``,
``{timestamp}``, ``{sig}``), which string is signed (a template over ``{id}``,
``{timestamp}``, ``{body}``, ``{url}``), the HMAC's hash, the signature's
encoding, how the secret becomes the key, the timestamp's form, and how
several signatures share the header while a secret rolls. The built-in ones
are the ``*.toml`` files beside this module (package data); a scenario file
can embed the same table, and :func:`scheme_from_table` checks either.

Validation happens once, here, so that the signer compiled from a scheme
(engine/domain/signing.py) never meets a bad template on the hot path. A bad
table fails with one line naming the file and the key path.
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

ALGORITHMS = ("sha1", "sha256", "sha512")
"""The HMAC's hash function."""
ENCODINGS = ("hex", "base64")
"""How the MAC's bytes are written into the header."""
KEYS = ("text", "whsec-base64", "hex")
"""How the secret becomes the key: its UTF-8 text as is (Stripe, GitHub, ...),
base64 after an optional ``whsec_`` prefix (Standard Webhooks, Svix), or hex."""
TIMESTAMPS = ("unix", "rfc3339")
"""``{timestamp}`` as Unix seconds, or RFC 3339 UTC (``2026-01-31T12:00:00Z``)."""
SIGNED_FIELDS = frozenset({"id", "timestamp", "body", "url"})
HEADER_FIELDS = frozenset({"id", "timestamp", "sig"})
REFUSED = {
    "adyen": "Adyen signs fields of each notification item and writes the signature "
    "into the JSON body, which a header template cannot express",
    "twilio": "Twilio signs the URL plus the form parameters sorted by name, which a "
    "template over the raw body cannot express",
    "paypal": "PayPal signs with RSA (SHA256withRSA) and a certificate PayPal serves, "
    "not with an HMAC of a shared secret",
}
"""Providers whose scheme is not expressible as a template, and why (one line each)."""
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 token
_NAME = re.compile(r"[a-z0-9][a-z0-9-]*")
_KEYS = frozenset(
    {"name", "source", "headers", "signed", "algorithm", "encoding", "key", "timestamp"}
    | {"join", "rename"}
)


class SchemeError(ValueError):
    """A scheme table that cannot be used; the message names where and what is expected."""


@dataclass(frozen=True)
class Scheme:
    """One signing scheme, validated (build it with :func:`scheme_from_table`)."""

    name: str
    source: str  # where its facts come from (a provider's docs or SDK)
    headers: tuple[tuple[str, str], ...]  # (name, template over {id} {timestamp} {sig})
    signed: str  # template over {id} {timestamp} {body} {url}
    algorithm: str = "sha256"
    encoding: str = "hex"
    key: str = "text"
    timestamp: str = "unix"
    join: str = ""  # between signatures while a secret rolls; "" = one signature only
    rename: bool = False  # --signature-header may rename the header holding {sig}

    @property
    def signature_header(self) -> str:
        """The name of the header whose template holds ``{sig}``."""
        return next(name for name, value in self.headers if "{sig}" in value)

    @property
    def sig_item(self) -> str:
        """The part of the signature header repeated once per secret: the piece
        between ``join`` separators that holds ``{sig}`` (just ``{sig}`` without
        ``join``: one signature)."""
        template = dict(self.headers)[self.signature_header]
        if not self.join:
            return "{sig}"
        return next(item for item in template.split(self.join) if "{sig}" in item)

    def fields(self, template: str) -> set[str]:
        """The placeholders one of this scheme's templates uses."""
        return _fields(template)


def _fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}


def _template(text: object, where: str, allowed: frozenset[str]) -> str:
    """A template using only ``allowed`` placeholders, with no format specs."""
    if not isinstance(text, str):
        raise SchemeError(f"{where}: expected a string template")
    names = sorted(allowed)
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError:
        raise SchemeError(f"{where}: unbalanced braces (write {{{{ for a literal brace)") from None
    for _, field, spec, conv in parts:
        if field is None:
            continue
        if field not in allowed or spec or conv:
            got = "{" + field + (f"!{conv}" if conv else "") + (f":{spec}" if spec else "") + "}"
            raise SchemeError(f"{where}: unknown placeholder {got}; use {{{'}, {'.join(names)}}}")
    return text


def _choice(table: Mapping[str, object], key: str, choices: tuple[str, ...], where: str) -> str:
    value = table.get(key, Scheme.__dataclass_fields__[key].default)
    if value not in choices:
        raise SchemeError(f"{where}.{key}: expected one of {', '.join(choices)}, got {value!r}")
    return str(value)


def scheme_from_table(table: Mapping[str, object], where: str = "scheme") -> Scheme:
    """A checked :class:`Scheme` from a parsed TOML table; ``where`` prefixes every
    error (a file name, or a key path inside a scenario file)."""
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise SchemeError(f"{where}.{unknown[0]}: unknown key; expected {', '.join(sorted(_KEYS))}")
    name = table.get("name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise SchemeError(f"{where}.name: expected a lower-case name like my-provider")
    source = table.get("source", "")
    if not isinstance(source, str):
        raise SchemeError(f"{where}.source: expected a string")
    raw_headers = table.get("headers")
    if not isinstance(raw_headers, Mapping) or not raw_headers:
        raise SchemeError(f"{where}.headers: expected a table of header name = template")
    headers: list[tuple[str, str]] = []
    for header, value in raw_headers.items():
        if not _TOKEN.fullmatch(header):
            raise SchemeError(f"{where}.headers.{header}: not an HTTP header name")
        headers.append((header, _template(value, f"{where}.headers.{header}", HEADER_FIELDS)))
    holders = [h for h, v in headers if "sig" in _fields(v)]
    if len(holders) != 1 or dict(headers)[holders[0]].count("{sig}") != 1:
        raise SchemeError(f"{where}.headers: expected {{sig}} exactly once, in one header")
    signed = _template(table.get("signed"), f"{where}.signed", SIGNED_FIELDS)
    if signed.count("{body}") != 1:
        raise SchemeError(f"{where}.signed: expected {{body}} exactly once")
    join = table.get("join", "")
    if not isinstance(join, str):
        raise SchemeError(f'{where}.join: expected a string such as "," or " "')
    rename = table.get("rename", False)
    if not isinstance(rename, bool):
        raise SchemeError(f"{where}.rename: expected true or false")
    scheme = Scheme(
        name=name,
        source=source,
        headers=tuple(headers),
        signed=signed,
        algorithm=_choice(table, "algorithm", ALGORITHMS, where),
        encoding=_choice(table, "encoding", ENCODINGS, where),
        key=_choice(table, "key", KEYS, where),
        timestamp=_choice(table, "timestamp", TIMESTAMPS, where),
        join=join,
        rename=rename,
    )
    sent = set().union(*(_fields(v) for _, v in headers))
    unsent = sorted(_fields(signed) - sent - {"body", "url"})
    if unsent:
        raise SchemeError(
            f"{where}.signed: {{{unsent[0]}}} is signed but no header sends it "
            "(the receiver could not check the signature)"
        )
    if _fields(scheme.sig_item) != {"sig"}:
        raise SchemeError(
            f"{where}.join: the piece of {scheme.signature_header} between {join!r} "
            "separators that holds {sig} must hold nothing else"
        )
    return scheme


def load_scheme(text: str, where: str) -> Scheme:
    """A scheme from the text of a TOML file (``where`` names it in errors)."""
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SchemeError(f"{where}: {exc}") from None
    return scheme_from_table(table, where)


@cache
def builtin_names() -> tuple[str, ...]:
    """The built-in schemes' names, sorted (the ``*.toml`` files of this package)."""
    files = resources.files(__name__).iterdir()
    return tuple(sorted(f.name.removesuffix(".toml") for f in files if f.name.endswith(".toml")))


@cache
def builtin(name: str) -> Scheme:
    """A built-in scheme by name; ``ValueError`` naming the choices (or why a
    provider cannot be one) otherwise."""
    if name in REFUSED:
        raise ValueError(f"{name} cannot be signed by webhookload: {REFUSED[name]}")
    if name not in builtin_names():
        raise ValueError(
            f"unknown signing scheme {name!r}; expected one of {', '.join(builtin_names())}"
        )
    path = resources.files(__name__).joinpath(f"{name}.toml")
    scheme = load_scheme(path.read_text(encoding="utf-8"), f"{name}.toml")
    if scheme.name != name:
        raise SchemeError(f"{name}.toml.name: expected {name!r}, the file's name")
    return scheme
