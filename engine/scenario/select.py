"""``--scenario NAME|PATH``: the file read and checked once, before any load.

:func:`with_scenario` runs where a run is set up (the CLI, after the flags
are checked): a bad file is its one line and exit 2 (a ScenarioError) before
anything is sent. It puts the file's TEXT into the :class:`RunConfig`, not
its path: the text is what travels to ``--workers`` shards and Ray actors
(in the config they are given), which need not have the file;
:func:`compiled_for` compiles it again there. The file's Shape goes into the
config too, so every output names the scenario's endpoints and flows.

``--contract ingest|plan`` (and the default run) are aliases of the built-in
files of those names: without ``--scenario``, :func:`compiled_for` compiles
the built-in ``config.contract`` with ``--dispute-ratio`` and
``--max-updates`` as given (their defaults are the files' own values). With
``--scenario`` the contract is set from the file's name when that is one of
them, so ``--target builtin`` starts the reference target with that contract.
"""

from __future__ import annotations

import dataclasses
import functools
import tomllib
from collections.abc import Collection
from pathlib import PurePath

import orjson

from engine.config import (
    BUILTIN,
    CONTRACTS,
    ConfigError,
    RunConfig,
    check_provider_thresholds,
    check_threshold_endpoints,
)
from engine.domain.outcomes import has_legacy_names
from engine.domain.policies import Policy
from engine.scenario.compiled import CompiledScenario
from engine.scenario.compiler import compile_scenario
from engine.scenario.loader import (
    Scenario,
    builtin_names,
    builtin_text,
    load_scenario,
    parse_scenario,
)
from engine.scenario.reading import Unreceivable
from engine.scenario.receiver import receiver_for, unsigned_refusal

BUILTIN_SERVES = (*CONTRACTS, "payments")
"""The built-in scenarios the reference target (``--target builtin``) receives:
ingest's and plan's webhooks, and the payment manager's payments API and
acquirer webhook (target/payments.py, on the same server: the read API and
the API steps default to the target's URL)."""


def hand_written(origin: str) -> bool:
    """Does the reference target serve this ``--scenario`` with its hand-written
    service (target/server.py, target/payments.py)? Only the built-ins it was
    written for, by name; any other scenario (``stripe``, a file) it reads from
    the file (engine/scenario/receiver.py, target/scenario_app.py)."""
    return origin in BUILTIN_SERVES and "/" not in origin and not origin.endswith(".toml")


OVERRIDABLE = ("dispute_ratio", "max_updates")
"""Settings a file has its own value of, that a flag given overrides."""


def with_scenario(
    config: RunConfig, given: Collection[str], scenario: Scenario | None = None
) -> RunConfig:
    """``config`` with its scenario file read, checked and compiled once;
    ``given``: the settings the user set (their flags), which win over the
    file's. Unchanged without ``--scenario``. ``scenario``: the file already
    read (the TUI's form, which applies a choice again at each change, so a
    file is read once), else it is loaded from ``config.scenario``."""
    if not config.scenario:
        return config
    if "contract" in given:
        raise ConfigError(
            "scenario",
            "used without --contract (--contract ingest is --scenario ingest)",
            config.scenario,
        )
    if scenario is None:
        scenario = load_scenario(config.scenario)
    if "dispute_ratio" in given and "dispute_ratio" not in scenario.spec.params:
        # it would change nothing: said, rather than silently ignored
        raise ConfigError(
            "dispute-ratio",
            f"used with a scenario that has a dispute_ratio param ({scenario.name} has none)",
            str(config.dispute_ratio),
        )
    config = dataclasses.replace(config, scenario_sign=scenario.spec.scenario.sign or "")
    header = scenario.spec.scenario.signature_header  # the file's default; the flag wins
    if header and "signature_header" not in given:
        config = dataclasses.replace(config, signature_header=header)
    if config.target == BUILTIN and not hand_written(config.scenario):
        # read as the target will read it: a file it cannot tell events apart in
        # is its one line now, not a target that did not start
        try:
            receiver = receiver_for(compile_scenario(scenario))
        except Unreceivable as exc:
            if not scenario.origin.startswith("builtin:"):
                raise  # a file of the user's: its file:line: key.path line, as it is
            # a built-in the target cannot read (slack): what to do first, then why
            raise ConfigError(
                "target",
                f"your own receiver's URL with --scenario {scenario.name}: the builtin "
                f"reference target cannot receive it (docs/TARGET.md; {exc})",
                config.target,
            ) from exc
        why = unsigned_refusal(receiver, config.sign)
        if why is not None:
            need = (
                f"{scenario.spec.scenario.sign} with --target builtin and {scenario.name} ({why})"
            )
            raise ConfigError("sign", need, config.sign or "off")
        if config.target_mode != "sync":
            raise ConfigError(
                "target-mode",
                "sync with this scenario (the builtin target receives it from its file, inline)",
                config.target_mode,
            )
    overrides = tuple(name for name in OVERRIDABLE if name in given)
    config = dataclasses.replace(
        config,
        scenario_text=scenario.text,
        scenario_overrides=overrides,
        contract=scenario.name if scenario.name in CONTRACTS else config.contract,
    )
    compiled = compiled_for(config)
    ratio = scenario.spec.params.get("dispute_ratio")
    if "dispute_ratio" not in overrides and ratio is not None:
        config = dataclasses.replace(config, dispute_ratio=ratio)
    shape = orjson.dumps(compiled.shape_json()).decode()
    config = dataclasses.replace(config, scenario_shape=shape)
    if config.read_ratio > 0 and all(f.read is None for f in compiled.flows):
        raise ConfigError(
            "read-ratio",
            f"0 with a scenario whose flows have no read-back ({scenario.name} has none)",
            f"{config.read_ratio:g}",
        )
    reads = any(f.read is not None and f.read.expect for f in compiled.flows)
    if config.verify and not has_legacy_names(config.shape) and not reads:
        raise ConfigError(
            "verify", "used with a scenario whose flows have a read-back", str(config.verify)
        )
    check_threshold_endpoints(config)  # {endpoint=NAME}: one of this file's
    config = _with_policy(config, scenario)
    check_provider_thresholds(config)  # provider_timeouts: a policy with a timeout
    return config


