"""compare BASE.json NEW.json: the table, the regression verdict and exit codes;
and the summary parts it reads (per-endpoint numbers, latency distribution)."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path
from typing import Any

import pytest

from engine.config import RunConfig
from engine.domain.shape import INGEST_SHAPE
from engine.metrics.stats import Snapshot, Stats
from engine.outputs.compare import (
    EXIT_OK,
    EXIT_REGRESSION,
    EXIT_USAGE,
    compare,
    main,
)
from engine.outputs.docparts import endpoint_lines, endpoints_json, latency_distribution_json
from engine.outputs.summary import summary_json

# endpoint ids by the ingest scenario's own endpoint names (engine/domain/shape.py)
ORDER_EP, DISPUTE_EP, READ_EP = map(INGEST_SHAPE.endpoint_index, ("orders", "disputes", "reads"))


def make_total(
    *, latency: float = 1.0, dispute_latency: float = 1.0, errors: int = 0, n: int = 2000
) -> Snapshot:
    """A 10 s run: ``n`` responses, latencies scaled, ``errors`` extra order 503s."""
    rng = random.Random(7)
    st = Stats()
    for _ in range(n):
        ep = rng.choice((ORDER_EP, ORDER_EP, DISPUTE_EP, READ_EP))
        scale = latency * (dispute_latency if ep == DISPUTE_EP else 1.0)
        st.record_response(ep, 202, int(rng.randint(2_000, 20_000) * scale))
    for _ in range(errors):
        st.record_response(ORDER_EP, 503, 1000)
    return st.take(10.0)


def make_doc(total: Snapshot, **config: Any) -> dict[str, Any]:
    doc = summary_json(total, total.end, RunConfig(**config).as_dict())
    doc["endpoints"] = endpoints_json(total, total.end)
    return doc


def run_main(tmp_path: Path, base: Any, new: Any, *flags: str) -> tuple[int, str]:
    (tmp_path / "base.json").write_text(json.dumps(base))
    (tmp_path / "new.json").write_text(json.dumps(new))
    out = io.StringIO()
    code = main([str(tmp_path / "base.json"), str(tmp_path / "new.json"), *flags], out=out)
    return code, out.getvalue()


def test_an_equal_run_passes_and_the_table_is_side_by_side(tmp_path: Path) -> None:
    doc = make_doc(make_total())
    code, out = run_main(tmp_path, doc, doc, "--max-regression", "10%")
    assert code == EXIT_OK
    lines = out.splitlines()
    assert lines[0].split() == ["metric", "BASE", "NEW", "change"]
    assert lines[-1].startswith("verdict: OK")
    rate = next(ln for ln in lines if ln.startswith("all rate (req/s)"))
    assert rate.split()[-3:] == ["200.0", "200.0", "+0.0%"]
    for scope in ("all", "orders", "disputes", "reads"):
        for metric in ("rate", "errors", "p50", "p95", "p99"):
            assert any(ln.startswith(f"{scope} {metric} ") for ln in lines), (scope, metric)


def test_slower_chargebacks_are_a_regression_beyond_the_tolerance(tmp_path: Path) -> None:
    base = make_doc(make_total())
    slow = make_doc(make_total(dispute_latency=1.5))
    code, out = run_main(tmp_path, base, slow, "--max-regression", "10%")
    assert code == EXIT_REGRESSION
    flagged = [ln.split()[:2] for ln in out.splitlines() if ln.endswith("REGRESSION")]
    assert ["disputes", "p50"] in flagged and ["disputes", "p99"] in flagged
    assert all(scope in ("disputes", "all") for scope, _ in flagged)
    assert out.splitlines()[-1].startswith("verdict: REGRESSION")
    assert "disputes p50 +" in out.splitlines()[-1]  # the verdict names the worst
    # the same change within a wider tolerance passes; without a tolerance, exit 0 but
    # the verdict names the worst changes and the gate
    assert run_main(tmp_path, base, slow, "--max-regression", "60")[0] == EXIT_OK
    code, out = run_main(tmp_path, base, slow)
    verdict = out.splitlines()[-1]
    assert code == EXIT_OK and verdict.startswith("verdict: not gated (no --max-regression)")
    assert "disputes p" in verdict and "--max-regression 10% would exit 99 (" in verdict
    # a change within 10 %: the verdict says that gate would pass
    a_bit = make_doc(make_total(dispute_latency=1.05))
    verdict = run_main(tmp_path, base, a_bit)[1].splitlines()[-1]
    assert "worst: disputes p" in verdict and verdict.endswith("--max-regression 10% would pass")


def test_without_a_tolerance_the_verdict_names_the_worst_changes(tmp_path: Path) -> None:
    """A p50 525 % worse, no --max-regression: exit 0, but not without a word."""
    base = make_doc(make_total())
    slow = make_doc(make_total(latency=6.25, errors=60))
    code, out = run_main(tmp_path, base, slow)
    assert code == EXIT_OK
    verdict = out.splitlines()[-1]
    worst = verdict.split("worst: ")[1].split(";")[0].split(", ")
    # errors from none are the worst of all, the larger step first; then latencies
    assert worst[:2] == ["orders errors +5.55pp", "all errors +2.91pp"]
    assert len(worst) == 3 and worst[2].split()[1] in ("p50", "p95", "p99")
    assert float(worst[2].split()[2].strip("+%")) > 500
    n = len(compare(base, slow, 10).regressions)
    assert verdict.endswith(f"; --max-regression 10% would exit 99 ({n} metrics worse by more)")
    # nothing worse: said so
    same = make_doc(make_total())
    assert run_main(tmp_path, same, same)[1].splitlines()[-1] == (
        "verdict: not gated (no --max-regression); nothing is worse than BASE"
    )


def test_rate_down_is_a_regression_and_faster_is_not() -> None:
    base = make_doc(make_total())
    fewer = make_doc(make_total(n=1500))  # 25 % fewer requests in the same 10 s
    faster = make_doc(make_total(latency=0.5, n=2500))
    result = compare(base, fewer, 10)
    assert result.regressed
    assert any(ln.scope == "all" and ln.metric == "rate" for ln in result.regressions)
    assert not compare(base, faster, 10).regressed
    assert compare(base, faster, 10).lines[0].change_pct == pytest.approx(25.0)


def test_error_rate_regression_needs_more_than_noise() -> None:
    base = make_doc(make_total())
    one_error = make_doc(make_total(errors=1))  # 0 % -> 0.05 %: below the floor
    many = make_doc(make_total(errors=60))  # 0 % -> 2.9 %
    assert not compare(base, one_error, 10).regressed
    bad = compare(base, many, 10).regressions
    assert [(ln.scope, ln.metric) for ln in bad] == [("all", "errors"), ("orders", "errors")]


def test_settings_that_differ_are_noted(tmp_path: Path) -> None:
    code, out = run_main(
        tmp_path,
        make_doc(make_total(), vus=10),
        make_doc(make_total(), vus=20),
        "--max-regression=5",
    )
    assert code == EXIT_OK and "note: settings differ: vus 10 -> 20" in out


def test_docs_without_endpoints_compare_overall_only(tmp_path: Path) -> None:
    base = summary_json(make_total(), 10.0, {})
    slow = summary_json(make_total(latency=2.0), 10.0, {})
    code, out = run_main(tmp_path, base, slow, "--max-regression", "10%")
    assert code == EXIT_REGRESSION
    assert not any(ln.startswith("orders ") for ln in out.splitlines())


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        ("none", ["missing.json", "new.json"], "cannot read"),
        ("garbage", ["base.json", "new.json"], "base.json is not JSON (line 1, column 1)"),
        ("other", ["base.json", "new.json"], "base.json is not a webhookload --json summary"),
        ("list", ["base.json", "new.json"], "base.json is not a webhookload --json summary"),
        ("ok", ["base.json", "new.json", "--max-regression", "ten"], "--max-regression must be"),
        ("ok", ["base.json", "new.json", "--max-regression=-5%"], "--max-regression must be"),
        ("ok", ["base.json"], "the following arguments are required: NEW.json"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], setup: str, args: list[str], message: str
) -> None:
    good = json.dumps(make_doc(make_total()))
    content = {"garbage": "<html>", "other": '{"foo": 1}', "list": "[1, 2]"}.get(setup, good)
    (tmp_path / "base.json").write_text(content)
    (tmp_path / "new.json").write_text(good)
    code = main([str(tmp_path / a) if a.endswith(".json") else a for a in args])
    err = capsys.readouterr().err
    assert code == EXIT_USAGE
    assert err.count("\n") == 1 and err.startswith("webhookload-tui compare: ")
    assert message in err, err


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "--max-regression" in capsys.readouterr().out


def test_endpoints_json_is_each_endpoints_numbers() -> None:
    total = make_total(errors=4)
    eps = endpoints_json(total, 10.0)
    assert list(eps) == ["orders", "disputes", "reads"]
    assert sum(e["requests"] for e in eps.values()) == total.total
    orders = eps["orders"]
    view = total.endpoint("orders")
    assert orders["requests"] == view.total and orders["errors"] == 4
    assert orders["per_second"] == round(view.total / 10.0, 3)
    assert orders["status_codes"] == {"202": view.status_codes[202], "503": 4}
    assert orders["errors_by_kind"]["http_5xx"] == 4
    p99 = view.percentiles_s(99)[99]
    assert p99 is not None and orders["latency_ms"]["p99"] == round(p99 * 1000, 3)
    assert eps["disputes"]["errors"] == 0 and eps["disputes"]["error_pct"] == 0


def test_latency_distribution_bins_add_up() -> None:
    st = Stats()
    for lat_us in (400, 450, 4_000, 4_900, 4_999, 7_000, 60_000_000):
        st.record_response(ORDER_EP, 202, lat_us)
    st.record_error(ORDER_EP, "timeout")  # no latency: not in the distribution
    dist = latency_distribution_json(st.take(1.0))
    bins = {b["le_ms"]: b["count"] for b in dist}
    assert sum(b["count"] or 0 for b in dist) == 7
    assert bins[0.5] == 2 and bins[5] == 3 and bins[7.5] == 1 and bins[None] == 1
    assert bins[1] == 0  # empty bins between samples stay, so the x axis has no gaps
    assert dist[0]["le_ms"] == 0.5  # empty bins before the first sample are left out
    assert latency_distribution_json(Snapshot()) == []


def test_error_rate_changes_read_in_percentage_points(tmp_path: Path) -> None:
    code, out = run_main(tmp_path, make_doc(make_total()), make_doc(make_total(errors=60)))
    line = next(ln for ln in out.splitlines() if ln.startswith("all errors (%)"))
    assert line.split()[-1] == "+2.91pp" and code == EXIT_OK


def test_endpoint_lines_show_each_endpoint_with_requests() -> None:
    st = Stats()
    for _ in range(30):
        st.record_response(ORDER_EP, 202, 5_000)
    for _ in range(10):
        st.record_response(DISPUTE_EP, 503, 80_000)
    lines = endpoint_lines(st.take(10.0), 10.0)
    assert lines[0].split() == ["Endpoint", "requests", "/s", "errors", "p50", "p95", "p99"]
    assert lines[1].split() == [
        "orders",
        "30",
        "3.0",
        "0",
        "5.00ms",
        "5.00ms",
        "5.00ms",
    ]  # the bucket midpoint (5.01ms) lies above every sample: the exact max caps it
    assert lines[2].split() == ["disputes", "10", "1.0", "10", "80.0ms", "80.0ms", "80.0ms"]
    assert len(lines) == 3  # no reads: no line
    assert endpoint_lines(Snapshot(), 1.0) == []


def test_a_closed_and_an_open_run_are_flagged_before_the_table(tmp_path: Path) -> None:
    base = make_doc(make_total(), vus=10)
    new = make_doc(make_total(), rate=500.0)
    code, out = run_main(tmp_path, base, new, "--max-regression", "10%")
    lines = out.splitlines()
    assert lines[0] == (
        "warning: load models differ: BASE closed, 10 VUs; NEW open, --rate 500/s:"
        " the numbers are not comparable"
    )
    assert lines[1].split() == ["metric", "BASE", "NEW", "change"]  # the table still follows
    assert sum(ln.startswith("warning:") for ln in lines) == 1
    assert code == EXIT_OK and lines[-1].startswith("verdict: OK")  # the exit code is unchanged


@pytest.mark.parametrize(
    ("base_cfg", "new_cfg", "base_text", "new_text"),
    [
        ({"vus": 10}, {"vus": 50}, "closed, 10 VUs", "closed, 50 VUs"),
        ({"rate": 100.0}, {"rate": 250.5}, "open, --rate 100/s", "open, --rate 250.5/s"),
        ({}, {"stages": "30s:50"}, "no --stages", "--stages 30s:50"),
        ({"workers": 1}, {"workers": 4}, "--workers 1", "--workers 4"),
        ({"duration": 30.0}, {"duration": 60.0}, "--duration 30s", "--duration 1m0s"),
        ({"client": "fast"}, {"client": "aiohttp"}, "--client fast", "--client aiohttp"),
        ({}, {"contract": "other"}, "--contract ingest", "--contract other"),
        ({}, {"target_mode": "async"}, "--target-mode sync", "--target-mode async"),
    ],
)
def test_each_load_model_difference_is_one_warning(
    base_cfg: dict[str, Any], new_cfg: dict[str, Any], base_text: str, new_text: str
) -> None:
    result = compare(make_doc(make_total(), **base_cfg), make_doc(make_total(), **new_cfg))
    assert result.warnings == [
        f"warning: load models differ: BASE {base_text}; NEW {new_text}:"
        " the numbers are not comparable"
    ]
    assert result.table()[0] == result.warnings[0]


def test_several_differences_are_one_line_each_and_equal_models_none() -> None:
    base = make_doc(make_total(), vus=10, workers=1, client="fast")
    new = make_doc(make_total(), rate=500.0, workers=2, client="httpx")
    warned = compare(base, new).warnings
    assert [w.split(": ")[2].split(";")[0] for w in warned] == [
        "BASE closed, 10 VUs",
        "BASE --workers 1",
        "BASE --client fast",
    ]
    # the settings outside the load model (the target, the mix) are notes after the table
    same_model = make_doc(make_total(), vus=10, dispute_ratio=0.5, target="http://b:1")
    assert compare(base, same_model).warnings == []


def test_old_files_missing_a_key_are_not_warned_about(tmp_path: Path) -> None:
    base = make_doc(make_total(), vus=10, workers=1)
    new = make_doc(make_total(), rate=500.0, workers=4, client="httpx")
    for key in ("rate", "workers", "client"):
        del new["config"][key]  # a file from before these settings
    assert compare(base, new).warnings == []
    # without config.rate, ``arrivals`` tells the model (null: closed)
    new["arrivals"] = {"rate": 500.0}
    assert compare(base, new).warnings == [
        "warning: load models differ: BASE closed, 10 VUs; NEW open, --rate 500/s:"
        " the numbers are not comparable"
    ]
    no_config = summary_json(make_total(), 10.0, {})
    code, out = run_main(tmp_path, no_config, base)
    assert code == EXIT_OK and "warning" not in out


def test_a_stages_run_is_described_by_its_stages_not_zero_vus() -> None:
    """It read ``BASE closed, 0 VUs`` and ``BASE --duration 6s`` for a run given
    only ``--stages 3s:10,3s:0`` (its VUs are 0, its duration the stages' sum)."""
    staged = make_doc(make_total(), vus=0, stages="3s:10,3s:0", duration=6.0)
    steady = make_doc(make_total(), vus=10, duration=30.0)
    warned = compare(staged, steady).warnings
    sides = [w.split(": ")[2] for w in warned]
    assert sides == [  # both closed: the --stages line says how, not "closed, 0 VUs"
        "BASE --stages 3s:10,3s:0; NEW no --stages",
        "BASE duration 6s; NEW duration 30s",
    ], sides
    opened = make_doc(make_total(), rate=5.0, stages="3s:10", duration=3.0)
    assert compare(opened, steady).warnings[0].split(": ")[2] == (
        "BASE open, rate by --stages; NEW closed, 10 VUs"
    )


OLD_SUMMARY = Path(__file__).parent / "data" / "summary_before_shapes.json"
"""A ``--json`` written by main's code before scenarios became data (no
``shape``, no ``flows``): a 1 s ingest run against the builtin target."""


def test_a_summary_written_before_scenarios_were_data_still_compares(tmp_path: Path) -> None:
    old = json.loads(OLD_SUMMARY.read_text())
    assert "shape" not in old and "flows" not in old
    new = make_doc(make_total())
    assert new["shape"]["scenario"] == "ingest" and "order" in new["flows"]
    code, text = run_main(tmp_path, old, new)
    assert code == EXIT_OK, text
    assert "scenarios differ" not in text
    scopes = {(line.scope, line.metric) for line in compare(old, new).lines}
    assert {("all", "p99"), ("orders", "p99"), ("disputes", "p99")} <= scopes
    stripe = {**new, "shape": {**new["shape"], "scenario": "stripe"}}
    notes = compare(old, stripe).notes
    assert any("scenarios differ: ingest -> stripe" in n for n in notes), notes
