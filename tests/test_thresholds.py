"""--threshold: parsing (and its one-line errors), judging on totals, and --abort-on-fail."""

from __future__ import annotations

import pytest

from engine.config import ConfigError
from engine.domain.shape import INGEST_SHAPE
from engine.metrics.stats import Snapshot, Stats
from engine.outputs.thresholds import (
    ABORT_DELAY_S,
    AbortCheck,
    Threshold,
    all_passed,
    evaluate,
    parse_threshold,
    parse_thresholds,
    threshold_lines,
    thresholds_json,
)

# endpoint ids by the ingest scenario's own endpoint names (engine/domain/shape.py)
ORDER_EP, DISPUTE_EP, READ_EP = map(INGEST_SHAPE.endpoint_index, ("orders", "disputes", "reads"))


def _run(order_ms: int = 10, dispute_ms: int = 80, errors: int = 0, span: float = 10.0) -> Snapshot:
    """100 orders at ``order_ms``, 50 disputes at ``dispute_ms``, ``errors`` order 503s."""
    st = Stats()
    for _ in range(100):
        st.record_response(ORDER_EP, 202, order_ms * 1000)
    for _ in range(50):
        st.record_response(DISPUTE_EP, 202, dispute_ms * 1000)
    for _ in range(errors):
        st.record_response(ORDER_EP, 503, 1000)
    return st.take(span)


