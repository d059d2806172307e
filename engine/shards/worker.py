"""The engine in its own process, streaming snapshot deltas to a parent.

The TUI renders on its event loop; sharing that loop with the generator cost
a third of its throughput and stalled in-flight requests for the length of
each repaint (inflating their latencies). So the TUI runs the engine here:
``python -m engine.shards.worker`` takes the run's settings as JSON in its
environment (never on argv, which ``ps`` shows: headers carry tokens), writes
the messages of :mod:`engine.shards.protocol` to stdout — a delta about 4
times a second, phases, then the result or the error (with its exit code) —
and stops the run when a byte (or EOF) arrives on stdin. A shard of a
``--workers`` run first says :class:`~engine.shards.protocol.ReadyMsg` and
waits for a go line on stdin (:func:`~engine.shards.protocol.go_line`) with
the common epoch; a stop still works before, during and after that wait.

:class:`ProcessRunner` is the parent side, with the same ``sinks``, ``run()`` and
``stop()`` as :class:`~engine.run.runner.Runner`, so consumers cannot tell them apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

import anyio
import orjson

from engine.config import RunConfig
from engine.domain.signing import SECRET_ENV
from engine.domain.stages import LoadShare
from engine.errors import WebhookloadError
from engine.metrics.stats import Snapshot
from engine.run.loop import run_main
from engine.run.processes import stop_process
from engine.run.runner import Runner, RunResult
from engine.run.sinks import Phase, PhaseSink, Sink
from engine.shards.gate import StartGate
from engine.shards.protocol import (
    GO,
    STOP,
    Decoder,
    DeltaMsg,
    ErrorMsg,
    Message,
    PhaseMsg,
    ReadyMsg,
    ResultMsg,
    deliver,
    encode,
    go_line,
    parse_epoch,
)


class WorkerError(WebhookloadError):
    """The worker process died or answered nonsense; ``str()`` says what it printed."""


class ProcessRunner:
    """Runs a :class:`Runner` in ``python -m engine.shards.worker``; deltas arrive in this loop."""

    def __init__(
        self,
        config: RunConfig,
        *,
        sinks: Sequence[Sink] = (),
        shard: int = 0,
        gate: StartGate | None = None,
    ) -> None:
        self.config = config
        self.shard = shard
        self.gate = gate
        """The run's common start (a ``--workers`` shard); None: start at once (the TUI)."""
        self.pid: int | None = None
        """The engine process's pid once started (a dead shard is named by it)."""
        self.load_share: LoadShare | None = None
        """The whole run's load model when one of several shards (the coordinator sets it)."""
        self._sinks = tuple(sinks)
        self._phase_sinks = tuple(s for s in sinks if isinstance(s, PhaseSink))
        self._stop_requested = False
        self._stop_event: anyio.Event | None = None
        self._stdin_lock: anyio.Lock | None = None

    @property
    def where(self) -> str:
        """The engine process, for a message naming this shard."""
        return f"pid {self.pid}" if self.pid is not None else "not started"

    def stop(self) -> None:
        """End the run: the worker cancels in-flight requests and still sends the result."""
        self._stop_requested = True
        if self._stop_event is not None:
            self._stop_event.set()

    async def _stopper(self, proc: anyio.abc.Process) -> None:
        assert self._stop_event is not None
        await self._stop_event.wait()
        await self._tell(proc, STOP)

    async def _go_when_open(self, proc: anyio.abc.Process) -> None:
        """The shard is ready: the go (with the epoch) once every shard is; no go
        when the start is called off (the coordinator stops us then)."""
        assert self.gate is not None
        epoch = await self.gate.ready(self.shard)
        if epoch is not None:
            await self._tell(proc, go_line(epoch))

    async def _tell(self, proc: anyio.abc.Process, data: bytes) -> None:
        """Write to the worker's stdin, one writer at a time; a gone worker is
        the reader's to report."""
        assert self._stdin_lock is not None and proc.stdin is not None
        async with self._stdin_lock:
            with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
                await proc.stdin.send(data)

    async def run(self) -> RunResult:
        cmd = [
            sys.executable,
            "-m",
            "engine.shards.worker_main",
            CONFIG_FROM_ENV,
            str(self.shard),
            "" if self.gate is None else HANDSHAKE,
        ]
        proc = await anyio.open_process(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**worker_env(self.config), SHARE_ENV: share_json(self.load_share)},
            start_new_session=True,  # a terminal's Ctrl+C and hangup are the parent's
        )
        self.pid = proc.pid
        self._stop_event = anyio.Event()
        self._stdin_lock = anyio.Lock()
        if self._stop_requested:
            self._stop_event.set()
        stderr = bytearray()
        failure: Exception | None = None
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(_drain, proc.stderr, stderr)
                tg.start_soon(self._stopper, proc)
                try:
                    result = await self._read_messages(proc, tg)
                except Exception as exc:  # raised below, outside the task group's wrapping
                    failure = exc
                tg.cancel_scope.cancel()
            if isinstance(failure, WorkerError):
                with anyio.move_on_after(2):  # how it ended: an exit code, or a signal
                    await proc.wait()
                if proc.returncode is not None:
                    failure = WorkerError(f"{failure} ({_exit_status(proc.returncode)})")
                tail = bytes(stderr).decode(errors="replace").strip()[-800:]
                raise WorkerError(f"{failure}: {tail}" if tail else str(failure))
            if failure is not None:
                raise failure
            return result
        finally:
            await stop_process(proc)

    async def _read_messages(self, proc: anyio.abc.Process, tg: anyio.abc.TaskGroup) -> RunResult:
        assert proc.stdout is not None
        decoder = Decoder()
        while True:
            try:
                chunk = await proc.stdout.receive()
            except anyio.EndOfStream:
                raise WorkerError("the engine process ended without a result") from None
            try:
                messages = decoder.feed(chunk)
            except Exception as exc:
                raise WorkerError(f"the engine process sent nonsense ({exc})") from None
            for msg in messages:
                if isinstance(msg, ReadyMsg) and self.gate is not None:
                    tg.start_soon(self._go_when_open, proc)  # reading on: it may die
                    continue
                result = deliver(msg, self._sinks, self._phase_sinks)
                if result is not None:
                    return result


