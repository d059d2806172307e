"""The run's summary as text (the plan's block) and as JSON.

Pure functions of a :class:`~engine.run.runner.RunResult` (and the
:class:`~engine.outputs.thresholds.Abort` that ``--abort-on-fail`` recorded,
if it stopped the run), shared by the headless printer, the TUI's summary
panel and ``--json``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.domain.durations import format_duration, format_latency
from engine.domain.outcomes import flow_counts, scenario_counts
from engine.domain.sanitize import shown_url
from engine.domain.shape import INGEST_SHAPE, Shape
from engine.domain.stages import mean_rate, parse_stages
from engine.metrics.saturation import Saturation, judge
from engine.metrics.stats import ERROR_KINDS, Snapshot
from engine.outputs.delivery import answers_json, delivery_json, delivery_lines, retried_lines
from engine.outputs.docparts import (
    endpoint_lines,
    endpoints_json,
    latency_distribution_json,
    latency_json,
)
from engine.outputs.provider import provider_json, provider_lines
from engine.outputs.settings import delivery_settings_lines, format_count, format_rate
from engine.outputs.thresholds import Abort, threshold_lines, thresholds_json
from engine.outputs.verdict import run_thresholds, stopped_by_user
from engine.outputs.visibility import visibility_json, visibility_lines

if TYPE_CHECKING:
    from engine.run.runner import RunResult


def summary_lines(total: Snapshot, elapsed: float, shape: Shape = INGEST_SHAPE) -> list[str]:
    """The plan's summary block, same labels and order; zeros and ``-`` when empty.
    One line per endpoint of the scenario (``Orders:``, ``Disputes:``...);
    ``reads`` only when there were any."""
    p = total.percentiles_s(50, 95, 99)
    rate = total.total / elapsed if elapsed > 0 else 0.0
    lines = [
        "========== SUMMARY ==========",
        f"Duration:    {format_duration(elapsed)}",
        f"Requests:    {format_count(total.total)} ({format_rate(rate)}/s)",
    ]
    for name in shape.endpoints:
        n = total.count(name)
        if n or name != "reads":
            lines.append(f"  {name[:1].upper() + name[1:] + ':':<10} {format_count(n)}")
    lines += [
        f"Success:     {format_count(total.success)}",
        f"Errors:      {format_count(total.errors)} ({total.error_pct:.2f}%)",
        "Latency:     "
        f"p50={format_latency(p[50])}  p95={format_latency(p[95])}  p99={format_latency(p[99])}",
    ]
    if total.failed_latency:  # errors were timed: show the accepted answers apart
        a = total.accepted.percentiles_s(50, 95, 99)
        lines.append(
            "Accepted:    "
            f"p50={format_latency(a[50])}  p95={format_latency(a[95])}  p99={format_latency(a[99])}"
            "  (the answers that were not errors)"
        )
    if total.service:  # the open model: latency above is from the intended send
        s = total.service_time.percentiles_s(50, 95, 99)
        lines.append(
            "Service time: "
            f"p50={format_latency(s[50])}  p95={format_latency(s[95])}  p99={format_latency(s[99])}"
            "  (from the actual send; Latency is from the intended one)"
        )
    lines.append("==============================")
    return lines


def arrival_lines(result: RunResult) -> list[str]:
    """The open model's arrivals: asked and achieved rate, dropped ones."""
    arrivals = arrivals_json(result)
    if arrivals is None:
        return []
    line = (
        f"Arrivals: started={arrivals['started']}  dropped={arrivals['dropped']}"
        f"  rate={arrivals['rate']:g}/s  achieved={arrivals['achieved_rate']:.2f}/s"
    )
    if result.config.stages:
        line += "  (rate: the mean of --stages)"
    if arrivals["dropped"]:
        line += "  (! --max-inflight was full: dropped arrivals were not sent)"
    return [line]


def arrivals_json(result: RunResult) -> dict[str, Any] | None:
    """``arrivals`` in the JSON: the asked ``rate`` (with ``--stages``, their mean
    rate over the run, which ``achieved_rate`` compares with), journeys ``started``, arrivals
    ``dropped`` (``--max-inflight`` full) and ``achieved_rate`` (started per
    second of the run); null in the closed model."""
    rate = result.config.rate
    if not rate:
        return None
    if result.config.stages:
        rate = round(mean_rate(parse_stages(result.config.stages), rate), 3)
    t = result.total
    achieved = t.arrivals / result.elapsed if result.elapsed > 0 else 0.0
    return {
        "rate": rate,
        "started": t.arrivals,
        "dropped": t.dropped,
        "achieved_rate": round(achieved, 3),
    }


