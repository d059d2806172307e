"""Run settings: every effective setting of a run, and how the fields go together.

Each field's own validator lives in :mod:`engine.config_fields` (re-exported
here: the CLI, the TUI form and the tests import them from this module);
:func:`build_config` runs them over the user's text, then checks the
combinations (``--rate`` excludes ``--vus``, ``--http2`` needs httpx, ...),
each refusal one :class:`ConfigError` line naming the flag.
"""

from __future__ import annotations

import dataclasses
import functools
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from engine.config_fields import (
    BACKENDS,
    BUILTIN,
    CLIENTS,
    CONTRACTS,
    DEFAULT_MAX_INFLIGHT,
    HIDDEN,
    INSTALL_RAY,
    PARSERS,
    READ_MIXES,
    ConfigError,
    expand_header_env,
    header_values,
    headers_of,
    parse_header_text,
    parse_target,
    parse_threshold_text,
    read_header_file,
)
from engine.domain.durations import format_duration
from engine.domain.policies import PROVIDER_TIMEOUTS, Policy, policy_from_table
from engine.domain.sanitize import Cleaner, query_secrets, shown_url
from engine.domain.schemes import builtin
from engine.domain.shape import Shape, shape_for_contract
from engine.domain.signing import SchemeSigner, SecretError
from engine.domain.signing_base import SECRET_SEP
from engine.domain.stages import parse_stages, total_duration
from engine.domain.thresholds import ThresholdSyntaxError, parse_spec

__all__ = [
    "BACKENDS",
    "BUILTIN",
    "CLIENTS",
    "CONTRACTS",
    "DEFAULT_MAX_INFLIGHT",
    "DERIVED",
    "HIDDEN",
    "INSTALL_RAY",
    "PARSERS",
    "READ_MIXES",
    "ConfigError",
    "RunConfig",
    "build_config",
    "expand_header_env",
    "header_values",
    "parse_header_text",
    "parse_target",
    "parse_threshold_text",
    "read_header_file",
    "with_seed",
]


