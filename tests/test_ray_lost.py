"""``--backend ray`` when things go wrong around it: a dead actor is a lost shard
(exit 6, with what the others measured, as a dead worker process), and no
``--ray-address`` means a local instance of our own, whatever the environment."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import anyio
import pytest

from engine.config import build_config
from engine.errors import EXIT_SHARD_LOST
from engine.shards.coordinator import ShardLost
from engine.shards.ray_backend import RayCoordinator
from tests.helpers import target_process, when_shards_send

pytestmark = pytest.mark.ray


@pytest.mark.anyio
async def test_a_killed_ray_actor_is_a_lost_shard_with_a_partial_result() -> None:
    """It ended the run with exit 1 and no summary: RayShardError was not a
    lost shard to the coordinator."""
    with target_process() as url:
        cfg = build_config(
            {"target": url, "vus": "4", "duration": "0", "workers": "2", "backend": "ray"}
        )
        sink, both = when_shards_send(0, 1)
        coordinator = RayCoordinator(cfg, sinks=[sink])

        async def kill_shard_1() -> None:
            await both.wait()  # both actors are sending (bounded by the test timeout)
            pid = re.search(r"pid (\d+)", coordinator.shards[1].where)
            assert pid, coordinator.shards[1].where
            os.kill(int(pid.group(1)), signal.SIGKILL)

        async with anyio.create_task_group() as tg:
            tg.start_soon(kill_shard_1)
            with pytest.raises(ShardLost) as err:
                await coordinator.run()
    text = str(err.value)
    assert text.startswith("shard 1 of 2 (Ray actor on "), text
    assert "the Ray actor failed" in text
    assert err.value.exit_code == EXIT_SHARD_LOST
    partial = err.value.partial
    assert partial is not None and partial.stopped and partial.total.total > 0
    assert 0 in partial.total.health  # shard 0 was stopped and still counted


def test_no_ray_address_starts_our_own_instance_whatever_ray_address_says() -> None:
    """``ray.init()`` with no address joins RAY_ADDRESS (or the last ``ray start``
    cluster on the machine) and then refuses our ``num_cpus``: a traceback. A
    closed loopback port stands in for somebody else's cluster."""
    res = subprocess.run(
        [
            *(sys.executable, "-m", "tui.cli", "--no-ui", "--target", "builtin"),
            *("--backend", "ray", "--workers", "2", "--vus", "2", "--duration", "1s"),
        ],
        capture_output=True,
        text=True,
        timeout=110,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "RAY_ADDRESS": "127.0.0.1:1"},
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert "SUMMARY" in res.stdout
    assert "Traceback" not in res.stderr
