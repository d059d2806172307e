"""One formatting for every output: the text summary, the ``--json`` document
and the HTML report (which reads the JSON) show the same digits for a run,
and the report's Settings read as settings, not Python reprs."""

from __future__ import annotations

import random
import re

import pytest

from engine.config import RunConfig
from engine.domain.durations import format_latency, format_latency_ms, latency_ms
from engine.domain.shape import INGEST_SHAPE
from engine.metrics.stats import Snapshot, Stats
from engine.outputs.docparts import endpoint_lines, endpoints_json
from engine.outputs.html_report import render
from engine.outputs.summary import summary_json, summary_lines
from engine.outputs.thresholds import evaluate, parse_thresholds, thresholds_json

# endpoint ids by the ingest scenario's own endpoint names (engine/domain/shape.py)
ORDER_EP, DISPUTE_EP, READ_EP = map(INGEST_SHAPE.endpoint_index, ("orders", "disputes", "reads"))


def a_run(seed: int) -> Snapshot:
    rng = random.Random(seed)
    st = Stats()
    scale = rng.uniform(200, 400_000)
    for _ in range(300):
        ep = rng.choice((ORDER_EP, DISPUTE_EP, READ_EP))
        st.record_response(ep, 202, max(1, int(rng.lognormvariate(0, 0.7) * scale)))
    return st.take(10.0)


@pytest.mark.parametrize("seconds", [0.0043349, 0.0043351, 0.00999949, 0.0999951, 0.9999, 1.2345])
def test_a_latency_reads_the_same_through_the_json(seconds: float) -> None:
    assert format_latency_ms(latency_ms(seconds)) == format_latency(seconds)


def test_every_latency_reads_the_same_through_the_json() -> None:
    rng = random.Random(3)
    for _ in range(20_000):
        s = 10 ** rng.uniform(-5, 1.5)
        assert format_latency_ms(latency_ms(s)) == format_latency(s), s


def test_the_report_shows_the_summarys_latencies_and_rates() -> None:
    """The issue's run: the summary said p99=4.33ms, the report 4.34."""
    page = ""
    for seed in range(12):
        total = a_run(seed)
        doc = summary_json(total, 10.0, RunConfig().as_dict(), target_url="http://t:1")
        doc["endpoints"] = endpoints_json(total, 10.0)
        page = render(doc, []).split("</script></head>", 1)[1]
        latency = next(ln for ln in summary_lines(total, 10.0) if ln.startswith("Latency:"))
        for q, text in re.findall(r"(p\d\d)=(\S+)", latency):
            assert f"<span>{q}</span><b>{text}</b>" in page, (seed, q, text)
        rate = re.search(r"\((\S+)/s\)", summary_lines(total, 10.0)[2])
        assert rate and f"<b>{rate[1]}</b>" in page
        for line in endpoint_lines(total, 10.0)[1:]:
            name, _, per_s, _, *lat = line.split()
            cells = re.search(rf"<tr><td>{name}[^<]*</td>(.*?)</tr>", page)
            assert cells, name
            row = re.findall(r"<td>([^<]*)</td>", cells[1])
            assert row[1] == per_s and row[3:6] == lat, (seed, name, row, line)
    assert "<span>duration</span><b>10s</b>" in page  # as the summary's Duration line


def test_thresholds_read_as_in_the_summary() -> None:
    total = a_run(1)
    results = evaluate(parse_thresholds(["p99<1ms", "p95<10s", "errors<1%"]), total)
    doc = summary_json(total, 10.0, RunConfig().as_dict())
    doc["thresholds"] = thresholds_json(results)
    page = render(doc, []).split("</script></head>", 1)[1]
    for r in results:
        assert f"<td>{r.measured_text()}</td>" in page, r.describe()


def test_the_settings_read_as_settings_and_builtin_names_its_url() -> None:
    cfg = RunConfig(
        target="builtin", seed=None, thresholds=("p99<1s", "errors<1%"), http2=False
    ).as_dict()
    doc = summary_json(Snapshot(), 10.0, cfg, target_url="http://127.0.0.1:4321")
    page = render(doc, []).split("<h2>Settings</h2>", 1)[1]
    cells = dict(re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td></tr>", page))
    assert cells["target"] == "http://127.0.0.1:4321 (builtin reference target)"
    assert cells["thresholds"] == "p99&lt;1s, errors&lt;1%"
    assert cells["seed"] == "-" and cells["read_api"] == "-" and cells["headers"] == "-"
    assert cells["http2"] == "off" and cells["dispute_ratio"] == "0.3"
    for value in cells.values():
        assert value not in ("None", "True", "False", "()", "[]", "")
        assert not value.startswith(("(", "[", "'")), value