def detail_lines(total: Snapshot, stopped: bool = False, shape: Shape = INGEST_SHAPE) -> list[str]:
    """What the plan's block leaves out: codes, error kinds, cancellations, each
    flow's outcomes (:func:`flow_lines`) and the generator's health.
    Requests in flight at the end are cancelled whether the deadline or a stop
    (Ctrl+C, ``x``, ``--abort-on-fail``) ended the run: ``stopped`` names which."""
    codes = "  ".join(f"{c}={format_count(n)}" for c, n in sorted(total.status_codes.items()))
    kinds = "  ".join(f"{k}={format_count(n)}" for k, n in total.errors_by_kind.items() if n)
    return [
        f"Status codes:  {codes or '-'}",
        *retried_lines(total),
        f"Error kinds:   {kinds or '-'}",
        f"Cancelled {'when stopped' if stopped else 'at deadline'}: {total.cancelled}",
        *grace_lines(total),
        *flow_lines(total, shape),
        generator_line(total),
    ]


def grace_lines(total: Snapshot) -> list[str]:
    """``Finished in grace: N`` when requests in flight at the deadline ended
    within ``--grace`` (none: no line, the common case): answered, or ended by
    their own --timeout, which is why the line does not say "answered"."""
    if not total.finished_in_grace:
        return []
    return [
        f"Finished in grace: {total.finished_in_grace} (in flight at the deadline, ended"
        " within --grace with an answer or an error; counted in Requests)"
    ]


def flow_lines(total: Snapshot, shape: Shape = INGEST_SHAPE) -> list[str]:
    """One line per flow of the scenario, its counters by their display words:
    ``Orders:   started=…  payment_success=…  payment_failed=…  aborted=…
    unfinished=…`` (an order's outcome is its payment's, not an error);
    a state the walker counts as visited (a dispute's ``updated``) after
    ``started`` where it happened. Per flow, started = the outcomes + aborted
    + unfinished."""
    lines = []
    for flow in shape.flows:
        c = flow_counts(flow, total.scenarios)
        word = flow.outcome_label
        parts = [f"{word('started')}={c['started']}"]
        parts += [f"{word(state)}={n}" for state, n in c["visited"].items()]
        parts += [f"{outcome}={n}" for outcome, n in c["ended"].items()]
        parts += [f"{word(k)}={c[k]}" for k in ("aborted", "unfinished")]
        lines.append(f"{flow.label + ':':<9} " + "  ".join(parts))
    return lines


def generator_line(total: Snapshot) -> str:
    """``Generator: …`` with the saturation verdict (the details' last line)."""
    sat = judge(total)
    verdict = (
        "not judged: run too short"
        if not sat.judged
        else "SATURATED: latencies include the generator's own queueing"
        if sat.saturated
        else "not saturated"
    )
    return f"Generator: {sat.describe()} ({verdict})"


def failure_lines(total: Snapshot) -> list[str]:
    """What came back from a few failed requests (the first few, and the first
    of each endpoint and status or error kind); nothing when none failed."""
    if not total.sample_failures:
        return []
    return ["Sample failures:"] + [f"  {f.describe()}" for f in total.sample_failures]


def load_stopped(result: RunResult) -> bool:
    """A stop ended the load (not the deadline); one during ``--verify`` did not."""
    return result.stopped and not result.verify_interrupted


def outcome_lines(result: RunResult, abort: Abort | None = None) -> list[str]:
    """How the run ended, when that is news: stopped early (by the user or by
    ``--abort-on-fail``), nothing succeeded."""
    lines = []
    if abort is not None:
        lines.append(abort.describe())
    elif result.verify_interrupted:  # the load ran its full time: only the check was cut
        ran = format_duration(result.config.duration)
        lines.append(f"--verify interrupted: not checked (the load ran its full {ran})")
    elif result.stopped:
        at = format_duration(result.elapsed)
        limit = result.config.duration
        lines.append(
            f"Stopped early at {at} of {format_duration(limit)}"
            if limit
            else f"Stopped at {at} (no duration limit)"
        )
    t = result.total
    if t.success == 0:
        # named by what ended the run, as the Cancelled line and ``cancelled_at`` do
        when = "when stopped" if load_stopped(result) else "at the deadline"
        lines.append(f"No request succeeded: {t.errors} failed, {t.cancelled} cancelled {when}")
    return lines


def result_lines(result: RunResult, abort: Abort | None = None) -> list[str]:
    """Everything a finished run prints: the plan's block, the numbers per
    endpoint, the details, sample failures, the --verify check, the thresholds
    and how it ended (``--no-ui`` and the TUI on exit)."""
    total = result.total
    return (
        summary_lines(total, result.elapsed, result.config.shape)
        + arrival_lines(result)
        + endpoint_lines(total, result.elapsed, result.config.shape)
        + detail_lines(total, load_stopped(result), result.config.shape)
        + delivery_settings_lines(result.config)
        + delivery_lines(total)
        + provider_lines(total, result.config)
        + visibility_lines(total, result.config.visibility, result.config.shape)
        + failure_lines(total)
        + verification_lines(result)
        + threshold_lines(run_thresholds(result))
        + outcome_lines(result, abort)
    )


_REQUESTS = frozenset({"total", "success", "errors", "per_second"})
"""The ``requests`` object's own keys, which no endpoint's count may replace."""


