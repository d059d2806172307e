"""Run settings and their validation, shared by the CLI and the TUI form.

Each field has one validator that turns the user's text into a value or
raises :class:`ConfigError` naming the flag and what is expected, so the
CLI's error line and the form's inline message use the same words.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from engine.domain.durations import format_duration, parse_duration
from engine.domain.signing import DEFAULT_SIGNATURE_HEADER, SCHEMES, SecretError, make_signer
from engine.domain.stages import EXPECTED as STAGES_EXPECTED
from engine.domain.stages import format_stages, parse_stages, total_duration
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


@dataclass(frozen=True, slots=True)
class RunConfig:
    """Every effective setting of a run (written into the JSON summary)."""

    target: str = "http://localhost:3001"
    vus: int = 10
    duration: float = 30.0
    dispute_ratio: float = 0.3
    think: float = 0.010
    timeout: float = 5.0
    contract: str = "ingest"
    client: str = "fast"
    http2: bool = False
    seed: int | None = None  # None: the runner draws one (see with_seed)
    max_updates: int = 3
    read_ratio: float = 0.0
    target_mode: str = "sync"
    verify: int = 0
    verify_wait: float = 10.0
    read_api: str = ""  # "" = the target's own URL
    thresholds: tuple[str, ...] = ()  # --threshold, repeatable; judged at the end
    abort_on_fail: bool = False  # end the run as soon as a threshold fails
    rate: float = 0.0  # --rate: journeys started per second (open model); 0 = --vus
    max_inflight: int = DEFAULT_MAX_INFLIGHT  # --rate: journeys in flight at most
    stages: str = ""  # --stages, canonical text ("" = none): VU or rate targets
    # delivering like a provider (engine/scenario/delivery.py)
    sign: str = ""  # "" (unsigned), stripe or standard
    # never shown: not in repr, "set"/"unset" in as_dict, dropped from the worker's argv
    secret: str = field(default="", repr=False)
    signature_header: str = DEFAULT_SIGNATURE_HEADER
    headers: tuple[str, ...] = ()  # --header 'Name: value', repeatable, on every webhook
    read_mix: str = "id"  # id: GET /orders/{id}; api: also the read API's lists, in turn
    duplicate_rate: float = 0.0  # share of accepted webhooks delivered again
    reorder_rate: float = 0.0  # share of orders/disputes whose 2nd event goes first
    retries: int = 0  # retries of a webhook on 5xx, 429, timeouts, connection errors
    workers: int = 1  # engine processes (shards); totals like vus are split among them
    backend: str = "process"  # where shards run: local processes, or Ray actors
    ray_address: str = ""  # --backend ray: "" starts a local Ray, else auto or ray://host:port

    def __post_init__(self) -> None:
        # a tuple even when built from JSON (the worker's argv), which has lists
        object.__setattr__(self, "thresholds", tuple(self.thresholds))
        object.__setattr__(self, "headers", tuple(self.headers))

    def as_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["duration"] = format_duration(self.duration) if self.duration else "0"
        d["think"] = format_duration(self.think) if self.think else "0"
        d["timeout"] = format_duration(self.timeout)
        d["verify_wait"] = format_duration(self.verify_wait) if self.verify_wait else "0"
        d["secret"] = "set" if self.secret else "unset"
        # a header's value may be a token too: its name only
        d["headers"] = [h.partition(":")[0] + ": (hidden)" for h in self.headers]
        return d

    def header_pairs(self) -> tuple[tuple[str, str], ...]:
        """``--header`` values as (name, value) pairs, as transports take them."""
        pairs = (h.partition(":") for h in self.headers)
        return tuple((name.strip(), value.strip()) for name, _, value in pairs)


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
        raise ConfigError("target", "an http:// URL like http://localhost:3001, or builtin", text)
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
    value = text.strip()
    if value in ("", "auto") or (value.startswith("ray://") and len(value) > len("ray://")):
        return value
    raise ConfigError("ray-address", "auto or a Ray client URL like ray://host:10001", text)


def _read_api(text: str) -> str:
    """The read API's base URL (the payment manager API; port 3000 in production)."""
    if text.strip() == "":
        return ""
    expected = "an http:// URL like http://localhost:3000"
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
        return parse_spec(text).text
    except ThresholdSyntaxError as exc:
        raise ConfigError("threshold", exc.expected, text) from None


def _thresholds(text: str) -> tuple[str, ...]:
    """Comma-separated expressions (build_config joins a repeated flag's values)."""
    return tuple(parse_threshold_text(t) for t in text.split(",") if t.strip())


_HEADER = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+:[ \t]*[^\r\n]*")


def parse_header_text(text: str) -> str:
    """One ``--header 'Name: value'`` (RFC 9110 token name, a value on one line)."""
    value = text.strip()
    if not _HEADER.fullmatch(value) or not value.partition(":")[2].strip():
        raise ConfigError("header", "'Name: value', like 'X-Tenant: acme'", text)
    return value


def _headers(text: str | Sequence[str]) -> tuple[str, ...]:
    items = [text] if isinstance(text, str) else list(text)
    return tuple(parse_header_text(h) for h in items)


HIDDEN = "(hidden)"
"""What an error line shows in place of a secret."""


def _secret(text: str) -> str:
    if not text:
        raise ConfigError("secret", "a non-empty signing secret", "")
    return text


