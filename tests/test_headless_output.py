"""What ``--no-ui`` says while and after it runs: progress in CI logs, the
verify phase, the seed, the banner of an unbounded run, and refusals."""

from __future__ import annotations

import io
import json
import re
import signal
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

import pytest

from engine.config import ConfigError, build_config
from engine.domain.shape import INGEST_SHAPE
from engine.metrics.stats import ENDPOINTS, Snapshot, Stats
from engine.outputs.summary import result_json
from engine.run.runner import Phase, Runner
from tests.helpers import free_port, read_through, target_process
from tui.headless import ProgressLine

ORDER_EP = INGEST_SHAPE.endpoint_index("orders")  # by the scenario's endpoint name

CMD = [sys.executable, "-m", "tui.cli"]


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CMD, *args], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )


def test_without_a_terminal_progress_is_a_plain_line_every_few_seconds() -> None:
    """CI logs got nothing until the summary; now a line every 5 s of the run."""
    out = io.StringIO()
    progress = ProgressLine(out, 30.0, False)  # not a terminal
    for i in range(44):  # 11 s of deltas, 100 requests/s, 1 error/s
        progress.on_snapshot(
            Snapshot(
                start=i * 0.25,
                end=(i + 1) * 0.25,
                requests=(25, 0, 0),
                endpoint_names=ENDPOINTS,
                success=24,
                errors=1,
            )
        )
    lines = out.getvalue().splitlines()
    assert [line.split("]")[0] for line in lines] == ["[5s/30s", "[10s/30s"]
    assert lines[0] == "[5s/30s]  requests 500  100.0/s  errors 20 (4.00%)"
    assert "\r" not in out.getvalue() and "\x1b" not in out.getvalue()


def test_the_verify_phase_is_announced() -> None:
    """After the load, --verify can wait seconds: the line said nothing meanwhile."""
    with target_process("--mode", "queue", "--lag", "20ms") as url:
        res = run(
            "--no-ui",
            *("--target", url, "--duration", "700ms", "--vus", "2"),
            *("--verify", "5", "--verify-wait", "2s"),
        )
    assert res.returncode == 0, res.stderr
    assert "verifying 5 orders… (up to 2s)\n" in res.stderr
    # on a terminal it replaces the frozen progress line
    term = io.StringIO()
    ProgressLine(term, 3.0, True).on_phase(Phase("verifying", 5, 2.0))
    assert term.getvalue() == "\r\x1b[Kverifying 5 orders… (up to 2s)"
    # another scenario's check names its own flows (the runner says which)
    term = io.StringIO()
    ProgressLine(term, 3.0, True).on_phase(Phase("verifying", 4, 0.0, what="payments"))
    assert term.getvalue() == "\r\x1b[Kverifying 4 payments…"


def test_a_run_without_seed_draws_one_and_records_it() -> None:
    cfg = build_config({"target": "http://127.0.0.1:1"})
    assert cfg.seed is None
    seeds = {Runner(cfg).config.seed for _ in range(5)}
    assert None not in seeds and len(seeds) > 1
    assert Runner(build_config({"seed": "42"})).config.seed == 42


def test_an_unbounded_run_reads_well_records_its_seed_and_when_it_stopped(
    tmp_path: Path,
) -> None:
    out = tmp_path / "s.json"
    with target_process() as url:
        proc = subprocess.Popen(
            [*CMD, "--no-ui", *("--target", url, "--duration", "0"), "--json", str(out)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        try:
            head = read_through(proc, "Seed: ")  # the banner's last line: the load starts
            time.sleep(0.5)  # the run is under way (not a timing assertion)
            proc.send_signal(signal.SIGINT)
            stdout, err = proc.communicate(timeout=30)
            stdout = head + stdout
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == 130, err
    banner = stdout.splitlines()[:4]
    assert banner[0] == "Starting load test: 10 VUs, until Ctrl+C"
    m = re.fullmatch(r"Seed: (\d+) \(--seed \1 repeats this run's choices\)", banner[2])
    assert m, banner
    assert re.search(r"^Stopped at [\d.ms]+ \(no duration limit\)$", stdout, re.M), stdout
    doc = json.loads(out.read_text())
    assert doc["config"]["seed"] == int(m[1])
    assert doc["stopped_early"] is True and doc["stopped_at_s"] > 0


@pytest.mark.anyio
async def test_the_json_records_the_seed_it_used() -> None:
    with target_process() as url:
        runner = Runner(build_config({"target": url, "duration": "300ms"}))
        result = await runner.run()
    assert isinstance(runner.config.seed, int)
    assert result.config.seed == runner.config.seed
    assert result_json(result)["config"]["seed"] == runner.config.seed


def test_target_mode_with_a_service_of_your_own_is_refused() -> None:
    """It set the builtin target's mode and was silently ignored otherwise."""
    res = run("--no-ui", "--target", f"http://127.0.0.1:{free_port()}", "--target-mode", "queue")
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert "--target-mode must be used with --target builtin" in lines[0]
    assert res.stdout == ""
    assert build_config({"target": "builtin", "target_mode": "queue"}).target_mode == "queue"
    with pytest.raises(ConfigError):
        build_config({"target_mode": "queue"})  # the default target is not builtin


def test_version() -> None:
    res = run("--version")
    assert res.returncode == 0
    assert res.stdout.strip() == f"webhookload-tui {version('webhookload')}"


def test_a_later_shards_last_delta_does_not_hide_verifying() -> None:
    """With --workers, one shard may say it verifies before another's last delta
    arrives: the live line went back to the frozen progress for the whole wait."""
    term = io.StringIO()
    line = ProgressLine(term, 3.0, True)
    first = Stats()
    first.record_response(ORDER_EP, 202, 1000)
    line.on_snapshot(first.take(3.0))
    line.on_phase(Phase("verifying", 5, 2.0))
    late = Stats()
    late.record_response(ORDER_EP, 202, 1000)
    line.on_snapshot(late.take(3.0))
    assert term.getvalue().endswith("\r\x1b[Kverifying 5 orders… (up to 2s)")
    assert line.window.last(10.0).total == 2  # the delta still counts
