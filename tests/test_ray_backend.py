"""``--backend ray``: two shards as Ray actors on a local Ray instance (the Ray
test: marked ``ray``; Ray comes with ``make install``, the ``distributed`` extra)."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from typing import Any

import pytest
import ray

from engine.config import ConfigError, build_config
from engine.errors import EXIT_FAILED
from engine.metrics.stats import Snapshot
from engine.run.sinks import CallbackSink
from engine.shards import ray_backend
from engine.shards.ray_backend import RayCoordinator, RayJoinError, ray_session
from engine.shards.runners import make_runner
from tests.helpers import get_json, target_process
from tests.test_engine_live import assert_counts_agree


@pytest.mark.ray
@pytest.mark.anyio
async def test_two_ray_shards_agree_with_the_targets_own_counts() -> None:
    with target_process() as url:
        cfg = build_config(
            {
                "target": url,
                "vus": "4",
                "duration": "2s",
                "think": "0",
                "workers": "2",
                "backend": "ray",
                "dispute_ratio": "0.5",
            }
        )
        deltas: list[Snapshot] = []
        runner = make_runner(cfg, [CallbackSink(deltas.append)])
        assert isinstance(runner, RayCoordinator)
        result = await runner.run()
        stats = get_json(url + "/stats")
    total = result.total
    assert total.total > 20 and total.errors == 0  # distinct streams: no invalid sequence
    assert_counts_agree(total, stats)
    assert set(total.health) == {0, 1}  # both actors ran, their health kept apart
    assert sum(d.total for d in deltas) == total.total
    gate = runner.gate  # the start was the handshake: the epoch came after both readies
    assert gate is not None and gate.epoch is not None and set(gate.ready_at) == {0, 1}
    assert gate.epoch >= max(gate.ready_at.values())
    assert min(d.start for d in deltas) >= 0


RAY_LOG_LINE = re.compile(r"^\s*(\[?\d{4}-\d\d-\d\d|INFO|WARNING|ERROR|\((raylet|pid=|\w+ pid=))")
"""How Ray's own lines start: its logger's timestamp, a bare level, a C++
component's ``[2026-...``, a worker's ``(raylet)`` / ``(pid=...)`` prefix."""


@pytest.mark.ray
def test_a_headless_ray_run_prints_only_our_own_lines() -> None:
    """It printed Ray's ``... INFO worker.py:... -- Started a local Ray instance.``
    (and a token-authentication WARNING) among the summary's lines."""
    res = subprocess.run(
        [
            *(sys.executable, "-m", "tui.cli", "--no-ui", "--target", "builtin"),
            *("--backend", "ray", "--workers", "2", "--vus", "2", "--duration", "1s"),
        ],
        capture_output=True,
        text=True,
        timeout=110,
        stdin=subprocess.DEVNULL,
    )
    assert res.returncode == 0, res.stderr
    assert "SUMMARY" in res.stdout
    lines = (res.stdout + res.stderr).splitlines()
    ray_lines = [ln for ln in lines if RAY_LOG_LINE.match(ln) or "Ray instance" in ln]
    assert ray_lines == [], ray_lines


def test_backend_ray_without_ray_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        return None if name == "ray" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(ConfigError, match=r"pip install 'webhookload\[distributed\]'"):
        build_config({"backend": "ray"})


def test_ray_address_values() -> None:
    assert build_config({"backend": "ray", "ray_address": "auto"}).ray_address == "auto"
    cfg = build_config({"backend": "ray", "ray_address": "ray://10.0.0.5:10001"})
    assert cfg.ray_address == "ray://10.0.0.5:10001"
    # the head's GCS address, as `ray start --address` takes it
    assert build_config({"backend": "ray", "ray_address": "10.0.0.5:6379"}).ray_address == (
        "10.0.0.5:6379"
    )
    for bad in ("http://x", "10.0.0.5", "10.0.0.5:", ":6379", "10.0.0.5:port", "10.0.0.5:70000"):
        with pytest.raises(ConfigError, match="--ray-address must be auto, the head's HOST:PORT"):
            build_config({"backend": "ray", "ray_address": bad})
    with pytest.raises(ConfigError, match="--ray-address must be used with --backend ray"):
        build_config({"ray_address": "auto"})


def test_a_cluster_it_cannot_join_is_one_line_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ray's own error, after tens of seconds, is a bare ``ConnectionError`` (an
    unreachable head, or a cluster with token authentication): a traceback, exit 1."""

    def refused(**kwargs: Any) -> None:
        assert kwargs["address"] == "10.0.0.5:6379"
        raise ConnectionError("Failed to connect to Ray cluster at 10.0.0.5:6379")

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", refused)
    # the address is never reached: no TCP probe of it (tests stay on 127.0.0.1)
    monkeypatch.setattr(ray_backend, "probe_head", lambda address: None)
    with pytest.raises(RayJoinError) as err, ray_session("10.0.0.5:6379", 2):
        pytest.fail("joined a cluster that refused")
    text = str(err.value)
    assert text.startswith("--ray-address 10.0.0.5:6379: Failed to connect to Ray cluster")
    assert "RAY_AUTH_MODE=token" in text and "\n" not in text
    assert err.value.exit_code == EXIT_FAILED
