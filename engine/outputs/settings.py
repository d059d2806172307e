"""A run's settings for people: one way to show a value, in every output.

The ``--json`` summary keeps the config as data (``null``, lists, numbers);
what a person reads (the HTML report's Settings table, compare's notes) goes
through :func:`format_setting`, so none shows a Python repr (``None``,
``('p99<1s',)``) and a value reads the same wherever it appears. Counts and
rates have one form each too (:func:`format_count`, :func:`format_rate`):
the summary, its provider line and the HTML report all use them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterator, Mapping
from typing import Any

from engine.config import DERIVED, RunConfig
from engine.domain.durations import format_duration
from engine.domain.sanitize import shown_url
from engine.domain.schemes import builtin

BUILTIN = "builtin"


def format_setting(value: Any) -> str:
    """``-`` for none (None, "", an empty list), ``on``/``off`` for a flag,
    ``a, b`` for a list, ``0.3`` for a number."""
    if value is None or value == "" or value == () or value == []:
        return "-"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return ", ".join(format_setting(v) for v in value)
    return str(value)


def format_count(n: float | None) -> str:
    """A count for people: the whole number without separators (``4243``), as
    the summary has always printed it (k6's form; its columns and the scripts
    that read it stay as they were); ``-`` for none. The JSON keeps numbers."""
    return "-" if n is None else str(int(n))


def format_rate(per_second: float | None) -> str:
    """A rate for people, per second, one decimal (``1410.0``); ``-`` for none."""
    return "-" if per_second is None else f"{per_second:.1f}"


def setting_rows(config: Mapping[str, Any], target_url: str = "") -> Iterator[tuple[str, str]]:
    """(name, text) for every setting; ``--target builtin`` with the URL it ran on."""
    for key, value in config.items():
        text = format_setting(value)
        if key == "target" and value == BUILTIN and target_url:
            text = f"{target_url} (builtin reference target)"
        yield key, text


def _pct(share: float) -> str:
    return f"{share * 100:g}%"


def delivery_settings_lines(config: RunConfig) -> list[str]:
    """``Delivery settings: signed (stripe, in Stripe-Signature), duplicates 10%, …``:
    the settings that change what a receiver gets beyond the load itself, so a
    reader of the start lines, the summary or the TUI knows they were on;
    nothing when none is (a plain run)."""
    on = []
    if config.sign:
        header = config.signature_header or builtin(config.sign).signature_header
        on.append(f"signed ({config.sign}, in {header})")
    elif config.scenario_sign:  # a newcomer took the file's ``sign`` for signing on
        scheme = config.scenario_sign
        on.append(f"unsigned (this scenario signs with {scheme}: add --sign {scheme})")
    if config.duplicate_rate:
        on.append(f"duplicates {_pct(config.duplicate_rate)}")
    if config.reorder_rate:
        on.append(f"reordered {_pct(config.reorder_rate)}")
    policy = config.policy
    if policy is not None:  # issue 22: the scenario's [delivery] policy
        timeout = "no timeout" if policy.timeout is None else format_duration(policy.timeout)
        if policy.timeout is not None and config.timeout <= policy.timeout:
            # an answer that late is a timeout error first: nothing to count apart
            timeout += f", not below --timeout {format_duration(config.timeout)}"
        on.append(f"{policy.name} delivery policy (timeout {timeout})")
    if config.retries and policy is not None:
        n = min(config.retries, len(policy.resends))
        waits = policy.describe_schedule(limit=n)
        if config.retry_speed != 1.0:
            scaled = policy.describe_schedule(config.retry_speed, n)
            waits += f"; played {config.retry_speed:g}x faster: {scaled}"
        if policy.schedule:
            on.append(f"retries up to {n} as {policy.provider} does, after {waits}")
        else:  # the one-line notice: the provider itself would not send them again
            on.append(
                f"redeliveries up to {n} ({policy.provider} retries nothing; played as "
                f"its documented redeliveries, the same id), after {waits}"
            )
    elif config.retries:
        on.append(f"retries up to {config.retries}")
    if config.headers:
        names = ", ".join(h.partition(":")[0].strip() for h in config.headers)
        on.append(f"headers {names}")
    return [f"Delivery settings: {', '.join(on)}"] if on else []


_NOT_FLAGS = frozenset({"secret", *DERIVED})
"""Never listed: the secret, and what a run derives from --scenario's file (its
text, shape and overrides: the TUI lists --scenario itself)."""


def changed_settings(
    config: RunConfig, shown: Collection[str], default: RunConfig | None = None
) -> list[str]:
    """The settings of ``config`` that differ from ``default``, as the flags that
    give them (``--sign stripe``, ``--threshold p99<1s``), leaving out the fields
    in ``shown`` (the TUI's form shows those itself). Secrets and header values
    never: a header shows its name only."""
    base = default or RunConfig()
    out: list[str] = []
    for f in dataclasses.fields(config):
        key = f.name
        value, was = getattr(config, key), getattr(base, key)
        if key in shown or key in _NOT_FLAGS or value == was:
            continue
        flag = "--" + key.replace("_", "-")
        if key == "thresholds":
            out += [f"--threshold {t}" for t in value]
        elif key == "headers":
            out += [f"--header '{h.partition(':')[0].strip()}: (hidden)'" for h in value]
        elif key in ("target", "read_api"):
            out.append(f"{flag} {shown_url(value)}")
        elif isinstance(value, bool):
            out.append(flag if value else f"no {flag}")
        elif key in ("duration", "think", "timeout", "verify_wait"):
            out.append(f"{flag} {format_duration(value)}")
        else:
            out.append(f"{flag} {format_setting(value)}")
    return out
