"""HTTP helpers for tests that need headers both ways (signatures, correlation ids),
and the reference target as a process whose whole output is kept."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from engine.run.builtin_target import READY_PREFIX


@dataclass
class Answer:
    code: int
    body: bytes
    headers: Mapping[str, str]


def send(url: str, body: bytes | None = None, headers: Mapping[str, str] | None = None) -> Answer:
    """POST ``body`` (GET when ``None``) with ``headers``; any status is an answer."""
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    req = urllib.request.Request(url, data=body, headers=all_headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return Answer(resp.status, resp.read(), dict(resp.headers))
    except urllib.error.HTTPError as err:
        with err:
            return Answer(err.code, err.read(), dict(err.headers))


@dataclass
class TargetRun:
    """A running target; ``stdout``/``stderr`` hold everything it wrote once it stopped."""

    url: str
    pid: int
    stdout: str = ""
    stderr: str = ""


@contextmanager
def target_with_output(*args: str, env: Mapping[str, str] | None = None) -> Iterator[TargetRun]:
    """``python -m target --port 0 ARGS`` with extra ``env``, keeping stdout and stderr."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "target", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    run = TargetRun(url="", pid=proc.pid)
    try:
        assert first.startswith(READY_PREFIX), first
        run.url = first.strip()[len(READY_PREFIX) :]
        yield run
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=10)
        run.stdout, run.stderr = first + out, err
