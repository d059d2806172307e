"""The ``delivery`` accounting in the summary and the JSON (issues 10 and 19).

Deliberate duplicates (``--duplicate-rate``), early events (``--reorder-rate``)
and retries (``--retries``) are counted by what actually came back, never by an
assumed code, split by answer class (engine/scenario/faults.py): a duplicate is
handled by a 2xx or the "already seen" answer (409), refused by another 4xx
(no error, but a provider would retry it for days), and an error on a 5xx or
no answer; an early event refused with a 4xx is expected. The summary says in
words what the split means, for the engineer reading it at 2 a.m. Shown only
when the run delivered any.
"""

from __future__ import annotations

from collections.abc import Mapping

from engine.metrics.stats import DELIVERY_KEYS, Snapshot
from engine.scenario.faults import DUPLICATE_STATUS, EARLY_STATUS, answer_class
from engine.scenario.retry import RETRIED_STATUS

_WORDS = {"5xx": "errors", "transport": "errors", "4xx": "4xx", "other": "other"}
"""Answer class (faults.answer_class) -> the group the summary's words list it in."""


def delivery_json(total: Snapshot) -> dict[str, int]:
    """The ``delivery`` object of the JSON summary: every counter, zeros included."""
    return {k: total.delivery.get(k, 0) for k in DELIVERY_KEYS}


def answers_json(total: Snapshot) -> dict[str, dict[str, int]]:
    """``delivery_answers`` in the JSON: duplicates, early events and the answers
    ``--retries`` sent a delivery again after (``retried``), by exact status
    (``"500"``) or transport error kind (``"timeout"``), most first."""
    return {
        "duplicates": _by_answer(total.delivery, DUPLICATE_STATUS),
        "early": _by_answer(total.delivery, EARLY_STATUS),
        "retried": _by_answer(total.delivery, RETRIED_STATUS),
    }


def retried_lines(total: Snapshot) -> list[str]:
    """``Retried answers: 500=31  timeout=2 (...)``, next to the status codes:
    those count one answer per request (a delivery's last), so every answer
    received is the two together. Nothing when none was retried."""
    by = _by_answer(total.delivery, RETRIED_STATUS)
    if not by:
        return []
    shown = "  ".join(f"{a}={n}" for a, n in sorted(by.items(), key=lambda kv: _order(kv[0])))
    # a retry waiting out its backoff when the deadline came is never sent: then
    # the answers retried outnumber the Delivery line's retries=, and this says why
    unsent = sum(by.values()) - delivery_json(total)["retries"]
    why = f"; {unsent} not sent again, the deadline came first" if unsent > 0 else ""
    return [f"Retried answers: {shown}  (sent again by --retries{why}; not in Status codes)"]


def _order(answer: str) -> tuple[int, str]:
    """Status codes in order, then the error kinds."""
    return (int(answer), "") if answer.isdigit() else (1000, answer)


def _by_answer(delivery: Mapping[str, int], prefix: str) -> dict[str, int]:
    found = {k[len(prefix) :]: n for k, n in delivery.items() if k.startswith(prefix) and n}
    return dict(sorted(found.items(), key=lambda kv: (-kv[1], kv[0])))


def _answered(by: Mapping[str, int], keep: str) -> str:
    """``472 answered 500, 3 got no answer (timeout)``: the answers of class
    ``keep`` (``4xx``, ``errors``: 5xx and none, ``other``: 1xx/3xx)."""
    parts = []
    for answer, n in by.items():
        code = int(answer) if answer.isdigit() else None
        cls = answer_class(code)
        if _WORDS.get(cls) != keep:
            continue
        parts.append(
            f"{n} answered {answer}" if code is not None else f"{n} got no answer ({answer})"
        )
    return ", ".join(parts)


def delivery_lines(total: Snapshot) -> list[str]:
    """``Delivery: duplicates=N (2xx=.. already-seen=.. 4xx=.. 5xx=.. no-answer=..)
    early=... retries=...``, then what it means in words."""
    d = delivery_json(total)
    if not any(d.values()):
        return []
    lines = [
        f"Delivery: duplicates={d['duplicates_sent']} (2xx={d['duplicates_accepted']}"
        f" already-seen={d['duplicates_rejected']} 4xx={d['duplicates_refused']}"
        f" 5xx={d['duplicates_5xx']} no-answer={d['duplicates_transport']}"
        + (f" other={d['duplicates_other']}" if d["duplicates_other"] else "")
        + f")  early={d['early_sent']} (2xx={d['early_accepted']} 4xx={d['early_refused']}"
        f" 5xx={d['early_5xx']} no-answer={d['early_transport']}"
        + (f" other={d['early_other']}" if d["early_other"] else "")
        + f")  retries={d['retries']} (exhausted={d['retries_exhausted']})"
    ]
    answers = answers_json(total)
    lines += _redelivery_words(d, answers["duplicates"])
    lines += _early_words(d, answers["early"])
    return lines


def _redelivery_words(d: Mapping[str, int], by: Mapping[str, int]) -> list[str]:
    """``Redeliveries: 743 sent, 0 handled: 472 answered 500, 271 answered 422 — …``."""
    sent = d["duplicates_sent"]
    if not sent:
        return []
    handled = d["duplicates_accepted"] + d["duplicates_rejected"]
    line = f"Redeliveries: {sent} sent, {handled} handled (2xx or 409 already seen)"
    unhandled = ", ".join(p for p in (_answered(by, k) for k in ("errors", "4xx", "other")) if p)
    if unhandled:
        line += ": " + unhandled
    if handled == 0:
        line += " — this service does not accept a redelivered webhook"
    elif handled < sent:
        line += " — some redelivered webhooks were not accepted"
    else:
        line += " — every redelivered webhook was accepted"
    notes = []
    errors = d["duplicates_5xx"] + d["duplicates_transport"]
    if errors:
        notes.append(f"{errors} counted as errors (5xx or no answer), see Sample failures")
    if d["duplicates_refused"]:
        notes.append(
            f"{d['duplicates_refused']} refused with a 4xx: no error here, but a provider"
            " retries a refused webhook for days"
        )
    return [line] + [f"  {n}" for n in notes]


def _early_words(d: Mapping[str, int], by: Mapping[str, int]) -> list[str]:
    """``Early events: 120 sent, 100 refused with a 4xx (expected: …), …``."""
    sent = d["early_sent"]
    if not sent:
        return []
    line = (
        f"Early events: {sent} sent, {d['early_refused']} refused with a 4xx (expected: the"
        f" provider retries them later), {d['early_accepted']} applied early"
    )
    errors = d["early_5xx"] + d["early_transport"]
    if errors:
        line += f", {errors} errors: " + _answered(by, "errors")
    if d["early_other"]:
        line += f", {d['early_other']} other: " + _answered(by, "other")
    return [line]
