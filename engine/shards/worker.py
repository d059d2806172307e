"""The engine in its own process, streaming snapshot deltas to a parent.

The TUI renders on its event loop; sharing that loop with the generator cost
a third of its throughput and stalled in-flight requests for the length of
each repaint (inflating their latencies). So the TUI runs the engine here:
``python -m engine.shards.worker`` takes the run's settings as JSON on argv, writes
length-prefixed pickled frames to stdout — ``("snapshot", Snapshot)`` about
4 times a second, ``("phase", Phase)`` as the run moves on, then
``("result", RunResult)`` or ``("error", kind, text)`` — and stops the run
when a byte (or EOF) arrives on stdin.

:class:`ProcessRunner` is the parent side, with the same ``sinks``, ``run()`` and
``stop()`` as :class:`~engine.run.runner.Runner`, so consumers cannot tell them apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import pickle
import signal
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

import anyio
import orjson

from engine.config import RunConfig
from engine.metrics.stats import Snapshot
from engine.run.builtin_target import BuiltinTargetError
from engine.run.loop import run_main
from engine.run.preflight import TargetUnreachable
from engine.run.processes import stop_process
from engine.run.runner import Runner, RunResult
from engine.run.sinks import Phase, PhaseSink, Sink

_LEN = struct.Struct("!I")


class WorkerError(RuntimeError):
    """The worker process died or answered nonsense; ``str()`` says what it printed."""


def _frame(obj: Any) -> bytes:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return _LEN.pack(len(data)) + data


class ProcessRunner:
    """Runs a :class:`Runner` in ``python -m engine.shards.worker``; deltas arrive in this loop."""

    def __init__(self, config: RunConfig, *, sinks: Sequence[Sink] = ()) -> None:
        self.config = config
        self._sinks = tuple(sinks)
        self._phase_sinks = tuple(s for s in sinks if isinstance(s, PhaseSink))
        self._stop_requested = False
        self._stop_event: anyio.Event | None = None

    def stop(self) -> None:
        """End the run: the worker cancels in-flight requests and still sends the result."""
        self._stop_requested = True
        if self._stop_event is not None:
            self._stop_event.set()

    async def _stopper(self, proc: anyio.abc.Process) -> None:
        assert self._stop_event is not None and proc.stdin is not None
        await self._stop_event.wait()
        with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
            await proc.stdin.send(b"s")

    async def run(self) -> RunResult:
        cmd = [
            sys.executable,
            "-m",
            "engine.shards.worker",
            orjson.dumps(config_json(self.config)).decode(),
        ]
        proc = await anyio.open_process(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        self._stop_event = anyio.Event()
        if self._stop_requested:
            self._stop_event.set()
        stderr = bytearray()
        failure: Exception | None = None
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(_drain, proc.stderr, stderr)
                tg.start_soon(self._stopper, proc)
                try:
                    result = await self._read_frames(proc)
                except Exception as exc:  # raised below, outside the task group's wrapping
                    failure = exc
                tg.cancel_scope.cancel()
            if isinstance(failure, WorkerError):
                tail = bytes(stderr).decode(errors="replace").strip()[-800:]
                raise WorkerError(f"{failure}: {tail}" if tail else str(failure))
            if failure is not None:
                raise failure
            return result
        finally:
            await stop_process(proc)

    async def _read_frames(self, proc: anyio.abc.Process) -> RunResult:
        assert proc.stdout is not None
        buf = bytearray()
        while True:
            try:
                buf += await proc.stdout.receive()
            except anyio.EndOfStream:
                raise WorkerError("the engine process ended without a result") from None
            while len(buf) >= _LEN.size:
                (n,) = _LEN.unpack_from(buf)
                if len(buf) < _LEN.size + n:
                    break
                msg = pickle.loads(bytes(buf[_LEN.size : _LEN.size + n]))
                del buf[: _LEN.size + n]
                if msg[0] == "snapshot":
                    for sink in self._sinks:
                        sink.on_snapshot(msg[1])
                elif msg[0] == "phase":
                    for phase_sink in self._phase_sinks:
                        phase_sink.on_phase(msg[1])
                elif msg[0] == "result":
                    return msg[1]  # type: ignore[no-any-return]
                elif msg[0] == "error":
                    _, kind, text = msg
                    if kind == "unreachable":
                        raise TargetUnreachable(*text)
                    if kind == "builtin":
                        raise BuiltinTargetError(text)
                    raise WorkerError(text)


async def _drain(stream: anyio.abc.ByteReceiveStream | None, into: bytearray) -> None:
    if stream is None:
        return
    try:
        async for chunk in stream:
            into += chunk
    except anyio.BrokenResourceError:
        pass


def config_json(config: RunConfig) -> dict[str, Any]:
    """The settings as JSON-able values, as the worker takes them on its command line."""
    return dataclasses.asdict(config)


# --- the child side -------------------------------------------------------------


class _Frames:
    """The child's sink: every delta and phase, framed to the parent."""

    def __init__(self, send: Callable[[Any], None]) -> None:
        self._send = send

    def on_snapshot(self, delta: Snapshot) -> None:
        self._send(("snapshot", delta))

    def on_phase(self, phase: Phase) -> None:
        self._send(("phase", phase))


def _child(config: RunConfig) -> None:
    # A closed terminal hangs up its whole process group: the parent stops us
    # (stdin) and still wants the result, so the hangup is the parent's alone.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    out = sys.stdout.buffer

    def send(obj: Any) -> None:
        out.write(_frame(obj))
        out.flush()

    runner = Runner(config, sinks=[_Frames(send)])

    async def main() -> None:
        loop = asyncio.get_running_loop()

        def watch_stdin() -> None:
            # Any byte or EOF means stop. A daemon thread, since stdin may be a
            # file or /dev/null, which an event loop cannot poll.
            # os.read, not sys.stdin: a daemon thread blocked in a buffered read
            # aborts the interpreter at exit (it holds the buffer's lock).
            os.read(sys.stdin.fileno(), 1)
            loop.call_soon_threadsafe(runner.stop)

        threading.Thread(target=watch_stdin, daemon=True).start()
        # The parent terminates us when it quits: stop gracefully, so a builtin
        # target this run started is stopped too.
        loop.add_signal_handler(signal.SIGTERM, runner.stop)
        try:
            send(("result", await runner.run()))
        except TargetUnreachable as exc:
            send(("error", "unreachable", (exc.target, exc.reason)))
        except BuiltinTargetError as exc:
            send(("error", "builtin", str(exc)))

    run_main(main)


if __name__ == "__main__":
    _child(RunConfig(**orjson.loads(sys.argv[1])))
