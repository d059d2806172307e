"""Each setting's validator: the user's text in, a value or a :class:`ConfigError` out.

One validator per field, so the CLI's error line and the TUI form's inline
message use the same words (``--vus must be a positive integer, got 'x'``).
:mod:`engine.config` builds a whole :class:`~engine.config.RunConfig` from
them and checks how the fields go together.
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from engine.domain.durations import parse_duration
from engine.domain.schemes import REFUSED
from engine.domain.signing import SCHEMES, split_secrets
from engine.domain.stages import EXPECTED as STAGES_EXPECTED
from engine.domain.stages import format_stages, parse_stages
from engine.domain.statuses import CONTRACTS as CONTRACTS
from engine.domain.statuses import TARGET_MODES
from engine.domain.thresholds import ThresholdSyntaxError, parse_spec
from engine.errors import UsageError

CLIENTS = ("fast", "aiohttp", "httpx", "pyreqwest")
BUILTIN = "builtin"
DEFAULT_MAX_INFLIGHT = 1000
"""Journeys in flight at most with ``--rate`` unless ``--max-inflight`` says:
enough for 5,000 journeys/s of 200 ms each, and within a default
``ulimit -n`` of 1024 (about one connection per journey in flight)."""
READ_MIXES = ("id", "api")


class ConfigError(UsageError, ValueError):
    """A bad setting (exit 2): ``str()`` is the one line shown to the user."""

    def __init__(self, field: str, expected: str, got: str) -> None:
        self.field = field
        self.expected = expected
        self.got = got
        super().__init__(f"--{field} must be {expected}, got {got!r}")


def _positive_int(field: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            value = 0
        if value <= 0:
            raise ConfigError(field, "a positive integer", text)
        return value

    return parse


def _nonneg_int(field: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            value = -1
        if value < 0:
            raise ConfigError(field, "a whole number of 0 or more", text)
        return value

    return parse


def _positive_number(field: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text.strip())
        except ValueError:
            value = 0.0
        if not 0.0 < value < float("inf"):
            raise ConfigError(field, "a number greater than 0, like 200 or 0.5", text)
        return value

    return parse


def _stages(text: str) -> str:
    """The canonical text of ``--stages`` ("" for none: the form's empty field)."""
    if not text.strip():
        return ""
    try:
        return format_stages(parse_stages(text))
    except ValueError:
        raise ConfigError("stages", STAGES_EXPECTED, text) from None


def _fraction(field: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text.strip())
        except ValueError:
            value = -1.0
        if not 0.0 <= value <= 1.0:
            raise ConfigError(field, "a number from 0 to 1", text)
        return value

    return parse


def _duration(field: str, *, allow_zero: bool) -> Callable[[str], float]:
    expected = "a duration like 500ms, 30s, 2m or 1m30s" + (" (0 = no limit)" if allow_zero else "")
    if field == "think":
        expected = "a duration like 0, 10ms or 1s"
    if field == "verify-wait":
        expected = "a duration like 0, 5s or 1m"
    if field == "grace":
        expected = "a duration like 0, 500ms or 1s"

    def parse(text: str) -> float:
        try:
            value = parse_duration(text)
        except ValueError:
            raise ConfigError(field, expected, text) from None
        if value == 0 and not allow_zero:
            raise ConfigError(field, "a duration greater than 0, like 5s", text)
        return value

    return parse


def _choice(field: str, choices: tuple[str, ...]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        value = text.strip()
        if value not in choices:
            raise ConfigError(field, "one of " + ", ".join(choices), text)
        return value

    return parse


def parse_target(text: str) -> str:
    """``builtin`` or an ``http(s)://host[:port]`` base URL, without a trailing slash."""
    value = text.strip()
    if value == BUILTIN:
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            "target", "an http:// or https:// URL like http://localhost:3001, or builtin", text
        )
    try:
        _ = parts.port
    except ValueError:
        raise ConfigError("target", "a URL with a port from 1 to 65535", text) from None
    return value.rstrip("/")


def _workers(text: str) -> int:
    """``--workers``: a positive integer, or ``auto`` for one per core."""
    if text.strip() == "auto":
        return os.cpu_count() or 1
    try:
        value = int(text.strip())
    except ValueError:
        value = 0
    if value <= 0:
        raise ConfigError("workers", "a positive integer or auto", text)
    return value


BACKENDS = ("process", "ray")
INSTALL_RAY = "pip install 'webhookload[distributed]'"


def _backend(text: str) -> str:
    """``--backend``: ``ray`` needs the optional extra, said in the one line."""
    value = _choice("backend", BACKENDS)(text)
    if value == "ray" and importlib.util.find_spec("ray") is None:
        raise ConfigError("backend", f"process, or ray once installed ({INSTALL_RAY})", text)
    return value


def _ray_address(text: str) -> str:
    """``auto``, a Ray client URL, or the head's ``HOST:PORT`` (its GCS address, as
    ``ray start --address`` takes it): a driver on a cluster node joins it directly."""
    value = text.strip()
    if value in ("", "auto") or (value.startswith("ray://") and len(value) > len("ray://")):
        return value
    host, _, port = value.rpartition(":")
    if host and "/" not in host and port.isdigit() and 0 < int(port) < 65536:
        return value
    expected = "auto, the head's HOST:PORT (10.0.0.5:6379) or a Ray client URL (ray://host:10001)"
    raise ConfigError("ray-address", expected, text)


def _read_api(text: str) -> str:
    """The read API's base URL (the payment manager API; port 3000 in production)."""
    if text.strip() == "":
        return ""
    expected = "an http:// or https:// URL like http://localhost:3000"
    if text.strip() == BUILTIN:
        raise ConfigError("read-api", expected, text)
    try:
        return parse_target(text)
    except ConfigError:
        raise ConfigError("read-api", expected, text) from None


def _seed(text: str) -> int | None:
    if text.strip() == "":
        return None
    try:
        return int(text.strip())
    except ValueError:
        raise ConfigError("seed", "an integer", text) from None


def parse_threshold_text(text: str) -> str:
    """One ``--threshold`` expression, checked, without its spaces (``p99 < 1s`` -> ``p99<1s``)."""
    try:
        return parse_spec(text, None).text  # endpoint names: build_config, by the Shape
    except ThresholdSyntaxError as exc:
        raise ConfigError("threshold", exc.expected, text) from None


def _thresholds(text: str) -> tuple[str, ...]:
    """Comma-separated expressions (build_config joins a repeated flag's values)."""
    return tuple(parse_threshold_text(t) for t in text.split(",") if t.strip())


_HEADER = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+:[ \t]*[^\r\n]*")


_FRAMING = frozenset({"host", "content-length", "transfer-encoding", "connection"})
"""Headers the HTTP client owns (the URL's host, the body's framing, keep-alive):
refused in ``--header``. User-Agent, Accept and Content-Type are the client's
too, but a ``--header`` of that name replaces the client's (engine/transports/base.py)."""


def parse_header_text(text: str) -> str:
    """One ``--header 'Name: value'`` (RFC 9110 token name, a value on one line)."""
    value = text.strip()
    if not _HEADER.fullmatch(value) or not value.partition(":")[2].strip():
        raise ConfigError("header", "'Name: value', like 'X-Tenant: acme'", text)
    name = value.partition(":")[0].strip()
    if name.lower() in _FRAMING:
        raise ConfigError("header", f"a header the client does not set itself, not {name}", text)
    return value


def headers_of(text: str | Sequence[str]) -> tuple[str, ...]:
    items = [text] if isinstance(text, str) else list(text)
    """``--header`` values (a repeated flag gives a list; a value may hold commas)."""
    return tuple(parse_header_text(h) for h in items)


HIDDEN = "(hidden)"
"""What an error line shows in place of a secret."""


_ENV_REF = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def expand_header_env(text: str, env: Mapping[str, str]) -> str:
    """A ``--header`` whose value names environment variables (``$TOKEN`` or
    ``${TOKEN}``; ``$$`` is one ``$``), with their values: a token need not be
    on the command line, where ``ps`` shows it. The name is left as typed."""
    name, colon, value = text.partition(":")
    if not colon or "$" not in value:
        return text

    def look_up(m: re.Match[str]) -> str:
        var = m.group(1) or m.group(2)
        if var is None:
            return "$"
        if not env.get(var):
            raise ConfigError(
                "header", f"a set environment variable (${var} is unset or empty)", text
            )
        return env[var]

    expanded = name + colon + _ENV_REF.sub(look_up, value)
    try:
        return parse_header_text(expanded)
    except ConfigError:  # shown as typed: the expanded value may be a token
        raise ConfigError("header", "'Name: value' on one line once expanded", text) from None


def read_header_file(path: str) -> list[str]:
    """``--header-file``: one ``Name: value`` a line (blank lines and ``#``
    comments skipped), taken as written (no ``$`` expansion). A bad line is
    named by file and line, never shown: it may hold a token."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise ConfigError("header-file", f"a readable UTF-8 file ({why})", path) from None
    headers = []
    for n, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            headers.append(parse_header_text(line))
        except ConfigError:
            raise ConfigError(
                "header-file", "lines of 'Name: value'", f"{path}, line {n}"
            ) from None
    return headers


def _secret(text: str) -> str:
    """One secret, or several one per line (SECRET_SEP): each signs every request."""
    if not split_secrets(text):
        raise ConfigError("secret", "a non-empty signing secret", "")
    return text


def _sign(text: str) -> str:
    """A built-in scheme's name; a provider that no template can express says why."""
    value = text.strip()
    if value in REFUSED:
        raise ConfigError("sign", f"a scheme webhookload can sign; {REFUSED[value]}", text)
    if value not in SCHEMES:
        raise ConfigError("sign", "one of " + ", ".join(SCHEMES), text)
    return value


def _scenario(text: str) -> str:
    """A built-in's name or a file's path; the file itself is read and checked
    where the run is set up (engine/scenario/select.py), one line if it is bad."""
    if not text.strip():
        raise ConfigError("scenario", "a built-in scenario's name or a file's path", text)
    return text.strip()


PARSERS: Mapping[str, Callable[[str], Any]] = {
    "target": parse_target,
    "vus": _positive_int("vus"),
    "duration": _duration("duration", allow_zero=True),
    "dispute_ratio": _fraction("dispute-ratio"),
    "think": _duration("think", allow_zero=True),
    "timeout": _duration("timeout", allow_zero=False),
    "grace": _duration("grace", allow_zero=True),
    "contract": _choice("contract", CONTRACTS),
    "client": _choice("client", CLIENTS),
    "seed": _seed,
    "max_updates": _nonneg_int("max-updates"),
    "read_ratio": _fraction("read-ratio"),
    "target_mode": _choice("target-mode", TARGET_MODES),
    "verify": _nonneg_int("verify"),
    "verify_wait": _duration("verify-wait", allow_zero=True),
    "visibility": _nonneg_int("visibility"),
    "read_api": _read_api,
    "thresholds": _thresholds,
    "rate": _positive_number("rate"),
    "max_inflight": _positive_int("max-inflight"),
    "stages": _stages,
    "sign": _sign,
    "secret": _secret,
    "signature_header": lambda text: text.strip(),
    "headers": lambda text: (parse_header_text(text),),  # one; build_config takes a list
    "read_mix": _choice("read-mix", READ_MIXES),
    "duplicate_rate": _fraction("duplicate-rate"),
    "reorder_rate": _fraction("reorder-rate"),
    "retries": _nonneg_int("retries"),
    "retry_speed": _positive_number("retry-speed"),
    "workers": _workers,
    "backend": _backend,
    "ray_address": _ray_address,
    "scenario": _scenario,
}
"""Field name -> validator taking the user's text (the CLI and TUI both use it)."""


def header_values(
    headers: list[str] | None, files: list[str] | None, env: Mapping[str, str]
) -> list[str] | None:
    """``--header`` values with ``$NAME`` read from ``env``, then every
    ``--header-file``'s lines; None when there are none (the default)."""
    out = [expand_header_env(h, env) for h in headers or ()]
    for path in files or ():
        out += read_header_file(path)
    return out or None
