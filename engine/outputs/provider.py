"""The run as the provider would have seen it (issue 22): answers slower than
the scenario's delivery policy's timeout, counted apart.

A provider gives up on an answer after its timeout (Shopify 5 s, Slack 3 s)
and counts the delivery failed, whatever the status that came later: the
receiver did the work, the provider retries it. The load test waits longer
(``--timeout``), so those answers are successes here; this says how many the
provider would have retried, in the summary, the TUI's summary, the JSON's
``provider`` object and the HTML report. ``provider_timeouts<1%`` is its
threshold (engine/domain/thresholds.py).
"""

from __future__ import annotations

from typing import Any

from engine.config import RunConfig
from engine.domain.durations import format_duration
from engine.domain.policies import PROVIDER_ANSWERS, PROVIDER_TIMEOUTS, Policy
from engine.metrics.stats import Snapshot
from engine.outputs.settings import format_count


def provider_json(total: Snapshot, config: RunConfig) -> dict[str, Any] | None:
    """The ``provider`` object of the JSON summary: the policy and what it
    would have seen; None (``null``) for a run without a delivery policy."""
    policy = config.policy
    if policy is None:
        return None
    answers = total.delivery.get(PROVIDER_ANSWERS, 0)
    slower = total.delivery.get(PROVIDER_TIMEOUTS, 0)
    return {
        "policy": policy.name,
        "provider": policy.provider,
        "source": policy.source,
        "success": list(policy.success),
        "timeout_ms": None if policy.timeout is None else round(policy.timeout * 1000, 3),
        "retry_schedule_s": list(policy.schedule),
        "redelivery_schedule_s": list(policy.redelivery),
        "retry_speed": config.retry_speed,
        "retry_headers": [name for name, _ in policy.retry_headers],
        "answers_timed": answers,
        "slower_than_timeout": slower,
        "slower_pct": round(100.0 * slower / answers, 3) if answers else None,
    }


def provider_sentence(
    provider: str, timeout_s: float, answers: int, slower: int, retries: bool
) -> str:
    """``312 answers (2.1%) took longer than Shopify's 5s: Shopify would have
    retried them``: the same words from the live snapshot and from the JSON."""
    limit = f"{provider}'s {format_duration(timeout_s)}"
    if not slower:
        timed = format_count(answers)
        return f"Provider timeout: no answer took longer than {limit} ({timed} timed)"
    pct = 100.0 * slower / answers if answers else 0.0
    then = (
        f"{provider} would have retried them"
        if retries
        else f"{provider} would have counted them failed (it does not retry)"
    )
    slow = format_count(slower)
    return f"Provider timeout: {slow} answers ({pct:.1f}%) took longer than {limit}: {then}"


def provider_lines(total: Snapshot, config: RunConfig) -> list[str]:
    """The summary's line on the provider's timeout; none without a policy
    that has one."""
    policy = config.policy
    if policy is None or policy.timeout is None:
        return []
    answers = total.delivery.get(PROVIDER_ANSWERS, 0)
    slower = total.delivery.get(PROVIDER_TIMEOUTS, 0)
    return [provider_sentence(policy.provider, policy.timeout, answers, slower, _retries(policy))]


def doc_lines(doc: dict[str, Any]) -> list[str]:
    """The same line from a JSON summary's ``provider`` object (the HTML report)."""
    p = doc.get("provider")
    if not p or p.get("timeout_ms") is None:
        return []
    return [
        provider_sentence(
            str(p["provider"]),
            float(p["timeout_ms"]) / 1000,
            int(p["answers_timed"]),
            int(p["slower_than_timeout"]),
            bool(p["retry_schedule_s"]),
        )
    ]


def _retries(policy: Policy) -> bool:
    return bool(policy.schedule)
