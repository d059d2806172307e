"""``--report PATH.html``: one self-contained file to attach to a pull request.

Charts are plotly's (a well-kept library whose plotly.js ships inside the
PyPI package): plotly.js is inlined once, so the file opens offline and
fetches nothing — which costs ~4.8 MB per report, the size of plotly.js. A
Content-Security-Policy in the page forbids every fetch anyway, and any
attempt is written into ``<html data-blocked=...>``, which the tests read.

Input is what a run already produced: the ``--json`` summary document and
the ``--timeline`` rows (:mod:`engine.outputs.timeline`). Sections whose
data is missing (no thresholds, no per-endpoint numbers) are left out.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs

from engine.domain.durations import format_duration, format_latency_ms
from engine.domain.shape import INGEST_SHAPE, Shape
from engine.metrics.stats import ERROR_KINDS
from engine.outputs.provider import doc_lines
from engine.outputs.settings import format_count, format_rate, setting_rows
from engine.outputs.thresholds import format_measured

Row = Mapping[str, Any]
TITLE = "webhookload report"
CHART_IDS = (
    "chart-requests",
    "chart-errors",
    "chart-latency",
    "chart-load",
    "chart-generator",
    "chart-distribution",
    "chart-codes",
)
"""Every chart's element id (the load chart only when the rows have VUs or a rate)."""
_CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:"
)
_WATCH_BLOCKED = (
    "<script>document.addEventListener('securitypolicyviolation', function (e) {"
    " var d = document.documentElement.dataset;"
    " d.blocked = (d.blocked || '') + e.violatedDirective + ' ' + e.blockedURI + '; '; });"
    "</script>"
)
_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1200px;padding:16px 24px;
color:#1f2328}
h1{font-size:22px;margin:8px 0}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd}
.sub{color:#59636e}.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{border:1px solid #d1d9e0;border-radius:6px;padding:8px 14px;min-width:110px}
.card b{display:block;font-size:20px}.card span{color:#59636e;font-size:12px}
table{border-collapse:collapse;margin:6px 0}td,th{border:1px solid #d1d9e0;padding:3px 9px;
text-align:right}th{background:#f6f8fa}td:first-child,th:first-child{text-align:left}
.pass{color:#1a7f37;font-weight:600}.fail{color:#cf222e;font-weight:600}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:8px}.cols{display:flex;gap:32px;
flex-wrap:wrap}
"""


def _esc(v: object) -> str:
    return html.escape("-" if v is None else str(v))


def _saturation(flag: object) -> str:
    """``generator_saturated``: null is a run too short to judge."""
    return "not judged" if flag is None else "SATURATED" if flag else "not saturated"


def _table(head: Sequence[str], rows: Sequence[Sequence[object]], raw: int = -1) -> str:
    """An HTML table; cells are escaped, except column ``raw`` (already HTML)."""
    out = ["<table><tr>", *(f"<th>{_esc(h)}</th>" for h in head), "</tr>"]
    for r in rows:
        cells = (c if i == raw else _esc(c) for i, c in enumerate(r))
        out.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    out.append("</table>")
    return "".join(out)


def _figure(div_id: str, traces: list[go.BaseTraceType], title: str, ytitle: str, **kw: Any) -> str:
    fig = go.Figure(traces)
    fig.update_layout(
        title={"text": title, "font": {"size": 15}},
        template="plotly_white",
        margin={"l": 55, "r": 15, "t": 45, "b": 40},
        legend={"orientation": "h", "y": -0.18},
        yaxis_title=ytitle,
        **kw,
    )
    return str(
        pio.to_html(
            fig,
            include_plotlyjs=False,
            full_html=False,
            div_id=div_id,
            default_height="330px",
            config={"displaylogo": False, "responsive": True},
        )
    )


def _complete(rows: Sequence[Row], duration_s: float | None) -> list[Row]:
    """The rows to chart. A row with ``span_s`` (the seconds its deltas cover)
    is charted as a rate, so the last, partial second is kept; an older file's
    rows have none, and there its last partial count would read as a false dip
    in rates: only whole seconds then."""
    if duration_s is None or all("span_s" in r for r in rows):
        return list(rows)
    return [r for r in rows if r["t"] + 1 <= duration_s + 1e-6]


def _rate(rows: Sequence[Row], key: str) -> list[Any]:
    """``key`` per second: the row's count over the seconds it covers (as is
    when a row says nothing of its span, a whole second)."""
    out = []
    for r in rows:
        v, span = r.get(key), r.get("span_s")
        out.append(round(v / span, 1) if v is not None and span else v)
    return out


def _series(rows: Sequence[Row], key: str) -> list[Any]:
    return [r.get(key) for r in rows]


def _shape(doc: Mapping[str, Any]) -> Shape:
    """The run's scenario names from its JSON (``ingest``'s for a file written
    before scenarios were data, which has no ``shape``)."""
    shape = doc.get("shape")
    return Shape.from_json(shape) if isinstance(shape, Mapping) else INGEST_SHAPE


def _time_charts(rows: Sequence[Row], endpoints: Sequence[str]) -> list[str]:
    t = _series(rows, "t")
    line = {"mode": "lines"}
    charts = [
        _figure(
            "chart-requests",
            [go.Scatter(x=t, y=_rate(rows, e), name=e, stackgroup="req") for e in endpoints],
            "Requests/s by endpoint",
            "requests/s",
            xaxis_title="seconds since start",
        ),
        _figure(
            "chart-errors",
            [go.Bar(x=t, y=_rate(rows, f"errors_{k}"), name=k) for k in ERROR_KINDS],
            "Errors/s by kind",
            "errors/s",
            barmode="stack",
            xaxis_title="seconds since start",
        ),
        _figure(
            "chart-latency",
            [
                go.Scatter(x=t, y=_series(rows, f"{q}_ms"), name=q, **line)
                for q in ("p50", "p95", "p99")
            ],
            "Latency per second",
            "ms",
            xaxis_title="seconds since start",
        ),
    ]
    load = [
        go.Scatter(x=t, y=_series(rows, key), name=label, **line)
        for key, label in (("vus", "VUs"), ("arrival_rate", "arrivals/s"))
        if any(v is not None for v in _series(rows, key))
    ]
    if load:
        charts.append(_figure("chart-load", load, "VUs / arrival rate", "", xaxis_title="seconds"))
    charts.append(
        _figure(
            "chart-generator",
            [
                go.Scatter(x=t, y=_series(rows, "cpu_pct"), name="CPU % of a core", **line),
                go.Scatter(
                    x=t, y=_series(rows, "loop_lag_p99_ms"), name="loop lag p99 (ms)", **line
                ),
            ],
            "Generator health",
            "",
            xaxis_title="seconds since start",
        )
    )
    return charts


def _distribution_chart(doc: Mapping[str, Any]) -> str:
    dist = doc.get("latency_distribution")
    if dist:
        labels = [f"≤ {b['le_ms']:g} ms" if b["le_ms"] is not None else "more" for b in dist]
        trace = go.Bar(x=labels, y=[b["count"] for b in dist], name="responses")
        return _figure("chart-distribution", [trace], "Latency distribution", "responses")
    lat = doc.get("latency_ms") or {}
    keys = [k for k in ("p50", "p90", "p95", "p99", "max") if lat.get(k) is not None]
    trace = go.Bar(x=keys, y=[lat[k] for k in keys], name="latency")
    return _figure("chart-distribution", [trace], "Latency percentiles", "ms")


def _codes_chart(doc: Mapping[str, Any]) -> str:
    codes = doc.get("status_codes") or {}
    colors = ["#2da44e" if int(c) < 300 else "#cf222e" for c in codes]
    trace = go.Bar(x=list(codes), y=list(codes.values()), marker_color=colors, name="responses")
    return _figure("chart-codes", [trace], "Status codes", "responses", xaxis_type="category")


def _headline(doc: Mapping[str, Any]) -> str:
    req = doc.get("requests") or {}
    lat = doc.get("latency_ms") or {}
    total = req.get("total", 0)
    err_pct = 100 * req.get("errors", 0) / total if total else 0.0
    cards = [
        ("requests", format_count(total)),  # as the summary's, and its rate
        ("requests/s", format_rate(req.get("per_second", 0))),
        ("errors", f"{format_count(req.get('errors', 0))} ({err_pct:.2f}%)"),
        ("p50", format_latency_ms(lat.get("p50"))),
        ("p95", format_latency_ms(lat.get("p95"))),
        ("p99", format_latency_ms(lat.get("p99"))),
        ("max", format_latency_ms(lat.get("max"))),
    ]
    acc = doc.get("latency_accepted_ms")
    if acc and req.get("errors") and acc != lat:  # errors were timed: accepted ones apart
        cards += [
            ("accepted p95", format_latency_ms(acc.get("p95"))),
            ("accepted p99", format_latency_ms(acc.get("p99"))),
        ]
    vis = doc.get("visibility_ms")
    if vis:  # --visibility: from an accepted webhook until the read API showed it
        cards += [
            ("visible after p50", format_latency_ms(vis.get("p50"))),
            ("p95", format_latency_ms(vis.get("p95"))),
        ]
    cards += [
        ("duration", format_duration(doc.get("duration_s", 0))),
        ("generator", _saturation(doc.get("generator_saturated"))),
    ]
    body = "".join(
        f"<div class=card><span>{_esc(k)}</span><b>{_esc(v)}</b></div>" for k, v in cards
    )
    return f"<div class=cards>{body}</div>"


def _provider(doc: Mapping[str, Any]) -> str:
    """Issue 22: the answers the provider would have given up on, in words."""
    lines = doc_lines(dict(doc))
    p = doc.get("provider") or {}
    if not lines:
        return ""
    source = f"<div class=sub>{_esc(p.get('policy'))} policy: {_esc(p.get('source'))}</div>"
    return "<h2>As the provider sees it</h2>" + "".join(f"<p>{_esc(x)}</p>" for x in lines) + source


def _thresholds(doc: Mapping[str, Any]) -> str:
    items = doc.get("thresholds")
    if not items:
        return ""
    rows = []
    for t in items:
        ok = bool(t.get("passed"))
        verdict = f"<span class={'pass' if ok else 'fail'}>{'pass' if ok else 'FAIL'}</span>"
        measured = format_measured(t.get("measured"), str(t.get("unit")))
        rows.append((t.get("threshold"), measured, verdict))
    return "<h2>Thresholds</h2>" + _table(("threshold", "measured", "verdict"), rows, raw=2)


def _endpoints(doc: Mapping[str, Any]) -> str:
    eps = doc.get("endpoints")
    if not eps:
        return ""
    # an endpoint with another name users type: "disputes (chargebacks)"
    typed = {name: alias for alias, name in _shape(doc).aliases.items()}
    rows = []
    for name, e in eps.items():
        lat = e.get("latency_ms") or {}
        rows.append(
            (
                f"{name} ({typed[name]})" if name in typed else name,
                format_count(e.get("requests")),
                format_rate(e.get("per_second", 0)),  # as the summary's endpoint table
                format_count(e.get("errors")),
                *(format_latency_ms(lat.get(q)) for q in ("p50", "p95", "p99", "max")),
            )
        )
    head = ("endpoint", "requests", "per second", "errors", "p50", "p95", "p99", "max")
    return "<h2>Endpoints</h2>" + _table(head, rows)


def _counts(items: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [(k, format_count(n)) for k, n in items.items()]


def _details(doc: Mapping[str, Any]) -> str:
    sc = doc.get("scenarios") or {}
    kinds = doc.get("errors_by_kind") or {}
    codes = doc.get("status_codes") or {}
    return (
        "<div class=cols><div><h2>Scenario outcomes</h2>"
        + _table(("outcome", "count"), _counts(sc))
        + "</div><div><h2>Errors by kind</h2>"
        + _table(("kind", "count"), _counts(kinds))
        + "</div><div><h2>Status codes</h2>"
        + _table(("code", "responses"), _counts(codes))
        + "</div></div>"
    )


def render(
    doc: Mapping[str, Any], rows: Sequence[Row], *, title: str = "webhookload report"
) -> str:
    """The whole page as a string (see :func:`write_report`)."""
    config = doc.get("config") or {}
    series = _complete(rows, doc.get("duration_s"))
    endpoints = _shape(doc).endpoints
    charts = [*_time_charts(series, endpoints), _distribution_chart(doc), _codes_chart(doc)]
    when = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    stopped = " — stopped early" if doc.get("stopped_early") else ""
    return "".join(
        [
            "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>",
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
            f"<title>{_esc(title)}</title><style>{_STYLE}</style>{_WATCH_BLOCKED}",
            f"<script>{get_plotlyjs()}</script></head><body>",
            f"<h1>{_esc(title)}</h1><div class=sub>target {_esc(doc.get('target_url'))}",
            f" · report written {_esc(when)}{_esc(stopped)}</div>",
            "<h2>Results</h2>",
            _headline(doc),
            _provider(doc),
            _thresholds(doc),
            _endpoints(doc),
            "<h2>Over time</h2><div class=grid>",
            *(f"<div>{c}</div>" for c in charts),
            "</div>",
            _details(doc),
            "<h2>Settings</h2>",
            _table(("setting", "value"), list(setting_rows(config, doc.get("target_url", "")))),
            "</body></html>",
        ]
    )


def write_report(
    path: str | Path, summary_doc: Mapping[str, Any], timeline_rows: Sequence[Row]
) -> Path:
    """Write the report; returns its path. ``timeline_rows`` may be empty (then
    the charts over time are empty, the rest is there)."""
    p = Path(path)
    p.write_text(render(summary_doc, timeline_rows), encoding="utf-8")
    return p
