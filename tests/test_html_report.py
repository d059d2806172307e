"""--report: the HTML file renders its charts in real headless Chromium and fetches nothing.

Chromium runs with every request routed to a loopback proxy that only
records (and answers 404), so nothing leaves the machine and we see what
was asked for. Chromium's own background services (component updates,
sign-in) still call out; those hosts are told apart from the page's.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import socketserver
import struct
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from engine.config import RunConfig
from engine.domain.outcomes import LEGACY_KEYS
from engine.domain.shape import INGEST_SHAPE
from engine.metrics.stats import Snapshot, Stats
from engine.outputs.docparts import endpoints_json, latency_distribution_json
from engine.outputs.html_report import CHART_IDS, render, write_report
from engine.outputs.summary import summary_json
from engine.outputs.thresholds import evaluate, parse_thresholds, thresholds_json
from engine.outputs.timeline import Timeline

# endpoint ids by the ingest scenario's own endpoint names (engine/domain/shape.py)
ORDER_EP, DISPUTE_EP, READ_EP = map(INGEST_SHAPE.endpoint_index, ("orders", "disputes", "reads"))

BROWSER_OWN_HOSTS = re.compile(
    r"^(update\.googleapis\.com|accounts\.google\.com|clients\d*\.google\.com|[\w.-]+\.gvt1\.com)$"
)
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,Translate,MediaRouter",
    "--disable-domain-reliability",
    "--no-pings",
    "--disable-breakpad",
    "--proxy-bypass-list=<-loopback>",  # even loopback goes through the recording proxy
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--virtual-time-budget=5000",
)


def run_doc(with_extras: bool = True) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A 12 s run's summary document and timeline rows (VUs 10, a slow patch at 4-6 s)."""
    rng = random.Random(1)
    st = Stats()
    tl = Timeline(vus=lambda: 10)
    rows: list[dict[str, Any]] = []
    total = Snapshot()
    for i in range(48):
        for _ in range(100):
            ep = rng.choice((ORDER_EP, ORDER_EP, DISPUTE_EP, READ_EP))
            if rng.random() < 0.01:
                st.record_error(ep, "timeout")
                continue
            slow = 3 if 16 <= i < 24 else 1
            lat = int(rng.lognormvariate(8.5 + (0.8 if ep == DISPUTE_EP else 0), 0.6) * slow)
            st.record_response(ep, rng.choice((202, 202, 202, 409, 503)), lat)
        st.scenario(LEGACY_KEYS["orders_started"])
        st.record_lag(rng.randint(100, 3000))
        d = st.take((i + 1) * 0.25, cpu_s=0.2)
        total = total + d
        rows += tl.add(d)
    rows += tl.finish()
    cfg = RunConfig(target="http://127.0.0.1:9/<b>", vus=10).as_dict()
    doc = summary_json(total, total.end, cfg, target_url="http://127.0.0.1:9")
    if with_extras:
        doc["endpoints"] = endpoints_json(total, total.end)
        doc["latency_distribution"] = latency_distribution_json(total)
        checks = parse_thresholds(["p99<500ms", "errors<1%", "p95{endpoint=chargebacks}<20ms"])
        doc["thresholds"] = thresholds_json(evaluate(checks, total))
    return doc, rows


class _RecordingProxy(socketserver.ThreadingTCPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Recorder)
        self.seen: list[str] = []


class _Recorder(socketserver.StreamRequestHandler):
    server: _RecordingProxy

    def handle(self) -> None:
        line = self.rfile.readline().decode(errors="replace").split()
        self.server.seen.append(line[1] if len(line) > 1 else "")
        self.wfile.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")


@contextmanager
def recording_proxy() -> Iterator[tuple[int, list[str]]]:
    """A loopback HTTP proxy that records each request's target and answers 404."""
    server = _RecordingProxy()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], server.seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def page_hosts(seen: list[str]) -> set[str]:
    """Hosts asked for, less Chromium's own services (``host:443`` or ``http://host/...``)."""
    hosts = {re.sub(r"^https?://", "", s).split("/")[0].split(":")[0] for s in seen}
    return {h for h in hosts if not BROWSER_OWN_HOSTS.match(h)}