@dataclass(frozen=True, slots=True)
class RunConfig:
    """Every effective setting of a run (written into the JSON summary)."""

    target: str = "http://localhost:3001"
    vus: int = 10
    duration: float = 30.0
    dispute_ratio: float = 0.3
    think: float = 0.010
    timeout: float = 5.0
    grace: float = 1.0  # at the deadline, in-flight requests may finish this long
    contract: str = "ingest"
    client: str = "fast"
    http2: bool = False
    seed: int | None = None  # None: the runner draws one (see with_seed)
    max_updates: int = 3
    read_ratio: float = 0.0
    target_mode: str = "sync"
    verify: int = 0
    verify_wait: float = 10.0
    visibility: int = 0  # --visibility N: follow N accepted orders until readable
    read_api: str = ""  # "" = the target's own URL
    thresholds: tuple[str, ...] = ()  # --threshold, repeatable; judged at the end
    abort_on_fail: bool = False  # end the run as soon as a threshold fails
    rate: float = 0.0  # --rate: journeys started per second (open model); 0 = --vus
    max_inflight: int = DEFAULT_MAX_INFLIGHT  # --rate: journeys in flight at most
    stages: str = ""  # --stages, canonical text ("" = none): VU or rate targets
    # delivering like a provider (engine/scenario/delivery.py)
    sign: str = ""  # "" (unsigned) or a built-in scheme (engine/domain/schemes/*.toml)
    # never shown: not in repr, "set"/"unset" in as_dict, dropped from the worker's argv;
    # several secrets are one per line (each signs every request while a secret rolls)
    secret: str = field(default="", repr=False)
    signature_header: str = ""  # "" = the scheme's own (stripe: Stripe-Signature)
    headers: tuple[str, ...] = ()  # --header 'Name: value', repeatable, on every webhook
    read_mix: str = "id"  # id: GET /orders/{id}; api: also the read API's lists, in turn
    duplicate_rate: float = 0.0  # share of accepted webhooks delivered again
    reorder_rate: float = 0.0  # share of orders/disputes whose 2nd event goes first
    retries: int = 0  # retries of a webhook on 5xx, 429, timeouts, connection errors
    retry_speed: float = 1.0  # a delivery policy's retry schedule played this many times faster
    workers: int = 1  # engine processes (shards); totals like vus are split among them
    backend: str = "process"  # where shards run: local processes, or Ray actors
    ray_address: str = ""  # --backend ray: "" starts a local Ray, else auto, host:port or ray://
    # --scenario NAME|PATH: a scenario file run by engine/scenario/flows.py ("" = --contract's
    # walker). The rest is derived from the file when the run is set up (engine/scenario/
    # select.py), never a flag: its TEXT travels to shards and Ray actors (they need not
    # have the file), its Shape names the outputs, and which settings the user gave
    scenario: str = ""
    scenario_text: str = field(default="", repr=False)
    scenario_shape: str = field(default="", repr=False)  # Shape.as_json() as JSON text
    scenario_overrides: tuple[str, ...] = ()  # of dispute_ratio, max_updates: given, not the file's
    # the file's [delivery] policy (issue 22) as JSON text ("" = none): every output and
    # shard reads it from here (RunConfig.policy), without the file
    delivery_policy: str = field(default="", repr=False)
    # the scheme the file names (``sign = ...``): signing still takes --sign, so an
    # unsigned run of a signing provider's file says so (outputs/settings.py)
    scenario_sign: str = ""

    def __post_init__(self) -> None:
        # a tuple even when built from JSON (the worker's argv), which has lists
        object.__setattr__(self, "thresholds", tuple(self.thresholds))
        object.__setattr__(self, "headers", tuple(self.headers))
        object.__setattr__(self, "scenario_overrides", tuple(self.scenario_overrides))

    def as_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["duration"] = format_duration(self.duration) if self.duration else "0"
        d["think"] = format_duration(self.think) if self.think else "0"
        d["timeout"] = format_duration(self.timeout)
        d["grace"] = format_duration(self.grace) if self.grace else "0"
        d["verify_wait"] = format_duration(self.verify_wait) if self.verify_wait else "0"
        d["secret"] = "set" if self.secret else "unset"
        d["target"] = shown_url(self.target)  # a token in the query: its name only
        d["read_api"] = shown_url(self.read_api)
        # a header's value may be a token too: its name only
        d["headers"] = [h.partition(":")[0] + ": (hidden)" for h in self.headers]
        for name in DERIVED:  # the file's text and shape: the JSON has its own shape
            del d[name]
        return d

    @property
    def shape(self) -> Shape:
        """What the outputs name and count by: the scenario's endpoints and flows."""
        if self.scenario_shape:
            return _shape_of(self.scenario_shape)
        return shape_for_contract(self.contract)

    @property
    def policy(self) -> Policy | None:
        """The scenario's delivery policy (its ``[delivery]`` table), None without one."""
        return _policy_of(self.delivery_policy) if self.delivery_policy else None

    def header_pairs(self) -> tuple[tuple[str, str], ...]:
        """``--header`` values as (name, value) pairs, as transports take them."""
        pairs = (h.partition(":") for h in self.headers)
        return tuple((name.strip(), value.strip()) for name, _, value in pairs)

    def cleaner(self) -> Cleaner:
        """What cleans a target's text in this run: it knows the secrets an echo
        must not show (the signing secret, every ``--header`` value, the values
        of the signature header and of every ``--header`` by name, and the query
        values and password of ``--target`` and ``--read-api``)."""
        pairs = self.header_pairs()
        queries = [*query_secrets(self.target), *query_secrets(self.read_api)]
        return Cleaner(
            secrets=[
                *self.secret.split(SECRET_SEP),
                *(value for _, value in pairs),
                *(value for _, value in queries),
            ],
            secret_headers=[self.signature_header, *(name for name, _ in pairs)],
            query_names=[name for name, _ in queries],
        )


DERIVED = (
    "scenario_text",
    "scenario_shape",
    "scenario_overrides",
    "delivery_policy",
    "scenario_sign",
)
"""RunConfig fields set from the scenario file, not by a flag (nor in the JSON's config)."""


@functools.lru_cache(maxsize=8)
def _shape_of(text: str) -> Shape:
    """A Shape from its JSON text, parsed once (outputs ask for it often)."""
    return Shape.from_json(orjson.loads(text))