PARSERS: Mapping[str, Callable[[str], Any]] = {
    "target": parse_target,
    "vus": _positive_int("vus"),
    "duration": _duration("duration", allow_zero=True),
    "dispute_ratio": _fraction("dispute-ratio"),
    "think": _duration("think", allow_zero=True),
    "timeout": _duration("timeout", allow_zero=False),
    "contract": _choice("contract", CONTRACTS),
    "client": _choice("client", CLIENTS),
    "seed": _seed,
    "max_updates": _nonneg_int("max-updates"),
    "read_ratio": _fraction("read-ratio"),
    "target_mode": _choice("target-mode", TARGET_MODES),
    "verify": _nonneg_int("verify"),
    "verify_wait": _duration("verify-wait", allow_zero=True),
    "read_api": _read_api,
    "thresholds": _thresholds,
    "rate": _positive_number("rate"),
    "max_inflight": _positive_int("max-inflight"),
    "stages": _stages,
    "sign": _choice("sign", SCHEMES),
    "secret": _secret,
    "signature_header": lambda text: text.strip(),
    "headers": lambda text: (parse_header_text(text),),  # one; build_config takes a list
    "read_mix": _choice("read-mix", READ_MIXES),
    "duplicate_rate": _fraction("duplicate-rate"),
    "reorder_rate": _fraction("reorder-rate"),
    "retries": _nonneg_int("retries"),
    "workers": _workers,
    "backend": _backend,
    "ray_address": _ray_address,
}
"""Field name -> validator taking the user's text (the CLI and TUI both use it)."""


def build_config(raw: Mapping[str, str | Sequence[str] | bool | None]) -> RunConfig:
    """A :class:`RunConfig` from user text (a list for a repeatable flag); the
    first bad field raises ConfigError."""
    values: dict[str, Any] = {}
    for name, value in raw.items():
        if value is None:
            continue
        if isinstance(value, bool):
            values[name] = value
        elif name == "headers":  # values may hold commas: each one is a header
            values[name] = _headers(value)
        elif name in PARSERS:
            values[name] = PARSERS[name](value if isinstance(value, str) else ",".join(value))
        else:
            raise KeyError(name)
    config = RunConfig(**values)
    if config.rate and raw.get("vus") is not None:
        # two load models: N looping users, or arrivals at a rate
        raise ConfigError("rate", "used without --vus (one load model: users or a rate)", "--vus")
    if raw.get("max_inflight") is not None and not config.rate:
        raise ConfigError("max-inflight", "used with --rate", "no --rate")
    if config.stages:
        config = _staged(config, raw)
    if config.http2 and config.client != "httpx":
        raise ConfigError("http2", "used with --client httpx", "--client " + config.client)
    if config.target_mode != "sync" and config.target != BUILTIN:
        # the mode is the builtin target's; a service of your own has its own
        raise ConfigError(
            "target-mode",
            "used with --target builtin (it sets the builtin target's mode)",
            config.target_mode,
        )
    if config.abort_on_fail and not config.thresholds:
        raise ConfigError("abort-on-fail", "used with at least one --threshold", "no --threshold")
    if config.http2 and config.target == "builtin":
        # every request would fail: the reference target speaks HTTP/1.1 only
        raise ConfigError("http2", "used with a target that speaks HTTP/2", "--target builtin")
    _check_signing(config)
    if config.ray_address and config.backend != "ray":
        raise ConfigError("ray-address", "used with --backend ray", config.ray_address)
    if config.workers > 1 and config.stages:
        raise ConfigError(
            "workers",
            "1 with --stages (ramps are not split across shards yet)",
            str(config.workers),
        )
    if config.workers > 1 and config.workers > config.vus and not config.rate:
        # every shard runs at least one VU (shares differ by at most one)
        raise ConfigError("workers", f"at most --vus ({config.vus})", str(config.workers))
    return config


def _staged(config: RunConfig, raw: Mapping[str, object]) -> RunConfig:
    """With ``--stages`` the run lasts their sum, and the closed model ramps from
    ``--vus`` when given, else from 0 (the open model from ``--rate``)."""
    if raw.get("duration") is not None:
        raise ConfigError(
            "duration",
            "left out with --stages (the run lasts the stages' sum)",
            str(raw["duration"]),
        )
    stages = parse_stages(config.stages)
    if not config.rate and any(s.target != int(s.target) for s in stages):
        raise ConfigError("stages", "whole VU counts without --rate, like 30s:10", config.stages)
    vus = config.vus if raw.get("vus") is not None else 0
    return dataclasses.replace(config, duration=total_duration(stages), vus=vus)


def _check_signing(config: RunConfig) -> None:
    """--sign needs a usable secret and --secret needs --sign; the error lines name
    the flags, never the secret's value."""
    if not config.sign:
        if config.secret:
            raise ConfigError("secret", "used with --sign stripe or --sign standard", HIDDEN)
        return
    if not config.secret:
        raise ConfigError(
            "sign", "used with a secret (set WEBHOOKLOAD_SECRET, or pass --secret)", config.sign
        )
    try:
        make_signer(config.sign, config.secret, config.signature_header)
    except SecretError as exc:
        raise ConfigError("secret", str(exc), HIDDEN) from None
    except ValueError:
        raise ConfigError(
            "signature-header", "an HTTP header name", config.signature_header
        ) from None


def with_seed(config: RunConfig) -> RunConfig:
    """``config`` with a seed: its own, or a freshly drawn one, so that every run
    records the seed it used and ``--seed N`` reproduces its choices."""
    if config.seed is not None:
        return config
    return dataclasses.replace(config, seed=secrets.randbelow(2**32))
