"""Delivery policies as data (issue 22): the built-in files say what their
providers publish, a scenario's ``[delivery]`` table names or overrides one
(a bad one is one line naming its file, line and key), retries follow the
policy, and the flags and thresholds that need one refuse to run without it.
Pure functions and the flag parser: no run (the run is
tests/test_delivery_policy_run.py)."""

from __future__ import annotations

import dataclasses
import itertools
import random
from pathlib import Path

import orjson
import pytest

from engine.config import ConfigError, RunConfig, build_config
from engine.domain.policies import (
    PROVIDER_ANSWERS,
    PROVIDER_TIMEOUTS,
    PolicyError,
    builtin,
    builtin_names,
    policy_from_table,
    spread,
)
from engine.domain.thresholds import ThresholdSyntaxError, parse_spec
from engine.load.clock import FakeClock
from engine.metrics.stats import Snapshot, Stats
from engine.outputs.html_report import render
from engine.outputs.provider import doc_lines, provider_json, provider_lines
from engine.outputs.settings import delivery_settings_lines
from engine.outputs.thresholds import parse_thresholds
from engine.scenario.commands import summary
from engine.scenario.compiler import compile_scenario
from engine.scenario.flows import FlowWalker
from engine.scenario.loader import ScenarioError, load_scenario, parse_scenario
from engine.scenario.retry import Retry, RetryPlan
from engine.scenario.select import with_scenario
from engine.transports.fake import FakeRequest, FakeTransport

HOOK = """
[scenario]
name = "p"

[webhooks.hook]
path = "/hook"

[flows.f]
root = 1.0
initial = "a"

[flows.f.states.a]
webhook = "hook"
body = "t"

[templates.t]
id = "{event_id}"
"""
H, M = 3600.0, 60.0


def test_the_built_in_policies_say_what_their_providers_publish() -> None:
    assert builtin_names() == (
        "github",
        "paddle",
        "shopify",
        "slack",
        "square",
        "standard",
        "stripe",
        "svix",
    )
    svix = builtin("svix")
    assert svix.schedule == (5.0, 5 * M, 30 * M, 2 * H, 5 * H, 10 * H, 10 * H)
    assert svix.timeout == 15.0 and builtin("standard").schedule == svix.schedule
    github = builtin("github")
    assert github.schedule == () and github.timeout == 10.0
    shopify = builtin("shopify").schedule  # 8 over 4 h, each twice the one before
    assert len(shopify) == 8 and sum(shopify) == pytest.approx(4 * H)
    assert all(b == pytest.approx(2 * a) for a, b in itertools.pairwise(shopify))
    slack = builtin("slack")
    assert slack.schedule == (0.0, M, 5 * M) and slack.timeout == 3.0
    assert dict(slack.retry_headers) == {
        "X-Slack-Retry-Num": "{attempt}",
        "X-Slack-Retry-Reason": "{reason}",
    }
    square = builtin("square").schedule
    assert square[:6] == (M, 2 * M, 4 * M, 8 * M, 16 * M, 32 * M) and square[6:] == (H,) * 72
    paddle = builtin("paddle")
    assert len(paddle.schedule) == 60 and sum(paddle.schedule) == pytest.approx(72 * H, rel=1e-3)
    assert max(paddle.schedule) == 90 * M and paddle.timeout == 5.0
    for name in builtin_names():
        p = builtin(name)
        assert p.success == ("2xx",) and p.source, name
        assert not p.succeeds(301) and not p.succeeds(500) and p.succeeds(204), name
        assert policy_from_table(p.as_table()) == p, name  # how it travels in a config


def test_spread_adds_up_to_its_span() -> None:
    assert spread(4, 60.0, "even") == (15.0, 15.0, 15.0, 15.0)
    assert spread(3, 70.0, "exponential") == pytest.approx((10.0, 20.0, 40.0))
    capped = spread(10, 100.0, "exponential", cap=20.0)
    assert max(capped) == 20.0 and sum(capped) == pytest.approx(100.0, abs=0.01)