def _with_policy(config: RunConfig, scenario: Scenario) -> RunConfig:
    """The file's ``[delivery]`` policy into the config (issue 22), with
    ``--retries`` and ``--retry-speed`` checked against its schedule."""
    policy = scenario.policy
    if policy is None:
        if config.retry_speed != 1.0:
            raise ConfigError(
                "retry-speed",
                f"used with a scenario that has a [delivery] policy ({scenario.name} has none)",
                f"{config.retry_speed:g}",
            )
        return config
    n = len(policy.resends)
    if config.retries > n:
        raise ConfigError("retries", _retries_bound(policy), str(config.retries))
    if config.retry_speed != 1.0 and not config.retries:
        raise ConfigError(
            "retry-speed",
            "used with --retries (it plays the retry schedule faster)",
            f"{config.retry_speed:g}",
        )
    text = orjson.dumps(policy.as_table()).decode()
    return dataclasses.replace(config, delivery_policy=text)


def _retries_bound(policy: Policy) -> str:
    """Why ``--retries`` may not exceed what the policy plays (one rule for every
    policy: the flag plays the provider's schedule, never more of it)."""
    name, who = policy.name, policy.provider
    if policy.schedule:
        n = len(policy.schedule)
        return f"at most {n} with the {name} delivery policy ({who} retries {n} times)"
    if policy.redelivery:
        n = len(policy.redelivery)
        return (
            f"at most {n} with the {name} delivery policy ({who} retries nothing; "
            f"--retries plays its {n} documented redeliveries)"
        )
    return f"0 with the {name} delivery policy ({who} retries nothing)"


def compiled_for(config: RunConfig) -> CompiledScenario:
    """The run's scenario compiled from the config's text (in a shard too), with
    the overrides the user gave (``--dispute-ratio``, ``--max-updates``); without
    ``--scenario``, the built-in file ``--contract`` names, with both settings."""
    if not config.scenario_text:
        return _contract_scenario(config.contract, config.dispute_ratio, config.max_updates)
    origin = config.scenario
    is_path = "/" in origin or origin.endswith(".toml") or origin not in builtin_names()
    scenario = parse_scenario(
        config.scenario_text,
        origin if is_path else f"builtin:{origin}",
        default_name=PurePath(origin).stem if is_path else None,
    )
    over = config.scenario_overrides
    params = {"dispute_ratio": config.dispute_ratio} if "dispute_ratio" in over else None
    # 0: no state on a loop is entered (engine/scenario/compiler.py), as --max-updates 0 was
    max_repeats = config.max_updates if "max_updates" in over else None
    return compile_scenario(scenario, params, max_repeats=max_repeats)


@functools.lru_cache(maxsize=8)
def _contract_scenario(contract: str, dispute_ratio: float, max_updates: int) -> CompiledScenario:
    """``--contract NAME`` (``ingest`` by default) as ``--scenario NAME``: its
    flags' values are the file's own by default, so they always apply. Cached:
    a compiled scenario is immutable, and tests build many runners."""
    scenario = parse_scenario(builtin_text(contract), f"builtin:{contract}")
    params = {"dispute_ratio": dispute_ratio}
    return compile_scenario(scenario, params, max_repeats=max_updates)


def header_names(config: RunConfig) -> tuple[str, ...]:
    """The header names the run's scenario file gives its webhooks (theirs and
    their states'): a transport leaves out its own header of such a name
    (``User-Agent``, ``Content-Type``, engine/transports/base.py ``replaced``) so
    the file's goes once (GitHub's ``User-Agent: GitHub-Hookshot/...``), as a
    ``--header`` of that name does. Read from the file's text: nothing compiled."""
    if not config.scenario_text:
        return ()
    data = tomllib.loads(config.scenario_text)
    names = [n for hook in data.get("webhooks", {}).values() for n in hook.get("headers", {})]
    for flow in data.get("flows", {}).values():
        for state in flow.get("states", {}).values():
            names += state.get("headers", {})
    return tuple(names)
