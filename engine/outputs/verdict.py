"""The exit code a finished run ends with, judged from its result alone.

Failures before any load (bad arguments, an unreachable target) are errors
with codes of their own (:mod:`engine.errors`); this is the verdict on a run
that happened. The order is documented in :mod:`engine.errors`.
"""

from __future__ import annotations

from engine.errors import EXIT_INTERRUPTED, EXIT_NO_SUCCESS, EXIT_OK, EXIT_UNVERIFIED
from engine.run.runner import RunResult


def exit_code_for(result: RunResult) -> int:
    """0, or why the run does not count as a pass (see :mod:`engine.errors`)."""
    if result.stopped:
        return EXIT_INTERRUPTED
    if result.total.success == 0:
        return EXIT_NO_SUCCESS
    if result.verification is not None and not result.verification.ok:
        return EXIT_UNVERIFIED
    return EXIT_OK