def _scenario(delivery: str) -> str:
    return HOOK + "\n[delivery]\n" + delivery + "\n"


def test_a_scenario_names_a_policy_and_overrides_its_keys() -> None:
    s = parse_scenario(_scenario('policy = "shopify"\ntimeout = "2s"'), "f.toml")
    assert s.policy is not None
    assert s.policy.timeout == 2.0 and s.policy.schedule == builtin("shopify").schedule
    own = parse_scenario(
        _scenario('timeout = "1s"\nretry = { schedule = ["0s", "2m*3"] }\nsuccess = [200]'),
        "f.toml",
    ).policy
    assert own is not None and own.schedule == (0.0, 120.0, 120.0, 120.0)
    assert own.succeeds(200) and not own.succeeds(202)
    assert parse_scenario(HOOK, "f.toml").policy is None


@pytest.mark.parametrize(
    ("table", "line"),
    [
        (
            'policy = "shopfy"',
            "f.toml:20: delivery.policy: unknown delivery policy 'shopfy' "
            "(did you mean 'shopify'?)",
        ),
        (
            'timout = "5s"',
            "f.toml:20: delivery.timout: unknown key 'timout' (did you mean 'timeout'?)",
        ),
        (
            'timeout = "fast"',
            'f.toml:20: delivery.timeout: expected a duration like "5s", '
            '"30m" or "2h", got \'fast\'',
        ),
        (
            "success = [500]",
            "f.toml:20: delivery.success[0]: expected a status code 100-499 or "
            "a class '1xx'..'4xx' (a 5xx is never a success), got 500",
        ),
        (
            'retry = { schedule = ["1s", "soon"] }',
            "f.toml:20: delivery.retry.schedule[1]: "
            'expected a duration like "5s", "30m" or "2h", got \'soon\'',
        ),
        (
            'retry = { count = 8, over = "4h", backoff = "linear" }',
            "f.toml:20: delivery.retry.backoff: expected one of exponential, even, got 'linear'",
        ),
        (
            'retry = { count = 8, over = "4h", max = "10m" }',
            "f.toml:20: delivery.retry.max: 8 waits of at most 10m0s cannot span 4h0m0s",
        ),
        (
            'retry_headers = { "X-Retry" = "{attempts}" }',
            "f.toml:20: delivery.retry_headers."
            "X-Retry: unknown placeholder {attempts}; use {attempt}, {reason}",
        ),
    ],
)
def test_a_bad_delivery_table_is_one_line_naming_file_line_and_key(table: str, line: str) -> None:
    with pytest.raises(ScenarioError) as exc:
        parse_scenario(_scenario(table), "f.toml")
    assert str(exc.value) == line


def test_a_bad_built_in_style_table_names_its_key() -> None:
    with pytest.raises(PolicyError, match=r"^retry\.count: expected a number of retries"):
        policy_from_table({"name": "x", "retry": {"count": -1}})


def test_retries_follow_the_plan_and_keep_todays_rule_without_one() -> None:
    plan = RetryPlan.of(builtin("slack"), retries=5, speed=600.0)
    assert plan.waits == (0.0, 0.1, 0.5)  # cut to the schedule's 3 retries
    retry = Retry(1, 5, plan)
    assert retry.limit == 3 and retry.wait(2, 30.0) == 0.1  # no Retry-After: the schedule
    assert retry.retries_answer(404) and retry.retries_answer(301) and retry.retries_answer(503)
    assert not retry.retries_answer(204) and retry.retries_error("other")
    assert plan.headers_for(2, "timeout") == (
        ("X-Slack-Retry-Num", "2"),
        ("X-Slack-Retry-Reason", "http_timeout"),
    )
    assert plan.headers_for(1, None)[1] == ("X-Slack-Retry-Reason", "http_error")
    today = Retry(1, 5)
    assert today.limit == 5 and not today.retries_answer(404) and today.retries_answer(429)
    assert not today.retries_error("other") and today.retries_error("timeout")


