"""The scenario walker's planning (engine/scenario/flows.py), without sockets:
bounds, terminals, children, and the bisection pick agreeing with ``pick``."""

from __future__ import annotations

import dataclasses
import random
import time
from collections import Counter
from pathlib import Path

import orjson

from engine.config import RunConfig
from engine.metrics.stats import Stats
from engine.scenario.compiled import pick
from engine.scenario.compiler import compile_scenario
from engine.scenario.flow_tables import FlowRun
from engine.scenario.flow_tables import choose as _choose
from engine.scenario.flow_tables import cumulative as _cumulative
from engine.scenario.flows import FlowWalker
from engine.scenario.loader import load_scenario
from engine.scenario.select import compiled_for, with_scenario
from engine.shards.worker import config_from_argv, config_json
from engine.transports import Headers, Reply

REPO_HOOKS = Path(__file__).parent / "data" / "repo_hooks.toml"


class _Never:
    async def post(self, url: str, body: bytes, headers: Headers = ()) -> Reply:
        raise AssertionError("planning sends nothing")

    async def get(self, url: str) -> Reply:
        raise AssertionError("planning sends nothing")

    async def aclose(self) -> None:
        pass


async def _no_sleep(seconds: float) -> None:
    pass


def _walker(
    name: str,
    max_repeats: int | None = None,
    duplicate_rate: float = 0.0,
    reorder_rate: float = 0.0,
) -> FlowWalker:
    scenario = compile_scenario(load_scenario(name), max_repeats=max_repeats)
    return FlowWalker(
        transport=_Never(),
        stats=Stats(endpoints=scenario.endpoints),
        scenario=scenario,
        target="http://127.0.0.1:9",
        think=0.0,
        now=time.perf_counter,
        sleep=_no_sleep,
        duplicate_rate=duplicate_rate,
        reorder_rate=reorder_rate,
    )


def _names(run: FlowRun) -> list[str]:
    return [s.state.name for s in run.steps]


def test_choose_picks_what_pick_picks() -> None:
    rng_a, rng_b = random.Random(3), random.Random(3)
    for weights in [(1.0,), (1.0, 1.0, 1.0), (2.0, 1.0, 1.0), (0.1, 5.0, 0.0, 2.5)]:
        items = tuple(range(len(weights)))
        cum = _cumulative(weights)
        for _ in range(500):
            assert _choose(rng_a, items, cum) == pick(rng_b, items, weights)


def test_ingest_journeys_stay_within_their_bounds_and_end_in_a_terminal() -> None:
    for bound in (None, 1, 3):
        walker = _walker("ingest", bound)
        rng = random.Random(7)
        ends: Counter[str] = Counter()
        for _ in range(3000):
            run = walker.plan(rng).root
            names = _names(run)
            assert names[0] == "created" and names[-1] in ("success", "failed")
            assert names.count("updated") <= (bound or 3)
            ends[names[-1]] += 1
            for child in run.children:  # a dispute only after a success
                assert names[-1] == "success" and _names(child)[-1] in ("won", "lost")
                assert _names(child).count("updated") <= 1
        # success and failed equally likely
        assert 0.45 < ends["success"] / sum(ends.values()) < 0.55, ends


def test_children_follow_at_their_probability_and_faults_are_drawn_per_step() -> None:
    walker = _walker("ingest", duplicate_rate=1.0, reorder_rate=1.0)
    rng = random.Random(11)
    successes = disputes = 0
    for _ in range(4000):
        run = walker.plan(rng).root
        assert run.duplicates == (1 << len(run.steps)) - 1 and run.early
        if _names(run)[-1] == "success":
            successes += 1
            disputes += len(run.children)
    assert 0.25 < disputes / successes < 0.35  # the file's dispute_ratio, 0.3


def test_the_files_text_travels_in_the_shards_settings(tmp_path: Path) -> None:
    """A shard (a process, or a Ray actor on another machine) gets the settings,
    never the file: the text is in them, and compiles there to the same scenario."""
    copy = tmp_path / "hooks.toml"
    copy.write_text(REPO_HOOKS.read_text())
    config = with_scenario(
        RunConfig(target="http://127.0.0.1:9", scenario=str(copy)), {"target", "scenario"}
    )
    copy.unlink()  # the shard's machine has no such file
    over_env = config_from_argv(orjson.dumps(config_json(config)).decode())
    over_ray = RunConfig(**dataclasses.asdict(config))  # engine/shards/ray_backend.py
    for shard in (over_env, over_ray):
        assert shard == config and shard.shape == config.shape
        assert compiled_for(shard).shape_json() == compiled_for(config).shape_json()
    assert config.shape.endpoints == ("github", "deploys", "reads")