@functools.lru_cache(maxsize=8)
def _policy_of(text: str) -> Policy:
    """A Policy from its JSON text, parsed once (outputs ask for it often)."""
    return policy_from_table(orjson.loads(text))


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
            values[name] = headers_of(value)
        elif name == "secret" and not isinstance(value, str):  # --secret given twice
            values[name] = PARSERS[name](SECRET_SEP.join(value))
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
    if not config.scenario:  # a file's endpoints are known once it is read (with_scenario)
        check_threshold_endpoints(config)
        check_provider_thresholds(config)
    if config.abort_on_fail and not config.thresholds:
        raise ConfigError("abort-on-fail", "used with at least one --threshold", "no --threshold")
    if config.http2 and config.target == "builtin":
        # every request would fail: the reference target speaks HTTP/1.1 only
        raise ConfigError("http2", "used with a target that speaks HTTP/2", "--target builtin")
    _check_signing(config)
    if config.retry_speed != 1.0 and not config.scenario:
        # the speed plays a scenario's [delivery] schedule; today's backoff has none
        raise ConfigError(
            "retry-speed",
            "used with --scenario and its [delivery] policy",
            f"{config.retry_speed:g}",
        )
    if config.ray_address and config.backend != "ray":
        raise ConfigError("ray-address", "used with --backend ray", config.ray_address)
    if str(raw.get("workers") or "").strip() == "auto" and not config.rate:
        # one per core, but no shard without a VU: --workers auto --vus 1 is one
        config = dataclasses.replace(config, workers=max(1, min(config.workers, peak_vus(config))))
    if config.workers > 1 and not config.rate:
        # every shard runs at least one VU (shares differ by at most one); with
        # --stages, at least at the ramp's peak (each stage's target is split)
        peak = peak_vus(config)
        if config.workers > peak:
            what = f"the peak VUs of --stages ({peak})" if config.stages else f"--vus ({peak})"
            raise ConfigError("workers", f"at most {what}", str(config.workers))
    return config


def check_threshold_endpoints(config: RunConfig) -> None:
    """``{endpoint=NAME}`` names one of the scenario's endpoints (did-you-mean)."""
    for text in config.thresholds:
        try:
            parse_spec(text, config.shape)
        except ThresholdSyntaxError as exc:
            raise ConfigError("threshold", exc.expected, text) from None


def check_provider_thresholds(config: RunConfig) -> None:
    """``provider_timeouts<…`` needs a delivery policy with a timeout to time
    answers against (a scenario's ``[delivery]``, issue 22): one line, not a
    threshold that can never measure anything."""
    policy = config.policy
    if policy is not None and policy.timeout is not None:
        return
    for text in config.thresholds:
        if parse_spec(text, None).metric == PROVIDER_TIMEOUTS:
            raise ConfigError(
                "threshold",
                "provider_timeouts with a scenario whose [delivery] policy has a timeout",
                text,
            )


def peak_vus(config: RunConfig) -> int:
    """The most VUs the closed model runs at once: ``--vus``, or its stages' peak."""
    stages = parse_stages(config.stages) if config.stages else ()
    return max([config.vus, *(int(s.target) for s in stages)])


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
    """--sign needs a usable secret and --secret needs --sign; --signature-header
    needs a scheme whose header it renames. The error lines name the flags, never
    the secret's value."""
    if not config.sign:
        if config.secret:
            raise ConfigError("secret", "used with --sign NAME", HIDDEN)
        if config.signature_header:
            raise ConfigError(
                "signature-header", "used with --sign stripe", config.signature_header
            )
        return
    if not config.secret:
        raise ConfigError(
            "sign", "used with a secret (set WEBHOOKLOAD_SECRET, or pass --secret)", config.sign
        )
    spec = builtin(config.sign)
    if config.signature_header and not spec.rename:
        raise ConfigError(
            "signature-header",
            f"left out with --sign {config.sign}: its header {spec.signature_header} is "
            "fixed (--signature-header renames stripe's)",
            config.signature_header,
        )
    try:
        SchemeSigner(spec, config.secret, config.signature_header)
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