def test_provider_timeouts_thresholds_parse_and_measure() -> None:
    share, count = parse_thresholds(["provider_timeouts<1%", "provider_timeouts<=3"])
    assert share.percent and share.name == "provider_timeouts<1%" and not count.percent
    snap = Snapshot(delivery={PROVIDER_ANSWERS: 200, PROVIDER_TIMEOUTS: 3})
    assert share.measure(snap) == 1.5 and not share.evaluate(snap).passed
    assert count.measure(snap) == 3.0 and count.evaluate(snap).passed
    assert share.measure(Snapshot()) is None  # nothing timed: no pass
    # shards' deltas add up: the share is of the merged counts
    half = Snapshot(delivery={PROVIDER_ANSWERS: 100, PROVIDER_TIMEOUTS: 3})
    assert share.measure(half + Snapshot(delivery={PROVIDER_ANSWERS: 100})) == 1.5
    with pytest.raises(ThresholdSyntaxError, match="did you mean 'provider_timeouts'"):
        parse_spec("provider_timouts<1%")
    with pytest.raises(ThresholdSyntaxError, match="an upper limit"):
        parse_spec("provider_timeouts>1%")


def _config(tmp_path: Path, delivery: str | None, **flags: str) -> RunConfig:
    path = tmp_path / "p.toml"
    path.write_text(HOOK if delivery is None else _scenario(delivery))
    raw = {"target": "http://127.0.0.1:9", "scenario": str(path), **flags}
    return with_scenario(build_config(raw), set(raw))


def test_flags_that_need_a_policy_are_refused_without_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="retry-speed"):
        build_config({"target": "http://127.0.0.1:9", "retry_speed": "10"})
    with pytest.raises(ConfigError, match="provider_timeouts with a scenario"):
        build_config({"target": "http://127.0.0.1:9", "thresholds": ["provider_timeouts<1%"]})
    with pytest.raises(ConfigError, match=r"at most 8 with the shopify delivery policy"):
        _config(tmp_path, 'policy = "shopify"', retries="9")
    # GitHub retries nothing: --retries plays its documented redeliveries, at most 12
    with pytest.raises(
        ConfigError,
        match=r"at most 12 with the github delivery policy \(GitHub retries nothing; "
        r"--retries plays its 12 documented redeliveries\)",
    ):
        _config(tmp_path, 'policy = "github"', retries="13")
    with pytest.raises(ConfigError, match=r"0 with the github delivery policy \(GitHub retries"):
        _config(tmp_path, 'policy = "github"\nredelivery = { count = 0 }', retries="1")
    with pytest.raises(ConfigError, match="used with --retries"):
        _config(tmp_path, 'policy = "shopify"', retry_speed="100")
    with pytest.raises(ConfigError, match="has none"):
        _config(tmp_path, None, retry_speed="100")  # no [delivery] table at all
    config = _config(tmp_path, 'policy = "shopify"', retries="8", retry_speed="1000")
    assert config.policy == builtin("shopify")


