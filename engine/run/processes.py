"""Stopping a child process: politely, then firmly, never leaving it behind."""

from __future__ import annotations

import anyio
from anyio.abc import Process


async def stop_process(proc: Process, grace_s: float = 3.0) -> None:
    """SIGTERM, up to ``grace_s`` to exit, then SIGKILL; shielded from cancellation
    so a cancelled caller still reaps its child."""
    with anyio.CancelScope(shield=True):
        if proc.returncode is None:
            proc.terminate()
            with anyio.move_on_after(grace_s):
                await proc.wait()
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        await proc.aclose()