def summary_json(
    total: Snapshot,
    elapsed: float,
    config: dict[str, Any],
    *,
    target_url: str = "",
    stopped: bool = False,
    extra: dict[str, Any] | None = None,
    where: tuple[str, ...] = (),
    shape: Shape = INGEST_SHAPE,
) -> dict[str, Any]:
    """The ``--json`` document. Latencies in milliseconds; ``null`` when empty.

    ``generator_saturated`` is null when the run was too short to take one
    loop-lag sample: not judged, which ``false`` (judged and healthy) would
    misstate; a reader that tests it for truth still reads "not saturated"."""
    sat = judge(total)
    doc: dict[str, Any] = {
        "duration_s": round(elapsed, 3),
        "stopped_early": stopped,
        "stopped_at_s": round(elapsed, 3) if stopped else None,
        "target_url": shown_url(target_url),
        "requests": {
            "total": total.total,
            # per endpoint of the scenario (ingest: orders, disputes, reads)
            **{name: total.count(name) for name in shape.endpoints if name not in _REQUESTS},
            "success": total.success,
            "errors": total.errors,
            "per_second": round(total.total / elapsed, 3) if elapsed > 0 else 0.0,
        },
        # corrected (from the intended send) in the open model; the same as
        # service_time_ms (from the actual send) in the closed model
        "latency_ms": latency_json(total),
        "service_time_ms": latency_json(total.service_time),
        # issue 19: the answers that were not errors (k6's expected_response:true);
        # the same as latency_ms when no answer was an error
        "latency_accepted_ms": latency_json(total.accepted),
        "status_codes": {str(c): n for c, n in sorted(total.status_codes.items())},
        "errors_by_kind": {k: total.errors_by_kind.get(k, 0) for k in ERROR_KINDS},
        # in flight when the run ended, by its deadline or a stop (``cancelled_at``);
        # the old key keeps its name and value for the scripts that read it
        "cancelled_at_deadline": total.cancelled,
        "cancelled_in_flight": total.cancelled,
        "cancelled_at": "stop" if stopped else "deadline",
        # in flight at the deadline, answered within --grace (counted in requests too)
        "finished_in_grace": total.finished_in_grace,
        "sample_failures": [f.as_json() for f in total.sample_failures],
        # ingest's older outcome names (orders_started...), else the flows' keys
        "scenarios": scenario_counts(shape, total.scenarios),
        # per flow of the scenario: started, outcomes, aborted, unfinished
        "flows": {f.name: flow_counts(f, total.scenarios) for f in shape.flows},
        # the scenario's names, so that compare and the report need not its file
        "shape": shape.as_json(),
        "config": config,
        "generator_saturated": sat.saturated if sat.judged else None,
        "generator": generator_json(sat, where),  # with "shards" when there are several
    }
    if extra:
        doc.update(extra)
    return doc


def result_json(result: RunResult, abort: Abort | None = None) -> dict[str, Any]:
    """The ``--json`` document of a finished run: the summary, numbers per
    endpoint, the latency distribution, the thresholds (``[]`` without any),
    why it stopped early (``stopped_by``: ``user``, ``thresholds`` or null) and
    the ``--verify`` check if any."""
    v = result.verification
    extra: dict[str, Any] = {
        "endpoints": endpoints_json(result.total, result.elapsed, result.config.shape),
        "latency_distribution": latency_distribution_json(result.total),
        "thresholds": thresholds_json(run_thresholds(result)),
        "stopped_by": (
            "thresholds"
            if abort is not None
            else "user"
            if stopped_by_user(result, abort)
            else None
        ),
        "abort": abort.as_json() if abort is not None else None,
        "verify_interrupted": result.verify_interrupted,
        "arrivals": arrivals_json(result),
        "delivery": delivery_json(result.total),
        "delivery_answers": answers_json(result.total),
        "provider": provider_json(result.total, result.config),
    }
    extra["visibility_ms"], extra["visibility"] = visibility_json(
        result.total, result.config.visibility
    )
    if v is not None:
        extra["verification"] = v.as_json()
    return summary_json(
        result.total,
        result.elapsed,
        result.config.as_dict(),
        target_url=result.target_url,
        stopped=load_stopped(result),
        extra=extra,
        where=result.where,
        shape=result.config.shape,
    )


def generator_json(sat: Saturation, where: tuple[str, ...]) -> dict[str, object]:
    """The generator's health; with several shards, each one's entry also says
    where it ran (``where``, by shard index), so a cluster run shows its nodes."""
    doc = sat.as_json()
    if "shards" in doc and where:
        doc["shards"] = [
            {**s.as_json(), "where": where[s.shard] if s.shard < len(where) else None}
            for s in sat.shards
        ]
    return doc


def verification_lines(result: RunResult) -> list[str]:
    """``Verified: ...`` after the details, when ``--verify`` ran: orders,
    disputes, and the mismatches kept (which one, expected vs found, its last event)."""
    v = result.verification
    return [] if v is None else v.lines()
