"""The form's Scenario select: what it offers and how a choice becomes a run.

The built-ins (``ingest`` first, as the default) and the file given with
``--scenario`` (by its name). Each choice is applied with the CLI's own
:func:`engine.scenario.select.with_scenario`, so the form can never run a
setting the command line would refuse; its ConfigError is the form's error
line. A file is read once: the command line read it, and its text is in the
config (``scenario_text``); a built-in comes from the package.

``ingest`` and ``plan`` without ``--scenario`` stay what ``--contract`` is on
the command line (today's walker, the same bodies): a form-only run is the
run it always was.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from pathlib import PurePath

from engine.config import CONTRACTS, RunConfig
from engine.scenario.loader import Scenario, builtin_names, load_scenario, parse_scenario
from engine.scenario.select import with_scenario

DEFAULTS = RunConfig()
RATIO = "dispute_ratio"


class ScenarioChoices:
    """The choices of one form: the base config (the command line's, without
    what a scenario derived) and the user's flags (``given``), which win over a
    file's values as on the command line."""

    def __init__(self, config: RunConfig, given: Collection[str]) -> None:
        self.given = frozenset(given)
        self._loaded: dict[str, Scenario] = {}
        self.file = ""  # the --scenario path, when it is not a built-in
        builtins = (*CONTRACTS, *(n for n in builtin_names() if n not in CONTRACTS))
        self.options: list[tuple[str, str]] = [(n, n) for n in builtins]
        if config.scenario and config.scenario not in builtins:
            self.file = config.scenario
            origin = config.scenario
            text = config.scenario_text
            scenario = (
                parse_scenario(text, origin, default_name=PurePath(origin).stem)
                if text
                else load_scenario(origin)
            )
            self._loaded[origin] = scenario
            self.options.append((scenario.name, origin))
        self.initial = config.scenario or config.contract
        self.walker = not config.scenario  # ingest/plan run as --contract does
        kept = {f: getattr(config, f) for f in ("signature_header", "contract") if f in given}
        self.base = dataclasses.replace(
            config,
            scenario="",
            scenario_text="",
            scenario_shape="",
            delivery_policy="",
            scenario_overrides=(),
            signature_header=kept.get("signature_header", DEFAULTS.signature_header),
            contract=kept.get("contract", config.contract if self.walker else DEFAULTS.contract),
        )

    def scenario(self, choice: str) -> Scenario:
        if choice not in self._loaded:
            self._loaded[choice] = load_scenario(choice)
        return self._loaded[choice]

    def ratio_default(self, choice: str) -> float | None:
        """The chosen scenario's ``dispute_ratio`` (None: it has none, and the
        form hides Dispute ratio: it would change nothing)."""
        if self.walker and choice in CONTRACTS:
            return DEFAULTS.dispute_ratio
        value = self.scenario(choice).spec.params.get(RATIO)
        return None if value is None else float(value)

    def apply(self, base: RunConfig, choice: str) -> RunConfig:
        """``base`` (the form's values on :attr:`base`) running ``choice``; a
        ConfigError (or ScenarioError) names what the command line would refuse."""
        if self.walker and choice in CONTRACTS:
            return dataclasses.replace(base, contract=choice)
        given = set(self.given) - {"contract"}
        default = self.ratio_default(choice)
        if default is None:
            given.discard(RATIO)
            base = dataclasses.replace(base, dispute_ratio=DEFAULTS.dispute_ratio)
        elif base.dispute_ratio != default:  # edited in the form: the user's, as the flag
            given.add(RATIO)
        config = dataclasses.replace(base, scenario=choice, contract=DEFAULTS.contract)
        return with_scenario(config, given, self.scenario(choice))
