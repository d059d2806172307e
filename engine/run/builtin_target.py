"""``--target builtin``: the reference target as a subprocess on a free port.

A separate process, so the target's work does not share the generator's event
loop (it would distort the very latencies we measure).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from pathlib import Path, PurePath

import anyio

from engine.domain.signing import SECRET_ENV
from engine.errors import EXIT_INTERRUPTED, WebhookloadError
from engine.run.processes import stop_process
from engine.scenario.select import hand_written

READY_PREFIX = "webhookload-target listening on "


class BuiltinTargetError(WebhookloadError):
    """``--target builtin`` could not start the reference target (exit 1)."""


class BuiltinTargetInterrupted(BuiltinTargetError):
    """A Ctrl+C reached the target as it started (exit 130, like any interrupt):
    forked but not yet in a session of its own, it was still in the terminal's
    process group."""

    default_exit_code = EXIT_INTERRUPTED


@asynccontextmanager
async def builtin_target(
    *,
    mode: str = "sync",
    contract: str = "ingest",
    extra: Sequence[str] = (),
    signing: tuple[str, str, str] | None = None,
    scenario: tuple[str, str] = ("", ""),
) -> AsyncIterator[str]:
    """Start ``python -m target --port 0``; yield its base URL; stop it after.

    ``signing`` is (scheme, secret(s), stripe header or ""): the target then checks the
    run's signatures end to end. The secret goes in its environment, never its
    argv (which any process listing shows). ``scenario`` is the run's (origin,
    text): a scenario the hand-written service does not serve (``stripe``, a
    file) is received from its file (target/scenario_app.py); a file's text
    goes to the target as a file of its own (a shard's run need not have the
    user's file)."""
    async with AsyncExitStack() as files:
        cmd = [sys.executable, "-m", "target", "--port", "0"]
        origin, text = scenario
        if origin and not hand_written(origin):
            cmd += ["--scenario", files.enter_context(_scenario_file(origin, text))]
        else:
            cmd += ["--mode", mode, "--contract", contract]
        async with _started(cmd, signing, extra) as url:
            yield url


@contextmanager
def _scenario_file(origin: str, text: str) -> Iterator[str]:
    """The run's text written to a file of the scenario's name (the target reads
    what the run sends, wherever the run's file came from); no text: the name."""
    if not text:
        yield origin
        return
    with tempfile.TemporaryDirectory(prefix="webhookload-scenario-") as tmp:
        path = Path(tmp) / f"{PurePath(origin).stem or 'scenario'}.toml"
        path.write_text(text, encoding="utf-8")
        yield str(path)


@asynccontextmanager
async def _started(
    cmd: list[str], signing: tuple[str, str, str] | None, extra: Sequence[str]
) -> AsyncIterator[str]:
    cmd.append("--exit-with-parent")  # stdin is our pipe: EOF means we are gone
    env = None
    if signing is not None:
        scheme, secret, header = signing
        cmd += ["--sign", scheme] + (["--signature-header", header] if header else [])
        env = {**os.environ, SECRET_ENV: secret}
    cmd += list(extra)
    # a session of its own: a terminal's Ctrl+C (SIGINT to its foreground process
    # group) is ours to handle, and killed it mid-start ("did not start"); we stop
    # it ourselves, and --exit-with-parent ends it if we die
    proc = await anyio.open_process(
        cmd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    )
    try:
        url = await _read_ready_line(proc)
        yield url
    finally:
        await stop_process(proc)


async def _read_ready_line(proc: anyio.abc.Process) -> str:
    assert proc.stdout is not None
    buf = b""
    with anyio.move_on_after(20):
        while b"\n" not in buf:
            try:
                buf += await proc.stdout.receive()
            except anyio.EndOfStream:
                break
    line = buf.split(b"\n", 1)[0].decode(errors="replace").strip()
    if not line.startswith(READY_PREFIX):
        with anyio.move_on_after(2):  # how it ended: a Ctrl+C is no failure of the target
            await proc.wait()
        if proc.returncode == -signal.SIGINT:
            raise BuiltinTargetInterrupted("interrupted while the builtin target was starting")
        raise BuiltinTargetError(f"the builtin target did not start (it said {line!r})")
    return line[len(READY_PREFIX) :]