@pytest.mark.parametrize(
    ("text", "metric", "op", "limit", "endpoint"),
    [
        ("p99<250ms", "p99", "<", 0.25, None),
        ("p50 < 1.5s", "p50", "<", 1.5, None),
        ("P95<=1m", "p95", "<=", 60.0, None),
        ("max<2s", "max", "<", 2.0, None),
        ("p90{endpoint=orders}<20ms", "p90", "<", 0.02, "orders"),
        ("p99{endpoint=chargebacks}<50ms", "p99", "<", 0.05, "disputes"),
        ("p99{ endpoint = disputes }<50ms", "p99", "<", 0.05, "disputes"),
        ("errors<1%", "errors", "<", 1.0, None),
        ("errors{endpoint=reads}<0.5%", "errors", "<", 0.5, "reads"),
        ("rate>100", "rate", ">", 100.0, None),
        ("rate{endpoint=orders}>=12.5/s", "rate", ">=", 12.5, "orders"),
    ],
)
def test_parse_accepts_the_documented_forms(
    text: str, metric: str, op: str, limit: float, endpoint: str | None
) -> None:
    t = parse_threshold(text)
    assert (t.metric, t.op, t.endpoint) == (metric, op, endpoint)
    assert t.limit == pytest.approx(limit)
    assert t.name == "".join(text.split())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "METRIC<LIMIT like p99<250ms"),
        ("p99", "METRIC<LIMIT like p99<250ms"),
        ("p98<10ms", "one of p50, p90, p95, p99, max, errors, rate"),
        ("p99<fast", "a duration above 0, like p99<250ms"),
        ("p99<50", "a duration above 0"),
        ("p99<0", "a duration above 0"),
        ("p99>10ms", "an upper limit, like p99<250ms"),
        ("errors<1", "a percentage from 0 to 100, like errors<1%"),
        ("errors<101%", "a percentage from 0 to 100"),
        ("errors>1%", "an upper limit, like errors<1%"),
        ("rate<100", "a lower limit on the rate, like rate>100"),
        ("rate>lots", "a number of requests per second"),
        ("rate>-5", "a number of requests per second"),
        ("p99{endpoint=refunds}<10ms", "{endpoint=orders}, {endpoint=chargebacks}"),
        ("p99{status=500}<10ms", "{endpoint=orders}, {endpoint=chargebacks}"),
    ],
)
def test_bad_expressions_raise_one_line_naming_the_flag(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_threshold(text)
    msg = str(err.value)
    assert msg.startswith("--threshold must be ") and expected in msg, msg
    assert "\n" not in msg and repr(text) in msg


def test_evaluate_reports_measured_values_and_verdicts() -> None:
    total = _run(order_ms=10, dispute_ms=80, errors=3, span=10.0)  # 153 requests in 10 s
    results = evaluate(
        parse_thresholds(
            [
                "p99<50ms",  # overall p99 is a dispute's 80 ms: fails
                "p99{endpoint=orders}<50ms",  # orders alone pass
                "p50{endpoint=chargebacks}<50ms",  # disputes' p50 = 80 ms: fails
                "max<100ms",
                "errors<1%",  # 3/153 = 1.96 %: fails
                "errors{endpoint=disputes}<1%",
                "rate>15",  # 15.3/s
                "rate{endpoint=orders}>11",  # 103 / 10 s = 10.3: fails
            ]
        ),
        total,
    )
    by_name = {r.name: r for r in results}
    verdicts = {r.name: r.passed for r in results}
    assert verdicts == {
        "p99<50ms": False,
        "p99{endpoint=orders}<50ms": True,
        "p50{endpoint=chargebacks}<50ms": False,
        "max<100ms": True,
        "errors<1%": False,
        "errors{endpoint=disputes}<1%": True,
        "rate>15": True,
        "rate{endpoint=orders}>11": False,
    }
    assert by_name["p99<50ms"].measured == pytest.approx(0.080, rel=0.01)
    assert by_name["p99{endpoint=orders}<50ms"].measured == pytest.approx(0.010, rel=0.01)
    assert by_name["errors<1%"].measured == pytest.approx(300 / 153)
    assert by_name["rate{endpoint=orders}>11"].measured == pytest.approx(10.3)
    assert not all_passed(results)
    assert all_passed(r for r in results if r.passed)
    doc = {d["threshold"]: d for d in thresholds_json(results)}
    assert doc["p99<50ms"]["measured"] == pytest.approx(80.0, rel=0.01)
    assert doc["p99<50ms"]["unit"] == "ms" and doc["p99<50ms"]["limit"] == 50.0
    assert doc["errors<1%"]["passed"] is False and doc["rate>15"]["unit"] == "/s"
    lines = threshold_lines(results)
    assert lines[0] == "Thresholds:"
    assert any(ln.split()[:2] == ["FAIL", "errors<1%"] and "1.96%" in ln for ln in lines)
    assert any(ln.split()[:2] == ["pass", "max<100ms"] for ln in lines)


def test_boundaries_follow_the_operator() -> None:
    total = _run(order_ms=10, dispute_ms=10, span=15.0)  # exactly 10 requests/s
    assert evaluate([parse_threshold("rate>=10")], total)[0].passed
    assert not evaluate([parse_threshold("rate>10")], total)[0].passed


def test_no_data_fails_at_the_end() -> None:
    """A gate on reads passes nothing when the run sent no reads."""
    total = _run()
    (r,) = evaluate([parse_threshold("p99{endpoint=reads}<1s")], total)
    assert r.measured is None and not r.passed and r.measured_text() == "no data"
    (e,) = evaluate([parse_threshold("errors<5%")], Snapshot())
    assert not e.passed


def _deltas(n: int, status: int, ms: int, start: float = 0.0) -> list[Snapshot]:
    """``n`` one-second deltas of 10 responses each (orders)."""
    st = Stats(since=start)
    out = []
    for i in range(n):
        for _ in range(10):
            st.record_response(ORDER_EP, status, ms * 1000)
        out.append(st.take(start + i + 1))
    return out


def test_abort_waits_for_the_delay_on_uncertain_failures() -> None:
    check = AbortCheck(parse_thresholds(["errors<1%", "p99<50ms"]), delay_s=ABORT_DELAY_S)
    total = Snapshot()
    verdicts = []
    for d in _deltas(8, 503, 80):  # everything fails from the first second on
        total = total + d
        verdicts.append([r.name for r in check.check(total)])
    first = next(i for i, v in enumerate(verdicts) if v)
    assert total.start == 0 and verdicts[first] == ["errors<1%", "p99<50ms"]
    assert first + 1 == ABORT_DELAY_S  # the first delta at or past the delay


def test_abort_does_not_fire_while_passing_and_max_aborts_at_once() -> None:
    check = AbortCheck(parse_thresholds(["max<100ms", "errors<50%"]), delay_s=5)
    total = Snapshot()
    for d in _deltas(10, 202, 20):
        total = total + d
        assert check.check(total) == []
    st = Stats(since=10.0)
    st.record_response(READ_EP, 202, 150_000)  # one slow read: max can never recover
    total = total + st.take(10.25)
    assert [r.name for r in check.check(total)] == ["max<100ms"]
    early = AbortCheck([parse_threshold("max<100ms")], delay_s=60)
    assert [r.name for r in early.check(total)] == ["max<100ms"]


def test_can_still_pass_and_missing_data_never_aborts() -> None:
    t_max = parse_threshold("max<10ms")
    t_p99 = parse_threshold("p99<10ms")
    slow = _run(order_ms=20, dispute_ms=20)
    assert not t_max.can_still_pass(slow) and t_p99.can_still_pass(slow)
    assert t_max.can_still_pass(Snapshot())
    check = AbortCheck([parse_threshold("p99{endpoint=reads}<1ms")], delay_s=0)
    assert check.check(slow) == []  # no reads yet: not a failure mid-run


def test_a_threshold_built_in_code_names_itself() -> None:
    t = Threshold("p95", "<", 0.25, "disputes")
    assert t.name == "p95{endpoint=disputes}<250ms"
    assert Threshold("errors", "<", 0.5).name == "errors<0.5%"
