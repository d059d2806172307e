"""The one place text a target sent is made safe to show (docs/HOSTILE.md).

Anything a server sends is hostile: a body, a reason phrase, a header value,
a redirect's ``Location``, a status string read back through the read API.
Printed raw, an ESC sequence retitles the user's terminal, writes its
clipboard (OSC 52) or clears the screen; a carriage return hides the line
before it; a bidi override reorders what the user reads; and a server that
echoes its request puts the user's secrets into every report. So every such
string passes through :meth:`Cleaner.clean` once, where it enters the
engine's results (engine/metrics/failures.py, engine/run/verify.py), before
any output (summary, TUI, JSON, HTML report, Prometheus, compare) sees it:

- secrets (the signing secret, ``--header`` values, the query values and
  password of ``--target`` and ``--read-api``) and the values of secret
  headers and query names named in the text (``Authorization: ...``,
  ``"stripe-signature": "..."``, ``?token=...``) become ``(hidden)``, as does
  a secret's start cut off at the end;
- every character that is not printable (C0 and C1 controls, DEL, ESC, CR,
  LF, tab, bidi overrides, zero-width and other format characters, unassigned
  and private-use code points) is shown as its escape (``\\x1b``, ``\\u202e``),
  so an escape sequence is inert text and a sample stays one line;
- the result is at most ``limit`` characters, a cut marked with ``…``.

The run's own URLs are shown through :func:`shown_url`, which hides the same
query values and password wherever a URL is printed.

The TUI still renders it as plain text and the HTML report still escapes it:
cleaning here does not replace escaping there, it makes the text itself safe.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit, urlunsplit

HIDDEN = "(hidden)"
"""What a secret is replaced by (as the settings and error lines show it)."""

SECRET_MIN = 6
"""A secret value shorter than this is hidden only where its header names it:
hiding every ``42`` in a body would hide more than it protects."""

PREFIX_MIN = 4
"""A secret's first characters at the very end of a text (where a preview was
cut) are hidden from this many on."""

_STRIPE_V1 = re.compile(r"v1=[0-9a-fA-F]{16,}")
"""A Stripe-style signature anywhere, whatever header (or none) it came in."""


def _escape(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _visible(text: str) -> str:
    """Every non-printable character as its escape (a no-op on clean text)."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else _escape(ch) for ch in text)


def _names_pattern(names: Iterable[str]) -> re.Pattern[str] | None:
    """``Name: value``, ``"name": "value"``, ``name=value`` for any of ``names``
    (case-insensitive): the value is group 2."""
    alts = sorted({re.escape(n.strip()) for n in names if n.strip()}, key=len, reverse=True)
    if not alts:
        return None
    key = "(?:" + "|".join(alts) + ")"
    return re.compile(r"(?i)(" + key + r"\\?[\"']?\s*[:=]\s*\\?[\"']?)([^\"'\\\r\n]+)")


def _query_pattern(names: Iterable[str]) -> re.Pattern[str] | None:
    """``name=value`` of a URL's query for any of ``names``: the value (to the
    next ``&``, space, quote or ``#``) is group 2."""
    alts = sorted({re.escape(n) for n in names if n}, key=len, reverse=True)
    if not alts:
        return None
    return re.compile(r"(?<![\w.-])((?:" + "|".join(alts) + r")=)([^&\s\"'#\\]+)")


def query_secrets(url: str) -> list[tuple[str, str]]:
    """The (name, value) pairs of ``url``'s query, and its password as
    ``("", password)``: what :func:`shown_url` hides, for a :class:`Cleaner` to
    hide in an echo too (as sent, and percent-decoded)."""
    parts = urlsplit(url)
    pairs = [("", parts.password)] if parts.password else []
    for item in parts.query.split("&"):
        name, eq, value = item.partition("=")
        if not eq:
            name, value = "", name
        if value:
            pairs += [(name, value)] + ([(name, unquote(value))] if "%" in value else [])
    return pairs


def shown_url(url: str) -> str:
    """``url`` as every output shows it (``--target``, ``--read-api``): each query
    value and a password ``(hidden)``, the names kept
    (``http://host/hooks?token=(hidden)``), a fragment left out. A receiver's
    token often rides in the query, and start lines, summaries and reports
    are pasted into tickets and CI logs."""
    if "?" not in url and "@" not in url and "#" not in url:
        return url  # nothing to hide (the common case costs no parsing)
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:  # not a URL a run could send to: nothing of it is shown
        return HIDDEN
    netloc = parts.netloc
    if password:
        user, _, host = netloc.rpartition("@")
        netloc = user.partition(":")[0] + ":" + HIDDEN + "@" + host
    items = []
    for item in parts.query.split("&") if parts.query else ():
        name, eq, value = item.partition("=")
        items.append(name + "=" + HIDDEN if eq and value else (item if eq else HIDDEN))
    return urlunsplit((parts.scheme, netloc, parts.path, "&".join(items), ""))


class Cleaner:
    """Cleans target text; knows the run's secrets, so it hides their echoes."""

    __slots__ = ("_names", "_query", "_secrets")

    def __init__(
        self,
        secrets: Iterable[str] = (),
        secret_headers: Iterable[str] = (),
        query_names: Iterable[str] = (),
    ) -> None:
        self._secrets = tuple(
            sorted({s for s in secrets if len(s) >= SECRET_MIN}, key=len, reverse=True)
        )
        self._names = _names_pattern(secret_headers)
        self._query = _query_pattern(query_names)

    def redact(self, text: str) -> str:
        """``text`` with every echo of a secret hidden (see the module docstring)."""
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, HIDDEN)
        if self._names is not None:
            text = self._names.sub(lambda m: m.group(1) + HIDDEN, text)
        if self._query is not None:
            text = self._query.sub(lambda m: m.group(1) + HIDDEN, text)
        text = _STRIPE_V1.sub("v1=" + HIDDEN, text)
        for secret in self._secrets:  # a secret cut short where the preview ends
            for k in range(min(len(secret) - 1, len(text)), PREFIX_MIN - 1, -1):
                if text.endswith(secret[:k]):
                    return text[:-k] + HIDDEN
        return text

    def clean(self, text: str | bytes, limit: int) -> str:
        """``text`` (bytes are read as UTF-8, bad bytes as U+FFFD) safe to show:
        secrets hidden, controls escaped, at most ``limit`` characters."""
        if isinstance(text, bytes):
            text = text.decode("utf-8", errors="replace")
        shown = _visible(self.redact(text))
        if len(shown) > limit:
            shown = shown[: limit - 1] + "…"
        return shown


PLAIN = Cleaner()
"""A cleaner with no secrets to hide: for text no secret can be echoed into."""


def clean(text: str | bytes, limit: int) -> str:
    """:meth:`Cleaner.clean` with no secrets known."""
    return PLAIN.clean(text, limit)