def chromium(page: Path, tmp: Path, *mode: str) -> tuple[str, set[str]]:
    """Open ``page`` in headless Chromium with ``mode`` (--dump-dom or --screenshot=...);
    returns stdout and the hosts the page asked for."""
    exe = shutil.which("chromium")
    assert exe, "chromium is missing: `make install` installs it (Debian package chromium)"
    with recording_proxy() as (port, seen):
        proc = subprocess.run(
            [
                exe,
                *FLAGS,
                f"--proxy-server=http://127.0.0.1:{port}",
                f"--user-data-dir={tmp / 'profile'}",
                *mode,
                page.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=100,
            cwd=tmp,
        )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout, page_hosts(seen)


def _chart(dom: str, chart_id: str) -> str:
    """The DOM of one chart: from its element to the next chart's."""
    start = dom.index(f'id="{chart_id}"')
    end = dom.find('id="chart-', start + 1)
    return dom[start : end if end > 0 else len(dom)]


def test_the_report_renders_every_chart_in_chromium_without_network(tmp_path: Path) -> None:
    doc, rows = run_doc()
    page = write_report(tmp_path / "report.html", doc, rows)
    dom, hosts = chromium(page, tmp_path, "--dump-dom")
    assert hosts == set()
    assert "data-blocked" not in dom[:2000]  # the page attempted no fetch (CSP watcher)
    for chart_id in CHART_IDS:
        chart = _chart(dom, chart_id)
        assert 'class="main-svg"' in chart, chart_id  # plotly drew it
        assert re.search(r'class="trace (scatter|bars)', chart), chart_id  # with data
    assert len(re.findall(r'class="trace scatter', _chart(dom, "chart-latency"))) == 3
    assert len(re.findall(r'class="trace scatter', _chart(dom, "chart-requests"))) == 3
    shot = tmp_path / "report.png"
    chromium(page, tmp_path, f"--screenshot={shot}", "--window-size=1280,2000")
    head = shot.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", head[16:24]) == (1280, 2000)


def test_the_offline_checks_catch_a_page_that_fetches(tmp_path: Path) -> None:
    """Both detectors can fail: the CSP watcher sees a fetch the policy blocked, and
    the proxy sees one from a page without the policy."""
    doc, rows = run_doc(with_extras=False)
    html = render(doc, rows).replace("<body>", '<body><img src="http://example.invalid/a.png">')
    tampered = tmp_path / "tampered.html"
    tampered.write_text(html)
    dom, hosts = chromium(tampered, tmp_path, "--dump-dom")
    blocked = re.search(r'data-blocked="([^"]*)"', dom[:3000])
    assert blocked and "http://example.invalid/a.png" in blocked[1]
    assert hosts == set()  # blocked before it reached the network
    bare = tmp_path / "bare.html"
    bare.write_text('<html><body><img src="http://example.invalid/a.png"></body></html>')
    _, hosts = chromium(bare, tmp_path, "--dump-dom")
    assert hosts == {"example.invalid"}


def test_the_report_shows_the_documents_numbers(tmp_path: Path) -> None:
    doc, rows = run_doc()
    html = (write_report(tmp_path / "r.html", doc, rows)).read_text()
    page = html.split("</script></head>", 1)[1]  # the page without plotly.js
    assert "<script src" not in html.split("<body>")[0].replace("<script>", "")
    assert "<link" not in page and 'src="http' not in page
    for text in (
        "p99&lt;500ms",
        "p95{endpoint=chargebacks}&lt;20ms",
        "disputes (chargebacks)",
        f"<b>{doc['requests']['total']}</b>",  # as the summary prints a count
        "orders_started",
        "http://127.0.0.1:9/&lt;b&gt;",  # settings are escaped
    ):
        assert text in page, text
    verdicts = re.findall(r"<span class=(pass|fail)>", page)
    assert verdicts == ["pass" if t["passed"] else "fail" for t in doc["thresholds"]]
    assert "fail" in verdicts  # the chargebacks p95 gate fails on this data
    for code in doc["status_codes"]:
        assert f"<td>{code}</td>" in page


def test_missing_sections_are_left_out(tmp_path: Path) -> None:
    doc, _ = run_doc(with_extras=False)
    html = write_report(tmp_path / "r.html", doc, []).read_text()
    page = html.split("</script></head>", 1)[1]
    assert "<h2>Thresholds</h2>" not in page and "<h2>Endpoints</h2>" not in page
    assert "Latency percentiles" in page  # no distribution in the doc: percentiles instead
    assert 'id="chart-load"' not in page  # no VUs or rate in the (empty) timeline


def _requests_trace(page: str) -> dict[str, Any]:
    """The first trace (orders) of the requests chart, as plotly embedded it."""
    start = page.index('Plotly.newPlot(                        "chart-requests"')
    data = page[page.index("[", start) : page.index("}],", start) + 2]
    trace: dict[str, Any] = json.loads(data)[0]
    return trace


def test_the_last_partial_second_is_charted_as_a_rate() -> None:
    """A 3.009 s run charts t=3 too (it ended at t=2 without its last 9 ms and
    the delta before them), at the rate of the seconds that row covers."""
    st = Stats()
    tl = Timeline(vus=lambda: 10)
    rows: list[dict[str, Any]] = []
    total = Snapshot()
    ends = [0.25 * (i + 1) for i in range(12)] + [3.009]
    for end in ends:
        for _ in range(100 if end <= 3 else 4):  # 400/s throughout
            st.record_response(ORDER_EP, 202, 1000)
        d = st.take(end, cpu_s=0.1)
        total = total + d
        rows += tl.add(d)
    rows += tl.finish()
    assert [r["t"] for r in rows] == [0, 1, 2, 3]
    assert rows[-1]["span_s"] == pytest.approx(0.009, abs=1e-6)  # the deltas ending in [3, 4)
    doc = summary_json(total, total.end, RunConfig().as_dict(), target_url="http://x")
    trace = _requests_trace(render(doc, rows))
    assert trace["x"] == [0, 1, 2, 3]
    assert trace["y"][:3] == [400.0, 400.0, 400.0]  # 4 deltas of 100 in each second
    assert trace["y"][3] == pytest.approx(4 / 0.009, abs=0.1)


def test_counts_and_rates_read_as_the_summarys(tmp_path: Path) -> None:
    """One form per kind of number: ``4243`` (no separators) beside ``1410.0``,
    in the headline, the tables and the summary alike."""
    doc, _ = run_doc()
    page = render(doc, []).split("</script></head>", 1)[1]
    text = re.sub(r"<script.*?</script>", "", page, flags=re.S)
    total, errors = doc["requests"]["total"], doc["requests"]["errors"]
    assert total >= 1000 and errors < total  # a count a separator would split
    assert f"<b>{total}</b>" in text
    assert f"<b>{doc['requests']['per_second']:.1f}</b>" in text
    assert f"<b>{errors} (" in text
    assert not re.search(r"\d,\d{3}", text), re.findall(r".{40}\d,\d{3}.{20}", text)
