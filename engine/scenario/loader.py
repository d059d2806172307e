"""Reading a scenario: a built-in's name or a file's path, to a checked model.

Three stages, each stopping at the first problem with one line a user can
act on (exit 2, as any bad input): TOML syntax (``file:line``, from
tomllib's message), the model (pydantic, engine/scenario/model.py), and the
whole-file checks (engine/scenario/checks.py). The line of a model or check
problem is found by its key path (engine/scenario/lines.py).

The :class:`Scenario` keeps the file's *text*: that is what travels to
``--workers`` shards and Ray actors, which need not have the file.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path as FilePath

from pydantic import ValidationError

from engine.domain.policies import Policy
from engine.errors import UsageError
from engine.scenario.checks import Parsed, check
from engine.scenario.explain import explain, first_error
from engine.scenario.lines import line_of
from engine.scenario.model import ScenarioFile
from engine.scenario.policy import scenario_policy
from engine.scenario.problem import Problem, did_you_mean, dotted

_TOML_AT = re.compile(r"\(at line (\d+), column (\d+)\)$")
_BUILTIN = "engine.scenario.builtin"


class ScenarioError(UsageError):
    """A scenario that cannot be used: ``file:line: key.path: what is wrong``."""


@dataclass(frozen=True, slots=True)
class Scenario:
    """A checked scenario: its name, where it came from, its text, the model,
    and the templates and variables already parsed."""

    name: str
    origin: str  # the path given, or "builtin:NAME"
    text: str
    spec: ScenarioFile
    parsed: Parsed
    policy: Policy | None = None  # its [delivery] table (issue 22)


def builtin_names() -> tuple[str, ...]:
    """The built-in scenarios, by name, sorted."""
    files = resources.files(_BUILTIN).iterdir()
    return tuple(sorted(f.name.removesuffix(".toml") for f in files if f.name.endswith(".toml")))


def builtin_text(name: str) -> str:
    """A built-in's file text; a ScenarioError when there is none by that name."""
    if name not in builtin_names():
        raise ScenarioError(_no_such(name))
    return resources.files(_BUILTIN).joinpath(f"{name}.toml").read_text(encoding="utf-8")


def _no_such(name: str) -> str:
    names = builtin_names()
    return (
        f"no scenario file or built-in named {name!r}{did_you_mean(name, names)}; "
        f"built-ins: {', '.join(names)}"
    )


def load_scenario(name_or_path: str) -> Scenario:
    """A built-in by name (``ingest``), else the file at that path."""
    if "/" not in name_or_path and not name_or_path.endswith(".toml"):
        if name_or_path in builtin_names():
            return parse_scenario(builtin_text(name_or_path), f"builtin:{name_or_path}")
        if not FilePath(name_or_path).is_file():
            raise ScenarioError(_no_such(name_or_path))
    path = FilePath(name_or_path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(_no_such(name_or_path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{name_or_path}: cannot read the scenario: {exc}") from None
    return parse_scenario(text, name_or_path, default_name=path.stem)


def parse_scenario(text: str, origin: str, default_name: str | None = None) -> Scenario:
    """Check a scenario's text; ``origin`` names it in messages (a path, or
    ``builtin:NAME``). A ScenarioError carries the one line to show."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = _TOML_AT.search(msg)
        where = f"{origin}:{m.group(1)}" if m else origin
        raise ScenarioError(f"{where}: TOML syntax: {msg}") from None
    try:
        spec = ScenarioFile.model_validate(data)
        parsed = check(spec)
        policy = scenario_policy(spec.delivery)
    except ValidationError as exc:
        problem = explain(first_error(exc.errors()), data, ScenarioFile)
        raise _located(problem, text, origin) from None
    except Problem as problem:
        raise _located(problem, text, origin) from None
    name = spec.scenario.name or default_name or origin.removeprefix("builtin:")
    return Scenario(name, origin, text, spec, parsed, policy)


def _located(problem: Problem, text: str, origin: str) -> ScenarioError:
    line = line_of(text, problem.path)
    where = origin if line is None else f"{origin}:{line}"
    key = dotted(problem.path)
    return ScenarioError(f"{where}: {key}: {problem.message}" if key else f"{where}: {problem}")
