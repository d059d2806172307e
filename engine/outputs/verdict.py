"""The verdict on a finished run: its thresholds and the exit code it ends with.

Failures before any load (bad arguments, an unreachable target) are errors
with codes of their own (:mod:`engine.errors`); this is the verdict on a run
that happened, judged from its result alone, plus the :class:`Abort` a front
end recorded when ``--abort-on-fail`` stopped the run (the runner only knows
that it was stopped, not why). The order is documented in :mod:`engine.errors`:
interrupted by the user (130) > thresholds (99) > no success (5) > --verify (4) > 0.
"""

from __future__ import annotations

from engine.errors import (
    EXIT_INTERRUPTED,
    EXIT_NO_SUCCESS,
    EXIT_OK,
    EXIT_THRESHOLDS,
    EXIT_UNVERIFIED,
)
from engine.outputs.thresholds import Abort, ThresholdResult, all_passed, evaluate, parse_thresholds
from engine.run.runner import RunResult


def run_thresholds(result: RunResult) -> list[ThresholdResult]:
    """Each ``--threshold`` of the run judged on its total: the one place the
    summary, the JSON and the exit code get them from."""
    return evaluate(parse_thresholds(result.config.thresholds, result.config.shape), result.total)


def stopped_by_user(result: RunResult, abort: Abort | None = None) -> bool:
    """Stopped early, and not by ``--abort-on-fail``: Ctrl+C, ``x`` or ``q``."""
    return result.stopped and abort is None


def exit_code_for(result: RunResult, abort: Abort | None = None) -> int:
    """0, or why the run does not count as a pass (see :mod:`engine.errors`).

    ``abort``: what ``--abort-on-fail`` stopped the run for (its front end's
    :class:`~engine.outputs.thresholds.AbortGuard` recorded it), else None."""
    if stopped_by_user(result, abort):
        return EXIT_INTERRUPTED
    if abort is not None or not all_passed(run_thresholds(result)):
        return EXIT_THRESHOLDS
    if result.total.success == 0:
        return EXIT_NO_SUCCESS
    if result.verification is not None and not result.verification.ok:
        return EXIT_UNVERIFIED
    return EXIT_OK
