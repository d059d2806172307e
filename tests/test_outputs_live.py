"""--metrics-addr scraped during and after a real --no-ui run, --report made by the
command and opened in Chromium, and both from the TUI (the `h` key, a scrape)."""

from __future__ import annotations

import json
import os
import pty
import signal
import socket
import subprocess
import sys
import time
import urllib.error
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import pytest

from engine.metrics.stats import ENDPOINTS, ERROR_KINDS
from engine.outputs.extras import MetricsEndpoint, OutputOptions
from engine.outputs.html_report import CHART_IDS
from tests.helpers import free_port
from tests.test_html_report import _chart, chromium
from tests.test_prometheus import Samples, scrape, value
from tests.test_tui_keys import CONFIG, SCRIPTED_TOTAL, SIZE, scripted, wait_for
from tui.app import WebhookLoadApp
from tui.results import SessionOutputs

CMD = [sys.executable, "-m", "tui.cli"]


def _scrape_or_none(url: str) -> Samples | None:
    try:
        return scrape(url)
    except (urllib.error.URLError, ConnectionError):
        return None  # not listening yet


def served_requests(samples: Samples) -> float:
    return sum(v for (n, _), v in samples.items() if n == "webhookload_requests_total")


def test_a_scrape_during_a_no_ui_run_and_after_its_last_delta_match_the_json(
    tmp_path: Path,
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/metrics"
    summary = tmp_path / "summary.json"
    args = ["--no-ui", "--target", "builtin", "--vus", "3", "--duration", "3s"]
    args += ["--read-ratio", "0.3", "--json", str(summary)]
    args += ["--metrics-addr", f"127.0.0.1:{port}", "--metrics-linger", "60s"]
    with (tmp_path / "stderr.txt").open("w") as err:
        proc = subprocess.Popen(
            [*CMD, *args], stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL
        )
        try:
            mid: list[Samples] = []
            deadline = time.monotonic() + 60  # a bound on the wait, not a timing assertion
            while not summary.exists() and time.monotonic() < deadline:
                got = _scrape_or_none(url)
                if got is not None and served_requests(got) > 0 and not summary.exists():
                    mid.append(got)
                time.sleep(0.1)
            assert summary.exists(), (tmp_path / "stderr.txt").read_text()
            end = scrape(url)  # the run is over: every delta is in
            proc.send_signal(signal.SIGINT)  # ends the linger
            assert proc.wait(timeout=30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    doc: dict[str, Any] = json.loads(summary.read_text())
    assert mid, "no scrape landed during the run"
    assert 0 < served_requests(mid[-1]) <= doc["requests"]["total"]
    assert served_requests(end) == doc["requests"]["total"]
    assert value(end, "webhookload_run_elapsed_seconds") == pytest.approx(
        doc["duration_s"], abs=1e-3
    )
    assert value(end, "webhookload_vus") == 3
    for name in ENDPOINTS:
        ep = doc["endpoints"][name]
        for code, n in ep["status_codes"].items():
            key = ("webhookload_requests_total", (("code", code), ("endpoint", name)))
            assert end[key] == n
            assert mid[-1].get(key, 0) <= n
        for kind in ERROR_KINDS:
            errors = value(end, "webhookload_errors_total", endpoint=name, kind=kind)
            assert errors == ep["errors_by_kind"][kind]
        count = value(end, "webhookload_request_duration_seconds_count", endpoint=name)
        assert count == sum(ep["status_codes"].values())
    for outcome, n in doc["scenarios"].items():
        assert value(end, "webhookload_scenarios_total", outcome=outcome) == n
    assert doc["requests"]["reads"] > 0


@pytest.mark.parametrize("mode", [["--no-ui"], []], ids=["no-ui", "tui"])
def test_a_port_in_use_exits_2_before_any_load(mode: list[str]) -> None:
    """The TUI binds it before its screen opens, so it fails as --no-ui does.
    Both run on a terminal (a pty): the TUI refuses a pipe before anything."""
    master, terminal = pty.openpty()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        try:
            res = subprocess.run(
                [*CMD, *mode, "--target", "builtin", "--metrics-addr", f"127.0.0.1:{port}"],
                stdin=terminal,
                stdout=terminal,
                stderr=subprocess.PIPE,
                text=True,
                timeout=60,
            )
        finally:
            os.close(terminal)
    shown = b""
    try:
        while chunk := os.read(master, 65536):  # what reached the terminal
            shown += chunk
    except OSError:  # EIO: the terminal's other end is closed and drained
        pass
    finally:
        os.close(master)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "--metrics-addr must be an address" in lines[0], res.stderr
    assert shown == b""  # no screen was opened, nothing printed


def test_the_command_made_report_renders_its_charts_in_chromium(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    args = ["--no-ui", "--target", "builtin", "--vus", "3", "--duration", "2500ms"]
    res = subprocess.run(
        [*CMD, *args, "--report", str(page), "--threshold", "p99<5s"],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert res.returncode == 0, res.stderr
    assert f"Report written to {page}" in res.stderr
    html = page.read_text()
    assert "<h2>Thresholds</h2>" in html and "p99&lt;5s" in html
    dom, hosts = chromium(page, tmp_path, "--dump-dom")
    assert hosts == set()
    for chart_id in CHART_IDS:  # the VUs chart too: the rows carry --vus
        chart = _chart(dom, chart_id)
        assert 'class="main-svg"' in chart, chart_id
        assert "trace scatter" in chart or "trace bars" in chart, chart_id


def done(page: Path) -> bool:
    return page.read_text().endswith("</html>")


@pytest.mark.anyio
async def test_h_saves_the_report_and_the_tui_serves_metrics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    metrics = MetricsEndpoint("127.0.0.1:0", CONFIG)
    session = SessionOutputs(OutputOptions(metrics_addr="127.0.0.1:0"), metrics)
    app = WebhookLoadApp(
        CONFIG, autostart=True, runner_factory=scripted(finish=True), outputs=session
    )
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.state == "finished")
            served = await anyio.to_thread.run_sync(scrape, metrics.url)
            await pilot.press("h")
            folder = tmp_path / "webhookload-results"
            await wait_for(pilot, lambda: any(done(f) for f in folder.glob("webhookload-*.html")))
    finally:
        session.close()
    assert served_requests(served) == SCRIPTED_TOTAL
    (report,) = folder.glob("webhookload-*.html")
    page = report.read_text()
    assert f"<b>{SCRIPTED_TOTAL}</b>" in page and 'id="chart-latency"' in page
