"""Run settings and their validation, shared by the CLI and the TUI form.

Each field has one validator that turns the user's text into a value or
raises :class:`ConfigError` naming the flag and what is expected, so the
CLI's error line and the form's inline message use the same words.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from engine.domain.durations import format_duration, parse_duration
from engine.domain.statuses import CONTRACTS as CONTRACTS
from engine.domain.statuses import TARGET_MODES
from engine.domain.thresholds import ThresholdSyntaxError, parse_spec
from engine.errors import UsageError

CLIENTS = ("fast", "aiohttp", "httpx", "pyreqwest")
BUILTIN = "builtin"


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
    workers: int = 1  # engine processes (shards); totals like vus are split among them
    backend: str = "process"  # where shards run: local processes, or Ray actors
    ray_address: str = ""  # --backend ray: "" starts a local Ray, else auto or ray://host:port

    def __post_init__(self) -> None:
        # a tuple even when built from JSON (the worker's argv), which has lists
        object.__setattr__(self, "thresholds", tuple(self.thresholds))

    def as_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["duration"] = format_duration(self.duration) if self.duration else "0"
        d["think"] = format_duration(self.think) if self.think else "0"
        d["timeout"] = format_duration(self.timeout)
        d["verify_wait"] = format_duration(self.verify_wait) if self.verify_wait else "0"
        return d


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
        elif name in PARSERS:
            values[name] = PARSERS[name](value if isinstance(value, str) else ",".join(value))
        else:
            raise KeyError(name)
    config = RunConfig(**values)
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
    if config.ray_address and config.backend != "ray":
        raise ConfigError("ray-address", "used with --backend ray", config.ray_address)
    if config.workers > config.vus:
        # every shard runs at least one VU (shares differ by at most one)
        raise ConfigError("workers", f"at most --vus ({config.vus})", str(config.workers))
    return config


def with_seed(config: RunConfig) -> RunConfig:
    """``config`` with a seed: its own, or a freshly drawn one, so that every run
    records the seed it used and ``--seed N`` reproduces its choices."""
    if config.seed is not None:
        return config
    return dataclasses.replace(config, seed=secrets.randbelow(2**32))
