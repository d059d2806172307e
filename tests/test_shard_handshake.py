"""The start handshake's two ends: a worker process's pipe protocol (ready on
stdout, go and stop on stdin: a stop must work at every moment) and the
:class:`~engine.shards.gate.StartGate` that picks the epoch."""

from __future__ import annotations

import subprocess
import sys
import time

import anyio
import pytest
from anyio.abc import Process

from engine.config import build_config
from engine.run.runner import RunResult
from engine.shards.gate import StartGate
from engine.shards.protocol import (
    STOP,
    Decoder,
    DeltaMsg,
    Message,
    ReadyMsg,
    ResultMsg,
    encode,
    go_line,
    parse_epoch,
)
from engine.shards.worker import CONFIG_FROM_ENV, HANDSHAKE, SHARE_ENV, share_json, worker_env
from tests.helpers import target_process

pytestmark = pytest.mark.anyio


async def _until(proc: Process, decoder: Decoder, seen: list[Message], kind: type) -> Message:
    """Read the worker's messages until one of ``kind`` (all kept in ``seen``)."""
    assert proc.stdout is not None
    while True:
        for msg in decoder.feed(await proc.stdout.receive()):
            seen.append(msg)
            if isinstance(msg, kind):
                return msg


async def _result(proc: Process, decoder: Decoder, seen: list[Message]) -> RunResult:
    msg = await _until(proc, decoder, seen, ResultMsg)
    assert isinstance(msg, ResultMsg)
    return msg.result


MOMENTS = [
    "stop before ready",
    "eof before ready",
    "stop waiting for go",
    "eof waiting for go",
    "nonsense go",
    "stop after go",
    "eof after go",
]


@pytest.mark.parametrize("moment", MOMENTS)
async def test_a_stop_or_eof_at_any_moment_of_the_handshake_ends_the_shard(moment: str) -> None:
    """A shard process of a --workers run: ready, then it waits for the go line;
    a stop byte or EOF ends it with a result before, during and after the wait,
    and a go line that is no time is a stop too."""
    with target_process() as url:
        cfg = build_config({"target": url, "vus": "1", "duration": "0", "think": "0"})
        cmd = [sys.executable, "-m", "engine.shards.worker_main", CONFIG_FROM_ENV, "0", HANDSHAKE]
        env = {**worker_env(cfg), SHARE_ENV: share_json(None)}
        seen: list[Message] = []
        decoder = Decoder()
        with anyio.fail_after(60):  # a bound, not a timing check
            async with await anyio.open_process(cmd, env=env, stderr=subprocess.DEVNULL) as proc:
                assert proc.stdin is not None
                if not moment.endswith("before ready"):
                    await _until(proc, decoder, seen, ReadyMsg)
                    assert not any(isinstance(m, DeltaMsg) for m in seen)  # no load before go
                if moment == "nonsense go":
                    await proc.stdin.send(b"gsoon\n")
                elif moment.endswith("after go"):
                    await proc.stdin.send(go_line(time.time()))
                    delta = await _until(proc, decoder, seen, DeltaMsg)
                    assert isinstance(delta, DeltaMsg) and delta.delta.start >= 0
                if moment.startswith("stop"):
                    await proc.stdin.send(STOP)
                elif moment.startswith("eof"):
                    await proc.stdin.aclose()
                result = await _result(proc, decoder, seen)
                await proc.wait()
    assert result.stopped and proc.returncode == 0
    sent = result.total.total
    assert sent > 0 if moment.endswith("after go") else sent == 0, (moment, sent)
    assert sum(isinstance(m, ReadyMsg) for m in seen) <= 1


async def test_the_tuis_engine_process_starts_at_once_without_a_handshake() -> None:
    with target_process() as url:
        cfg = build_config({"target": url, "vus": "1", "duration": "0", "think": "0"})
        cmd = [sys.executable, "-m", "engine.shards.worker_main", CONFIG_FROM_ENV, "0", ""]
        env = {**worker_env(cfg), SHARE_ENV: share_json(None)}
        seen: list[Message] = []
        decoder = Decoder()
        with anyio.fail_after(60):
            async with await anyio.open_process(cmd, env=env, stderr=subprocess.DEVNULL) as proc:
                assert proc.stdin is not None
                while not any(isinstance(m, DeltaMsg) and m.delta.total for m in seen):
                    await _until(proc, decoder, seen, DeltaMsg)  # sending, no go given
                await proc.stdin.aclose()
                result = await _result(proc, decoder, seen)
    assert result.stopped and result.total.total > 0
    assert not any(isinstance(m, ReadyMsg) for m in seen)


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_the_gate_opens_once_every_shard_is_ready_at_now_plus_the_margin() -> None:
    clock = _Clock()
    gate = StartGate(3, margin=0.25, wall_clock=clock)
    got: dict[int, float | None] = {}

    async def shard(i: int) -> None:
        got[i] = await gate.ready(i)

    async with anyio.create_task_group() as tg:
        tg.start_soon(shard, 0)
        await anyio.wait_all_tasks_blocked()
        clock.now = 1005.0
        gate.done(1)  # ended without a go: not waited for
        await anyio.wait_all_tasks_blocked()
        assert got == {} and gate.not_ready == [2] and gate.epoch is None
        clock.now = 1009.0
        tg.start_soon(shard, 2)
    assert got == {0: 1009.25, 2: 1009.25} and gate.epoch == 1009.25
    assert gate.ready_at == {0: 1000.0, 2: 1009.0} and gate.not_ready == []
    gate.call_off()  # too late: the start stands
    assert gate.epoch == 1009.25 and await gate.wait()


async def test_a_called_off_start_gives_the_waiting_shards_none() -> None:
    gate = StartGate(2, margin=0.2, wall_clock=_Clock())
    got: list[float | None] = []

    async def shard() -> None:
        got.append(await gate.ready(0))

    async with anyio.create_task_group() as tg:
        tg.start_soon(shard)
        await anyio.wait_all_tasks_blocked()
        gate.call_off()
    assert got == [None] and gate.epoch is None and not await gate.wait()
    assert await gate.ready(1) is None  # a shard ready after the stop does not start


def test_the_go_line_carries_the_epoch_exactly_and_nonsense_is_refused() -> None:
    epoch = 1790000000.123456789
    line = go_line(epoch)
    assert line.startswith(b"g") and line.endswith(b"\n") and line.count(b"\n") == 1
    assert parse_epoch(line[1:-1]) == epoch
    for bad in (b"soon", b"", b"nan", b"inf", b"-1", b"0"):
        with pytest.raises(ValueError):
            parse_epoch(bad)
    assert Decoder().feed(encode(ReadyMsg())) == [ReadyMsg()]
