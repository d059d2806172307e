"""The shard protocol and the error family: what crosses a process boundary
arrives whole, typed, with its exit code."""

from __future__ import annotations

import pickle

import pytest

from engine.config import ConfigError, build_config
from engine.errors import (
    EXIT_FAILED,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    WebhookloadError,
)
from engine.metrics.stats import Snapshot, Stats
from engine.run.builtin_target import BuiltinTargetError
from engine.run.preflight import TargetUnreachable
from engine.run.runner import Phase, RunResult
from engine.shards.protocol import (
    Decoder,
    DeltaMsg,
    ErrorMsg,
    Message,
    PhaseMsg,
    ResultMsg,
    encode,
)
from engine.shards.worker import WorkerError


def test_every_error_a_user_meets_carries_its_exit_code() -> None:
    cases: list[tuple[WebhookloadError, int]] = [
        (ConfigError("vus", "a positive integer", "-1"), EXIT_USAGE),
        (TargetUnreachable("http://127.0.0.1:9", "connection refused"), EXIT_UNREACHABLE),
        (BuiltinTargetError("the builtin target did not start"), EXIT_FAILED),
        (WorkerError("the engine process ended without a result"), EXIT_FAILED),
        (WebhookloadError("a shard died", exit_code=7), 7),
    ]
    for err, code in cases:
        assert err.exit_code == code, err
        back = pickle.loads(pickle.dumps(err))
        assert type(back) is type(err)
        assert str(back) == str(err) and back.exit_code == code
    assert str(cases[0][0]) == "--vus must be a positive integer, got '-1'"


def test_messages_survive_any_chunking() -> None:
    stats = Stats()
    stats.record_response(0, 202, 1500)
    delta = stats.take(0.25)
    result = RunResult(build_config({}), "http://127.0.0.1:1", delta, 0.25, False)
    msgs: list[Message] = [
        DeltaMsg(delta),
        PhaseMsg(Phase("verifying", sampled=3, wait_s=1.0)),
        ErrorMsg(TargetUnreachable("http://127.0.0.1:9", "refused")),
        ResultMsg(result),
    ]
    stream = b"".join(encode(m) for m in msgs)
    for size in (1, 3, 7, 64, len(stream)):
        decoder = Decoder()
        got = []
        for i in range(0, len(stream), size):
            got += decoder.feed(stream[i : i + size])
        assert [type(m) for m in got] == [type(m) for m in msgs], size
        first = got[0]
        assert isinstance(first, DeltaMsg) and first.delta.total == 1
        assert isinstance(first.delta, Snapshot)
        err = got[2]
        assert isinstance(err, ErrorMsg) and isinstance(err.error, TargetUnreachable)
        assert err.error.exit_code == EXIT_UNREACHABLE
        assert err.error.target == "http://127.0.0.1:9"  # its attributes come along
        last = got[3]
        assert isinstance(last, ResultMsg) and last.result.total.total == 1


def test_something_else_on_the_pipe_is_refused() -> None:
    data = pickle.dumps(("snapshot", Snapshot()))
    frame = len(data).to_bytes(4, "big") + data
    with pytest.raises(ValueError, match="not a shard message"):
        Decoder().feed(frame)
