"""A scenario's ``[delivery]`` table: the provider's delivery policy it runs under.

``policy = "shopify"`` names a built-in policy (engine/domain/policies/*.toml);
every other key (``success``, ``timeout``, ``retry``, ``retry_headers``,
``provider``, ``source``) is the policy's own, and overrides the named one's.
Without ``policy`` the table is a policy of its own. The model
(engine/scenario/model.py) only says it is a table; the keys are checked
here by the same code that reads the built-in files, and a problem names
its key path (``delivery.retry.over``), which the loader turns into the
file's line (docs/DELIVERY.md, "Delivery policies").
"""

from __future__ import annotations

from collections.abc import Mapping

from engine.domain.policies import (
    POLICY_KEYS,
    Policy,
    PolicyError,
    builtin,
    builtin_names,
    policy_from_table,
)
from engine.scenario.problem import Path, Problem, unknown

KEY = "delivery"


def scenario_policy(table: Mapping[str, object] | None) -> Policy | None:
    """The policy a scenario's ``[delivery]`` table gives, or None without one;
    a :class:`Problem` naming the key path when it is not usable."""
    if table is None:
        return None
    rest = dict(table)
    keys = sorted({"policy", *POLICY_KEYS})
    for key in rest:
        if key not in keys:
            raise Problem((KEY, key), unknown("key", key, keys))
    base = None
    if "policy" in rest:
        name = rest.pop("policy")
        if not isinstance(name, str):
            names = ", ".join(builtin_names())
            raise Problem((KEY, "policy"), f"expected a built-in policy's name: {names}")
        if name not in builtin_names():
            raise Problem((KEY, "policy"), unknown("delivery policy", name, builtin_names()))
        base = builtin(name)
    try:
        return policy_from_table(rest, (KEY,), base, name="custom")
    except PolicyError as exc:
        raise Problem(_path(exc.path), exc.message) from None


def _path(path: tuple[str, ...]) -> Path:
    """A policy error's key path, list indexes as ints (how the loader finds lines)."""
    return tuple(int(p) if p.isdigit() else p for p in path)