def _exit_status(code: int) -> str:
    """``exit code 1``, or ``killed by SIGKILL`` (a negative code is a signal)."""
    if code >= 0:
        return f"exit code {code}"
    try:
        return f"killed by {signal.Signals(-code).name}"
    except ValueError:
        return f"killed by signal {-code}"


async def _drain(stream: anyio.abc.ByteReceiveStream | None, into: bytearray) -> None:
    if stream is None:
        return
    try:
        async for chunk in stream:
            into += chunk
    except anyio.BrokenResourceError:
        pass


HANDSHAKE = "ready"
"""The worker's start argument for a shard: say ready, wait for the go ("" = start at once)."""
CONFIG_ENV = "WEBHOOKLOAD_CONFIG"
"""The variable that carries the worker's settings (:func:`config_json`)."""
CONFIG_FROM_ENV = "-"
"""The worker's config argument meaning "read it from :data:`CONFIG_ENV`"."""


def config_json(config: RunConfig) -> dict[str, Any]:
    """The settings as JSON-able values, without the signing secret (it travels
    in its own variable, :data:`SECRET_ENV`, as the target takes it too)."""
    d = dataclasses.asdict(config)
    del d["secret"]
    return d


def worker_env(config: RunConfig) -> dict[str, str]:
    """The worker's environment: ours, with the settings (``--header`` values
    may be tokens, and a command line is public in ``ps``/``/proc``) and the secret."""
    env = {**os.environ, CONFIG_ENV: orjson.dumps(config_json(config)).decode()}
    if config.secret:
        env[SECRET_ENV] = config.secret
    return env


