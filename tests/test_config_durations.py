"""Flag values: Go-style durations, and one clear message per bad field."""

from __future__ import annotations

import dataclasses

import pytest

from engine.config import DERIVED, PARSERS, ConfigError, RunConfig, build_config
from engine.domain.durations import format_duration, format_latency, parse_duration
from tui.flags import build_parser


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("500ms", 0.5),
        ("30s", 30),
        ("2m", 120),
        ("1m30s", 90),
        ("0", 0),
        ("1h", 3600),
        ("1.5s", 1.5),
        ("250us", 0.00025),
        ("10ms", 0.01),
    ],
)
def test_parse_go_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "abc", "-1s", "10", "5 s", "1x", "s"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_format_like_go() -> None:
    assert format_duration(30.0012) == "30.001s"
    assert format_duration(90) == "1m30s"
    assert format_duration(0) == "0s"
    assert format_duration(3600 + 61.5) == "1h1m1.5s"
    assert format_latency(None) == "-"
    assert format_latency(0.012) == "12.0ms"
    assert format_latency(0.00085) == "850µs"
    assert format_latency(0.120) == "120ms"
    assert format_latency(1.2) == "1.20s"


def test_defaults_are_the_plans() -> None:
    c = build_config({})
    assert c == RunConfig()
    assert (c.target, c.vus, c.duration, c.dispute_ratio, c.think) == (
        "http://localhost:3001",
        10,
        30.0,
        0.3,
        0.010,
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("vus", "-1", "--vus must be a positive integer, got '-1'"),
        ("vus", "ten", "--vus must be a positive integer, got 'ten'"),
        (
            "duration",
            "soon",
            "--duration must be a duration like 500ms, 30s, 2m or 1m30s (0 = no limit), got 'soon'",
        ),
        ("dispute_ratio", "1.5", "--dispute-ratio must be a number from 0 to 1, got '1.5'"),
        ("think", "x", "--think must be a duration like 0, 10ms or 1s, got 'x'"),
        ("timeout", "0", "--timeout must be a duration greater than 0, like 5s, got '0'"),
        ("contract", "v2", "--contract must be one of ingest, plan, got 'v2'"),
        ("client", "curl", "--client must be one of fast, aiohttp, httpx, pyreqwest, got 'curl'"),
        (
            "target",
            "localhost:3001",
            "--target must be an http:// or https:// URL like "
            "http://localhost:3001, or builtin, got 'localhost:3001'",
        ),
        ("seed", "x1", "--seed must be an integer, got 'x1'"),
    ],
)
def test_bad_values_name_the_flag(field: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        build_config({field: value})
    assert str(err.value) == message


def test_http2_needs_httpx() -> None:
    with pytest.raises(ConfigError, match="--http2 must be used with --client httpx"):
        build_config({"http2": True})
    assert build_config({"http2": True, "client": "httpx"}).http2
    with pytest.raises(ConfigError, match="target that speaks HTTP/2, got '--target builtin'"):
        build_config({"http2": True, "client": "httpx", "target": "builtin"})


def test_every_setting_has_a_flag_a_validator_and_a_json_key() -> None:
    """Derived from RunConfig's fields, so a new setting without a flag fails here."""
    actions = {a.dest: a for a in build_parser()._actions}
    defaults = RunConfig()
    d = build_config({"duration": "1m30s", "think": "0"}).as_dict()
    assert d["duration"] == "1m30s" and d["think"] == "0"
    # the scenario file's text, shape and overrides are derived from --scenario
    names = [f.name for f in dataclasses.fields(RunConfig) if f.name not in DERIVED]
    assert set(d) == set(names)  # the JSON summary records every setting
    for name in names:
        action = actions.get(name)
        assert action is not None, f"no flag sets RunConfig.{name}"
        flag = "--" + name.replace("_", "-")
        if isinstance(getattr(defaults, name), tuple):
            # a list of values is a repeatable flag, named in the singular (--threshold)
            assert action.option_strings == [flag.removesuffix("s")], name
            assert action.nargs is None and type(action).__name__ == "_AppendAction", name
            assert name in PARSERS, name
            continue
        assert action.option_strings == [flag], name
        if isinstance(getattr(defaults, name), bool):
            assert action.nargs == 0, name  # a switch, like --http2
        else:
            assert name in PARSERS, name  # the text is validated, in the CLI and the form