def test_github_retries_nothing_and_retries_plays_its_redeliveries_saying_so(
    tmp_path: Path,
) -> None:
    """GitHub's policy: no retries of its own (the provider-timeout sentence says
    so), 12 redeliveries 6 h apart (its docs' script, within the 3-day window);
    ``--retries N`` plays the first N and the start line names them redeliveries."""
    github = builtin("github")
    assert github.schedule == () and github.redelivery == (6 * H,) * 12
    assert github.resends == github.redelivery and github.resend_word == "redeliveries"
    assert builtin("shopify").resend_word == "retries"
    config = _config(tmp_path, 'policy = "github"', retries="2", retry_speed="3600")
    (line,) = delivery_settings_lines(config)
    assert (
        "redeliveries up to 2 (GitHub retries nothing; played as its documented "
        "redeliveries, the same id), after 6h0m0s, 6h0m0s; played 3600x faster: 6s, 6s"
    ) in line, line
    assert RetryPlan.of(github, 2, 3600.0).waits == (6.0, 6.0)
    # a scenario that gives GitHub a schedule of its own retries on it, no redeliveries
    own = parse_scenario(_scenario('policy = "github"\nretry = { schedule = ["1s"] }'), "f.toml")
    assert own.policy is not None and own.policy.resends == (1.0,) and not own.policy.redelivery
    with pytest.raises(
        PolicyError, match=r"delivery\.redelivery: redelivery is for a provider that"
    ):
        policy_from_table(
            {"retry": {"schedule": ["1s"]}, "redelivery": {"schedule": ["1h"]}},
            ("delivery",),
            name="custom",
        )


def _with(name: str) -> RunConfig:
    return RunConfig(delivery_policy=orjson.dumps(builtin(name).as_table()).decode())


def test_the_outputs_say_what_the_provider_would_have_seen() -> None:
    snap = Snapshot(delivery={PROVIDER_ANSWERS: 14_880, PROVIDER_TIMEOUTS: 312})
    line = "Provider timeout: 312 answers (2.1%) took longer than Shopify's 5s: "
    assert provider_lines(snap, _with("shopify")) == [line + "Shopify would have retried them"]
    assert provider_lines(snap, _with("github"))[0].endswith(
        "GitHub would have counted them failed (it does not retry)"
    )
    quiet = Snapshot(delivery={PROVIDER_ANSWERS: 14_880})
    assert provider_lines(quiet, _with("slack")) == [
        "Provider timeout: no answer took longer than Slack's 3s (14880 timed)"
    ]
    assert provider_lines(snap, RunConfig()) == [] and provider_json(snap, RunConfig()) is None
    doc = provider_json(snap, _with("shopify"))
    assert doc is not None
    assert (doc["slower_than_timeout"], doc["answers_timed"], doc["slower_pct"]) == (
        312,
        14_880,
        2.097,
    )
    assert doc["timeout_ms"] == 5000.0 and len(doc["retry_schedule_s"]) == 8
    # the HTML report reads the JSON and says the same
    assert doc_lines({"provider": doc}) == provider_lines(snap, _with("shopify"))
    html = render({"provider": doc}, [])
    assert "As the provider sees it" in html and "312 answers (2.1%)" in html


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("accept", "answers"), [("", [202, 200]), ("accept = { first = [202] }", [202])]
)
async def test_a_policys_success_codes_judge_a_first_delivery_unless_the_webhook_says(
    accept: str, answers: list[int]
) -> None:
    """``success = [200]``: a 202 is not delivered for this provider, so it is
    retried (on virtual time, the schedule's 2 min at --retry-speed 60: 2 s)
    and counted as what came back; a webhook's own ``accept.first`` wins."""
    text = _scenario('success = [200]\nretry = { schedule = ["2m"] }')
    scenario = parse_scenario(text.replace('path = "/hook"', f'path = "/hook"\n{accept}'), "f")
    assert scenario.policy is not None
    compiled = compile_scenario(scenario)
    times: list[float] = []
    stats = Stats(endpoints=compiled.endpoints)
    async with FakeClock() as clock:

        def handler(_: FakeRequest) -> int:
            times.append(clock.now())
            return answers[len(times) - 1]

        walker = FlowWalker(
            transport=FakeTransport(handler, clock=clock.now),
            stats=stats,
            scenario=compiled,
            target="http://service.test",
            think=0.0,
            now=clock.now,
            sleep=clock.sleep,
            retries=1,
            policy=scenario.policy,
            retry_speed=60.0,
        )
        assert await walker.walk(walker.plan(random.Random(1))) is None  # accepted
    snap = stats.take(clock.now())
    assert len(times) == len(answers) and snap.success == 1
    assert snap.delivery.get("retries", 0) == len(answers) - 1
    if len(times) == 2:
        assert times[1] - times[0] == pytest.approx(2.0)