def config_from_argv(text: str) -> RunConfig:
    """The child's side of :func:`config_json` and :func:`worker_env`; ``text`` is
    the JSON, or :data:`CONFIG_FROM_ENV` to read it from :data:`CONFIG_ENV`."""
    values = orjson.loads(os.environ.get(CONFIG_ENV, "{}") if text == CONFIG_FROM_ENV else text)
    if values.get("sign"):
        values["secret"] = os.environ.get(SECRET_ENV, "")
    return RunConfig(**values)


SHARE_ENV = "WEBHOOKLOAD_SHARE"
"""The variable that carries the shard's :class:`LoadShare` (``null``: none)."""


def share_json(part: LoadShare | None) -> str:
    return orjson.dumps(None if part is None else [part.of, part.start, part.stages]).decode()


def share_from_json(text: str) -> LoadShare | None:
    """The child's side of :func:`share_json`."""
    values = orjson.loads(text or "null")
    return None if values is None else LoadShare(int(values[0]), float(values[1]), str(values[2]))


# --- the child side -------------------------------------------------------------


class _Messages:
    """The child's sink: every delta and phase, sent to the parent."""

    def __init__(self, send: Callable[[Message], None]) -> None:
        self._send = send

    def on_snapshot(self, delta: Snapshot) -> None:
        self._send(DeltaMsg(delta))

    def on_phase(self, phase: Phase) -> None:
        self._send(PhaseMsg(phase))


def _read_go(fd: int) -> float | None:
    """The rest of a go line on ``fd`` (after :data:`GO`): its epoch, or None when
    it is cut short by EOF or is no time (both then mean stop)."""
    line = bytearray()
    while (byte := os.read(fd, 1)) not in (b"", b"\n"):
        line += byte
    if byte != b"\n":
        return None
    try:
        return parse_epoch(bytes(line))
    except ValueError:
        return None


def _child(
    config: RunConfig,
    shard: int = 0,
    handshake: bool = False,
    load_share: LoadShare | None = None,
) -> None:
    # A closed terminal hangs up its whole process group, and Ctrl+C interrupts
    # it: the parent stops us (stdin) and still wants the result, so the hangup
    # and the interrupt are the parent's alone.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    out = sys.stdout.buffer

    def send(msg: Message) -> None:
        out.write(encode(msg))
        out.flush()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        go = anyio.Event()
        epochs: list[float] = []

        def on_go(epoch: float) -> None:
            epochs.append(epoch)
            go.set()

        async def ready() -> float:
            send(ReadyMsg())
            await go.wait()
            return epochs[0]

        runner = Runner(
            config,
            sinks=[_Messages(send)],
            shard=shard,
            load_share=load_share,
            ready=ready if handshake else None,
        )

        def watch_stdin() -> None:
            # A go line, once, then any byte or EOF means stop; any other byte
            # or EOF means stop at once. A daemon thread, since stdin may be a
            # file or /dev/null, which an event loop cannot poll.
            # os.read, not sys.stdin: a daemon thread blocked in a buffered read
            # aborts the interpreter at exit (it holds the buffer's lock).
            fd = sys.stdin.fileno()
            if os.read(fd, 1) == GO:
                epoch = _read_go(fd)
                if epoch is not None:
                    loop.call_soon_threadsafe(on_go, epoch)
                    os.read(fd, 1)
            loop.call_soon_threadsafe(runner.stop)

        threading.Thread(target=watch_stdin, daemon=True).start()
        # The parent terminates us when it quits: stop gracefully, so a builtin
        # target this run started is stopped too.
        loop.add_signal_handler(signal.SIGTERM, runner.stop)
        try:
            send(ResultMsg(await runner.run()))
        except WebhookloadError as exc:
            send(ErrorMsg(exc))

    run_main(main)


def main(argv: list[str]) -> None:
    """argv: the config JSON (or "-": from the environment), the shard index, and
    :data:`HANDSHAKE` for a shard that waits for a go ("": start at once); the load
    share comes from :data:`SHARE_ENV`."""
    args = [*argv, "0", ""][:3]
    _child(
        config_from_argv(args[0]),
        int(args[1]),
        args[2] == HANDSHAKE,
        share_from_json(os.environ.get(SHARE_ENV, "")),
    )


if __name__ == "__main__":
    main(sys.argv[1:])