def test_the_start_lines_say_when_the_runs_timeout_ends_an_answer_first() -> None:
    line = delivery_settings_lines(_with("github"))[0]
    assert "github delivery policy (timeout 10s, not below --timeout 5s)" in line, line
    fine = delivery_settings_lines(dataclasses.replace(_with("shopify"), timeout=30.0))[0]
    assert fine == "Delivery settings: shopify delivery policy (timeout 5s)", fine


@pytest.mark.anyio
@pytest.mark.parametrize("retries", [0, 1])
async def test_every_answer_is_timed_against_the_policy_with_or_without_retries(
    retries: int,
) -> None:
    """On virtual time: answers taking 0.5 s and 1.5 s against a 1 s timeout,
    with and without --retries (the one-attempt path and the retry loop
    both): the slow ones are counted, any status, a retried attempt's too."""
    text = _scenario('timeout = "1s"\nretry = { schedule = ["1s"] }')
    scenario = parse_scenario(text, "f")
    compiled = compile_scenario(scenario)
    # per journey: a fast 503 (retried when retries=1, else the request), then a slow 200
    script = [(503, 0.5), (200, 1.5)] * 4 if retries else [(503, 1.5), (200, 0.5)] * 4
    stats = Stats(endpoints=compiled.endpoints)
    taken: list[float] = [0.0]
    async with FakeClock() as clock:

        def handler(_: FakeRequest) -> int:
            status, delay = script.pop(0)
            taken[0] = delay
            return status

        walker = FlowWalker(
            transport=FakeTransport(handler, clock=lambda: clock.now() + taken[0]),
            stats=stats,
            scenario=compiled,
            target="http://service.test",
            think=0.0,
            now=clock.now,
            sleep=clock.sleep,
            retries=retries,
            policy=scenario.policy,
        )
        rng = random.Random(1)
        for _ in range(4 if retries else 8):
            await walker.walk(walker.plan(rng))
    d = stats.take(clock.now()).delivery
    assert (d[PROVIDER_ANSWERS], d[PROVIDER_TIMEOUTS]) == (8, 4), d
    assert d.get("retries", 0) == (4 if retries else 0)


def test_scenarios_check_says_the_files_policy() -> None:
    scenario = parse_scenario(_scenario('policy = "slack"'), "f.toml")
    line = summary(scenario, compile_scenario(scenario))
    assert line.endswith("; delivery policy slack (timeout 3s, 3 retries after 0s, 1m0s, 5m0s)")
    github = parse_scenario(_scenario('policy = "github"'), "f.toml")
    assert summary(github, compile_scenario(github)).endswith(
        "; delivery policy github (timeout 10s, no retries; 12 redeliveries after "
        "6h0m0s, 6h0m0s, 6h0m0s, 6h0m0s, … (5 more) …, 6h0m0s, 6h0m0s, 6h0m0s)"
    )


def test_the_documented_delivery_table_is_a_valid_one() -> None:
    """docs/DELIVERY.md's example [delivery] table loads as a scenario's."""
    doc = (Path(__file__).parent.parent / "docs" / "DELIVERY.md").read_text()
    block = doc.split("```toml\n[delivery]\n", 1)[1].split("```", 1)[0]
    policy = parse_scenario(_scenario(block), "f.toml").policy
    assert policy is not None and policy.provider == "Acme Pay"
    assert policy.schedule == (0.0, 5.0, 300.0, H, H, H)


@pytest.mark.parametrize("name", ["stripe", "paddle", "square", "standard", "shopify", "slack"])
def test_a_provider_scenario_runs_under_its_providers_policy(name: str) -> None:
    assert load_scenario(name).policy == builtin(name)
